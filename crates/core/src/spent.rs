//! What the records of a sweep spent — the sums a `[search] budget` is counted against and the
//! report's search section prints: raw training and inference energy, wall time, emissions.
//! One definition, so the budget that stops a sweep and the report that accounts for it agree;
//! likewise the training energy a configuration spent over its halving rungs, which the runner
//! ranks rung candidates by and the report's search section prints.

use crate::record::{RunRecord, RunStatus};

/// Training, inference, wall time and emissions of a set of records.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spent {
    /// Raw training energy, J (records without a figure add nothing).
    pub train_j: f64,
    /// Raw inference energy, J.
    pub inference_j: f64,
    /// Wall time, start to end of each record, s.
    pub seconds: f64,
    /// Emissions, g CO₂e.
    pub co2_g: f64,
}

impl Spent {
    /// Sums `records`: raw energy where a record has a training figure (see
    /// [`RunRecord::raw_energy_j`]), wall time where its times parse, grams where it has them.
    pub fn of<'a>(records: impl IntoIterator<Item = &'a RunRecord>) -> Spent {
        let mut s = Spent::default();
        for r in records {
            s.add(r);
        }
        s
    }

    /// Adds one record.
    pub fn add(&mut self, r: &RunRecord) {
        if let Some((train, inference)) = r.raw_energy_j() {
            self.train_j += train;
            self.inference_j += inference;
        }
        self.seconds += r.wall_s().unwrap_or(0.0).max(0.0);
        self.co2_g += r.co2_g().unwrap_or(0.0);
    }

    /// Training plus inference, J.
    pub fn total_j(&self) -> f64 {
        self.train_j + self.inference_j
    }
}

/// Raw training energy one configuration spent over the halving rungs in `chain` (its runs,
/// first rung first), J. A run that neither trained nor ended ok (refused by a budget, failed
/// before training) adds nothing; `None` when a run that trained has no finite figure.
pub fn configuration_train_j(chain: &[&RunRecord]) -> Option<f64> {
    chain
        .iter()
        .filter(|r| r.train.is_some() || r.status == RunStatus::Ok)
        .map(|r| r.train.as_ref()?.energy.total_j.filter(|j| j.is_finite()))
        .sum()
}

/// The runs of `rec`'s configuration up to and including `rec`, first rung first: the runs it
/// continues, found by run id with `find`; `None` when one of them has no record.
pub fn rungs_up_to<'a>(
    rec: &'a RunRecord,
    find: impl Fn(&str) -> Option<&'a RunRecord>,
) -> Option<Vec<&'a RunRecord>> {
    let mut chain = vec![rec];
    while let Some(c) = chain[chain.len() - 1].spec.continues.as_ref() {
        if chain.iter().any(|r| r.run_id == c.run_id) {
            break; // a hand-edited folder whose runs continue each other in a circle
        }
        chain.push(find(&c.run_id)?);
    }
    chain.reverse();
    Some(chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{InferenceRecord, TrainRecord};

    #[test]
    fn sums_raw_energy_wall_time_and_grams_of_every_record() {
        let spec: crate::RunSpec = serde_json::from_str(
            r#"{"model":"mlp-small","dataset":"digits","batch_size":8,"lr":0.1,"optimizer":"sgd","momentum":0.9,"weight_decay":0.0,"schedule":"cosine","epochs":1,"device":"cpu","threads":1,"seed":0,"repeat":0,"precision":"f32","warmup_batches":0,"replicate_test":1}"#,
        )
        .unwrap();
        let mut a = RunRecord::new("s", spec.clone());
        a.started_at = "2026-01-01T00:00:00Z".into();
        a.finished_at = "2026-01-01T00:00:10Z".into();
        let mut t = TrainRecord::default();
        t.energy.total_j = Some(30.0);
        a.train = Some(t);
        let mut i = InferenceRecord::default();
        i.energy.total_j = Some(2.0);
        a.inference = Some(i);
        a.carbon_g.train = Some(0.5);
        // A record without times or energy (a run that could not start) adds nothing.
        let b = RunRecord::new("s", spec);
        let s = Spent::of([&a, &b]);
        assert_eq!(
            (s.train_j, s.inference_j, s.seconds, s.co2_g),
            (30.0, 2.0, 10.0, 0.5)
        );
        assert_eq!(s.total_j(), 32.0);
    }

    fn trained(id: &str, continues: Option<&str>, j: Option<f64>) -> RunRecord {
        let mut spec: crate::RunSpec = serde_json::from_str(
            r#"{"model":"mlp-small","dataset":"digits","batch_size":8,"lr":0.1,"optimizer":"sgd","momentum":0.9,"weight_decay":0.0,"schedule":"cosine","epochs":1,"device":"cpu","threads":1,"seed":0,"repeat":0,"precision":"f32","warmup_batches":0,"replicate_test":1}"#,
        )
        .unwrap();
        spec.continues = continues.map(|c| crate::Continuation {
            run_id: c.into(),
            epochs: 1,
        });
        let mut r = RunRecord::new("s", spec);
        r.run_id = id.into();
        r.status = RunStatus::Ok;
        let mut t = TrainRecord::default();
        t.energy.total_j = j;
        r.train = Some(t);
        r
    }

    #[test]
    fn a_configuration_is_charged_every_rung_it_ran() {
        let a = trained("a", None, Some(10.0));
        let b = trained("b", Some("a"), Some(20.0));
        let mut c = trained("c", Some("b"), None);
        let find = |id: &str| [&a, &b, &c].into_iter().find(|r| r.run_id == id);
        let chain = rungs_up_to(&b, find).unwrap();
        assert_eq!(
            chain.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(configuration_train_j(&chain), Some(30.0));
        // A rung that trained without a figure leaves the sum unknown, not short.
        assert_eq!(configuration_train_j(&[&a, &b, &c]), None);
        // A rung refused by a budget (no training, not ok) adds nothing.
        c.train = None;
        c.status = RunStatus::Skipped;
        assert_eq!(configuration_train_j(&[&a, &b, &c]), Some(30.0));
        // A run whose earlier rung has no record has no chain.
        assert!(rungs_up_to(&b, |_| None).is_none());
    }
}
