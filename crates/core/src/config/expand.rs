//! Expanding a config into run specs: the Cartesian product of the axes in a fixed order,
//! minus `[[exclude]]` tables, times `repeats`.

use std::collections::HashSet;

use super::schema::{axis_values, Point};
use super::{Strategy, SweepConfig};
use crate::spec::RunSpec;

impl SweepConfig {
    /// Expands the grid into run specs in a stable order (dataset, model, batch size, lr,
    /// optimizer, epochs, device, threads, seed, power limit, repeat; each in the order written),
    /// excluded combinations removed.
    ///
    /// From a config's text to the runs a sweep would do:
    ///
    /// ```
    /// use greenbench_core::{AcceptAll, SweepConfig};
    ///
    /// let text = r#"
    /// name = "demo"
    /// dataset = "digits"
    /// epochs = 2
    /// [grid]
    /// model = ["mlp-small", "mlp-64"]
    /// batch_size = [32, 128]
    /// lr = 0.05
    /// [[exclude]]
    /// model = "mlp-64"
    /// batch_size = 128
    /// "#;
    /// let cfg = SweepConfig::parse(text, std::path::Path::new("demo.toml")).unwrap();
    /// cfg.validate(&AcceptAll).unwrap(); // the binary validates against the model zoo
    /// let runs = cfg.expand();
    /// let got: Vec<(&str, usize)> = runs.iter().map(|s| (s.model.as_str(), s.batch_size)).collect();
    /// assert_eq!(got, [("mlp-small", 32), ("mlp-small", 128), ("mlp-64", 32)]);
    /// assert!(runs.iter().all(|s| s.epochs == 2 && s.run_id().len() == 12));
    /// ```
    ///
    /// A `[search]` table changes which runs start the sweep: a random search draws `samples` of
    /// them, a halving search starts every configuration at `min_epochs` (its later rungs are
    /// decided from the records, see [`crate::search`]).
    ///
    /// The runs come in the config's `order` (see [`crate::RunOrder`]): with the default
    /// `interleaved`, every configuration's first repeat before any second repeat.
    pub fn expand(&self) -> Vec<RunSpec> {
        let seed = self.seed.value.first().copied().unwrap_or(0).max(0) as u64;
        super::order::arrange(self.expand_in_grid_order(), self.order.value, seed)
    }

    /// The runs of [`SweepConfig::expand`] in expansion order, whatever the config's `order`.
    fn expand_in_grid_order(&self) -> Vec<RunSpec> {
        let grid = self.grid_runs();
        let s = &self.search;
        match s.strategy {
            Strategy::Grid => grid,
            Strategy::Random => {
                crate::search::sample(grid, s.samples.unwrap_or(0), s.seed, s.lr_range)
            }
            Strategy::Halving => {
                let last = s.rung_epochs().last().copied();
                let eta = s.eta.max(2) as f64;
                let n = grid.len();
                (0..s.bracket_count())
                    .flat_map(|b| {
                        let start = s.bracket_rungs(b).first().copied();
                        let share = (n as f64 / eta.powi(b as i32)).ceil() as usize;
                        let members = if b == 0 {
                            grid.clone()
                        } else {
                            crate::search::sample(grid.clone(), share, s.seed ^ b as u64, None)
                        };
                        members.into_iter().map(move |mut spec| {
                            spec.epochs = start.unwrap_or(spec.epochs);
                            spec.schedule_epochs = last.filter(|&l| l > spec.epochs);
                            spec
                        })
                    })
                    .collect()
            }
        }
    }

    /// Whether `spec` is a run of this sweep: one of [`SweepConfig::expand`]'s (`first_stage`
    /// holds their run ids), or, in a halving search, a later rung of one of them.
    pub fn is_run_of(&self, spec: &RunSpec, first_stage: &HashSet<String>) -> bool {
        if first_stage.contains(&spec.run_id()) {
            return true;
        }
        let rungs = self.search.rung_epochs();
        if spec.continues.is_none() || !rungs.contains(&spec.epochs) {
            return false;
        }
        let last = rungs.last().copied();
        (0..self.search.bracket_count()).any(|b| {
            let mut base = spec.clone();
            base.epochs = rungs[b];
            base.continues = None;
            base.schedule_epochs = last.filter(|&l| l > rungs[b]);
            base.epochs < spec.epochs && first_stage.contains(&base.run_id())
        })
    }

    /// Every configuration of the grid (the axes' product minus excludes, times repeats), each
    /// at its learning rate (`lr_scaling` applied after the excludes, which match the `lr`
    /// written in the grid).
    fn grid_runs(&self) -> Vec<RunSpec> {
        self.grid_points()
            .map(|(_, spec)| spec)
            .filter(|spec| !self.excluded(spec))
            .map(|spec| self.scaled(spec))
            .collect()
    }

    /// `spec` at the learning rate `lr_scaling` gives its batch size (unchanged without it).
    fn scaled(&self, spec: RunSpec) -> RunSpec {
        match &self.lr_scaling {
            Some(s) => s.value.apply(spec),
            None => spec,
        }
    }

    /// Every point of the axes' product times repeats, excludes not applied, with its run, in
    /// expansion order (the outermost axis first, the repeat last). The run's `lr` is the
    /// grid's, before `lr_scaling`; a workload's `{lr}` is the scaled rate the run trains with.
    pub(super) fn grid_points(&self) -> impl Iterator<Item = (Point, RunSpec)> + '_ {
        let axes = self.axes_in_order();
        let free = self
            .workload
            .as_ref()
            .map(|w| w.free_axes())
            .unwrap_or_default();
        let mut lens: Vec<usize> = axes.iter().map(|a| a.points).collect();
        lens.extend(free.iter().map(|(_, v)| v.len()));
        lens.push(self.repeats.value.max(1) as usize);
        odometer(lens).map(move |walk| {
            let mut p = Point::default();
            for (a, &i) in axes.iter().zip(&walk) {
                (a.set)(&mut p, i);
            }
            p.repeat = walk.last().copied().unwrap_or(0);
            let mut spec = self.spec_at(&p);
            if let Some(w) = &self.workload {
                let at: Vec<(String, toml::Value)> = free
                    .iter()
                    .zip(&walk[axes.len()..])
                    .map(|((name, values), &i)| (name.clone(), values[i].clone()))
                    .collect();
                spec.workload = Some(w.resolve(&self.scaled(spec.clone()), &at));
            }
            (p, spec)
        })
    }

    /// The grid's size before excludes: the product of every axis's points and the repeats.
    pub(crate) fn grid_size(&self) -> u128 {
        self.axes_in_order()
            .iter()
            .map(|a| a.points)
            .chain(
                self.workload
                    .iter()
                    .flat_map(|w| w.axes.values().map(|v| v.0.len())),
            )
            .chain([self.repeats.value.max(1) as usize])
            .fold(1u128, |n, l| n.saturating_mul(l as u128))
    }

    /// Whether an `[[exclude]]` table matches `s`: every axis it names has the value it gives.
    fn excluded(&self, s: &RunSpec) -> bool {
        if self.exclude.is_empty() {
            return false;
        }
        let values = axis_values(s);
        self.exclude
            .iter()
            .any(|(t, _)| !t.is_empty() && t.iter().all(|(k, v)| has_value(&values, k, v)))
    }

    /// A canonical JSON form of everything that determines the runs (for "same config" checks
    /// on resume and merge): the expanded run ids and the sweep name. The ids are listed in
    /// expansion order whatever the config's `order`, so a folder keeps its fingerprint (and
    /// folders written before `order` existed keep theirs).
    pub fn fingerprint(&self) -> String {
        let ids: Vec<String> = self
            .expand_in_grid_order()
            .iter()
            .map(RunSpec::run_id)
            .collect();
        serde_json::json!({ "name": self.name, "runs": ids }).to_string()
    }
}

/// Every index tuple below `lens`, in lexicographic order (the last position varies fastest):
/// the Cartesian product of the axes as nested loops would walk it. Empty if any axis is empty.
fn odometer(lens: Vec<usize>) -> impl Iterator<Item = Vec<usize>> {
    let mut next = (!lens.contains(&0)).then(|| vec![0; lens.len()]);
    std::iter::from_fn(move || {
        let current = next.take()?;
        let mut n = current.clone();
        for k in (0..lens.len()).rev() {
            n[k] += 1;
            if n[k] < lens[k] {
                next = Some(n);
                break;
            }
            n[k] = 0;
        }
        Some(current)
    })
}

/// Whether a run (its [`axis_values`]) has the value `v` an `[[exclude]]` table gives for axis
/// `key` (an axis that is not set, like `power_limit_w` by default, has no value).
pub(super) fn has_value(
    values: &[(&'static str, serde_json::Value)],
    key: &str,
    v: &toml::Value,
) -> bool {
    values.iter().any(|(a, w)| *a == key && same(w, v))
}

/// Whether a spec's value (JSON) is the value an `[[exclude]]` table gives (TOML): equal text,
/// or numbers equal up to rounding (`lr = 1e-3` matches 0.001).
fn same(spec: &serde_json::Value, excluded: &toml::Value) -> bool {
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * x.abs().max(1.0);
    match (spec, excluded) {
        (serde_json::Value::String(a), toml::Value::String(b)) => a == b,
        (serde_json::Value::Number(a), toml::Value::Integer(b)) => {
            a.as_f64().is_some_and(|a| close(a, *b as f64))
        }
        (serde_json::Value::Number(a), toml::Value::Float(b)) => {
            a.as_f64().is_some_and(|a| close(a, *b))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odometer_walks_the_product_like_nested_loops() {
        let got: Vec<Vec<usize>> = odometer(vec![2, 1, 3]).collect();
        let mut want = Vec::new();
        for a in 0..2 {
            for b in 0..1 {
                for c in 0..3 {
                    want.push(vec![a, b, c]);
                }
            }
        }
        assert_eq!(got, want);
        assert_eq!(odometer(vec![2, 0, 3]).count(), 0);
    }

    #[test]
    fn excludes_match_text_integers_floats_and_unset_axes() {
        let text = r#"
name = "x"
dataset = "digits"
optimizer = ["sgd", "adamw"]
[grid]
model = ["a", "b"]
batch_size = [32, 64]
lr = [0.001, 0.01]
[[exclude]]
model = "a"
lr = 1e-3
[[exclude]]
batch_size = 64.0
optimizer = "adamw"
[[exclude]]
power_limit_w = 100
"#;
        let cfg = SweepConfig::parse(text, std::path::Path::new("x.toml")).unwrap();
        let runs = cfg.expand();
        // 16 combinations; a·0.001 drops 4, 64·adamw drops 4 (one of them already gone); the
        // power limit is not set, so its table matches nothing.
        assert_eq!(runs.len(), 16 - 4 - 4 + 1);
        assert!(!runs.iter().any(|s| s.model == "a" && s.lr == 0.001));
        assert!(!runs
            .iter()
            .any(|s| s.batch_size == 64 && s.optimizer == crate::Optimizer::AdamW));
    }
}
