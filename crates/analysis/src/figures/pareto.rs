//! Accuracy–energy Pareto front over configurations (model × setting, mean over repeats).

use std::path::Path;

use plotters::prelude::*;

use super::scatter::{emit_scatter, Scatter, Series};
use super::{FigureError, FigureInput, FigureOutcome};
use crate::data;
use crate::groups::config_groups;
use crate::pareto::pareto_front;
use crate::AnalysisError;

/// A configuration's point: label, mean energy (Wh) and accuracy (%), and their 95 % intervals
/// over repeats (none for a single run).
type Point = (String, (f64, f64), (Option<(f64, f64)>, Option<(f64, f64)>));

/// The front as a staircase (the boundary of what is attainable): from each front point
/// across at its accuracy to the next point's energy, then up; after the last point across to
/// `x_end` (spending more attains no more).
fn staircase(front: &[(f64, f64)], x_end: f64) -> Vec<(f64, f64)> {
    let mut v = Vec::new();
    for (i, &(x, y)) in front.iter().enumerate() {
        if i > 0 {
            v.push((x, front[i - 1].1));
        }
        v.push((x, y));
    }
    if let Some(&(x, y)) = front.last() {
        if x_end > x {
            v.push((x_end, y));
        }
    }
    v
}

/// The setting a label names: model, batch size, learning rate (formatted), epochs.
type LabelKey<'a> = (&'a str, usize, &'a str, usize);

/// A label per configuration: `model bB`, then ` lr X` where two configurations share that (a
/// learning-rate sweep), then ` eN` where they still do (a search's rungs).
fn labels(keys: &[LabelKey]) -> Vec<String> {
    let short = |k: &LabelKey| format!("{} b{}", k.0, k.1);
    let with_lr = |k: &LabelKey| format!("{} lr {}", short(k), k.2);
    let count =
        |f: &dyn Fn(&LabelKey) -> String, l: &str| keys.iter().filter(|k| f(k) == l).count();
    keys.iter()
        .map(|k| {
            let s = short(k);
            if count(&short, &s) == 1 {
                return s;
            }
            let l = with_lr(k);
            if count(&with_lr, &l) == 1 {
                l
            } else {
                format!("{l} e{}", k.3)
            }
        })
        .collect()
}

pub(super) fn prepare(input: &FigureInput) -> Result<Scatter, FigureError> {
    let groups = config_groups(input.ctx.runs);
    let source = data::AccuracySource::choose(input.ctx.runs);
    let keys: Vec<LabelKey> = groups
        .iter()
        .map(|g| {
            let c = &g.context;
            (g.model.as_str(), c.batch_size, c.lr.as_str(), c.epochs)
        })
        .collect();
    let names = labels(&keys);
    let pts: Vec<Point> = groups
        .iter()
        .zip(names)
        .filter_map(|(g, name)| {
            let e = g
                .spread(|r| input.ctx.basis.train_j(r))?
                .scaled(data::wh(1.0));
            let a = g.spread(|r| source.of(r))?.scaled(100.0);
            let range = g
                .range(|r| input.ctx.basis.train(r))
                .map(|[l, h]| [data::wh(l), data::wh(h)]);
            (e.mean > 0.0).then(|| (name, (e.mean, a.mean), (e.error_bar(range), a.interval())))
        })
        .collect();
    if pts.len() < 2 {
        return Err(FigureError::TooFewConfigurations { found: pts.len() });
    }
    let pairs: Vec<(f64, f64)> = pts.iter().map(|p| p.1).collect();
    let front = pareto_front(&pairs);
    let fp: Vec<(f64, f64)> = front.iter().map(|&i| pairs[i]).collect();
    let x_end = pairs.iter().map(|p| p.0).fold(0.0, f64::max);
    let repeats = pts.iter().any(|p| p.2 .0.is_some() || p.2 .1.is_some());
    let ranged = groups
        .iter()
        .any(|g| g.range(|r| input.ctx.basis.train(r)).is_some());
    Ok(Scatter {
        title: "Accuracy–energy Pareto front".into(),
        x_label: input.energy_label("training"),
        y_label: format!("{} [%]", source.name()),
        x_log: true,
        series: vec![
            Series {
                color: RGBColor(150, 150, 150),
                marker: super::Marker::Circle,
                x_err: pts.iter().map(|p| p.2 .0).collect(),
                y_err: pts.iter().map(|p| p.2 .1).collect(),
                ..Series::nth(
                    0,
                    if ranged {
                        "configurations (mean; bars: 95 % interval over repeats, else the estimate's range)"
                            .into()
                    } else if repeats {
                        "configurations (mean, 95 % interval over repeats)".into()
                    } else {
                        "configurations".into()
                    },
                    pairs,
                )
            },
            Series {
                line: true,
                thin: true,
                ..Series::nth(3, String::new(), staircase(&fp, x_end))
            },
            Series::nth(3, "Pareto front (line: the best attainable)".into(), fp),
        ],
        notes: front
            .iter()
            .map(|&i| (pts[i].1 .0, pts[i].1 .1, pts[i].0.clone()))
            .collect(),
        ..Default::default()
    })
}

/// Writes `pareto.png|svg`.
pub(crate) fn write(dir: &Path, input: &FigureInput) -> Result<FigureOutcome, AnalysisError> {
    emit_scatter(
        dir,
        input,
        "pareto",
        "Accuracy–energy Pareto front",
        (1100, 750),
        prepare(input),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_is_a_staircase_through_its_points() {
        let front = [(1.0, 80.0), (4.0, 90.0), (9.0, 95.0)];
        assert_eq!(
            staircase(&front, 20.0),
            vec![
                (1.0, 80.0),
                (4.0, 80.0),
                (4.0, 90.0),
                (9.0, 90.0),
                (9.0, 95.0),
                (20.0, 95.0)
            ]
        );
        assert_eq!(staircase(&front[..1], 1.0), vec![(1.0, 80.0)]);
        assert!(staircase(&[], 5.0).is_empty());
    }

    #[test]
    fn a_label_names_the_learning_rate_and_epochs_only_where_it_must() {
        let keys = [
            ("lenet", 32, "0.01", 3),
            ("lenet", 32, "0.1", 3),
            ("lenet", 64, "0.1", 3),
            ("mlp", 32, "0.1", 1),
            ("mlp", 32, "0.1", 3),
        ];
        assert_eq!(
            labels(&keys),
            [
                "lenet b32 lr 0.01",
                "lenet b32 lr 0.1",
                "lenet b64",
                "mlp b32 lr 0.1 e1",
                "mlp b32 lr 0.1 e3",
            ]
        );
    }
}
