//! A dataset table's sizes against the dataset's splits, as far as the catalog knows them without
//! loading anything: a `subset` or `test_subset` larger than its split (which would silently be
//! the whole split while the report states the number asked for), and a `validation` fraction
//! that holds out fewer samples than there are classes (no validation accuracy to choose on).

use super::bounds::Pending;
use super::{DatasetChoice, SweepConfig};
use crate::catalog::Catalog;
use crate::compact_number::compact_number as show;

/// Samples of `kept` held out by the validation fraction `v`, rounded as the data crate rounds
/// (the fraction in millionths, then the nearest whole sample).
pub(crate) fn held_out(kept: usize, v: f64) -> usize {
    let per_million = (v.clamp(0.0, 1.0) * 1e6).round() as usize;
    (kept.saturating_mul(per_million) + 500_000) / 1_000_000
}

/// The smallest fraction, with two significant digits, that holds out `need` of `kept` samples.
fn fraction_for(need: usize, kept: usize) -> f64 {
    let exact = need as f64 / kept.max(1) as f64;
    let scale = 10f64.powi(1 - exact.log10().floor() as i32);
    let mut v = (exact * scale).ceil() / scale;
    while held_out(kept, v) < need && v < 1.0 {
        v += 1.0 / scale;
    }
    v
}

impl SweepConfig {
    /// Pushes an error for each dataset table whose `subset`, `test_subset` or `validation` does
    /// not fit the dataset, located at the dataset axis and naming the split's real size.
    pub(crate) fn check_dataset_sizes(&self, catalog: &dyn Catalog, errs: &mut Vec<Pending>) {
        for d in &self.dataset.value {
            let sizes = catalog.dataset_sizes(&d.name);
            let Some(train) = sizes.map(|s| s.train).or(catalog.train_samples(&d.name)) else {
                continue;
            };
            let mut at = |key: &str, message: String, hint: String| {
                errs.push((
                    format!("{}.{key}", self.dataset.field),
                    self.dataset.span.clone(),
                    message,
                    Some(hint),
                ))
            };
            if let Some(n) = d.subset.filter(|&n| n > train) {
                at(
                    "subset",
                    format!(
                        "subset = {n} is larger than the {train} training samples of `{}`",
                        d.name
                    ),
                    format!("give at most {train}, or leave `subset` out to train on all of them"),
                );
            }
            let test = sizes.map(|s| s.test);
            if let (Some(n), Some(test)) = (d.test_subset, test) {
                if n > test {
                    at(
                        "test_subset",
                        format!(
                            "test_subset = {n} is larger than the {test} test samples of `{}`",
                            d.name
                        ),
                        format!(
                            "give at most {test}, or leave `test_subset` out for the whole test split"
                        ),
                    );
                }
            }
            let classes = sizes.and_then(|s| s.classes);
            if let Some((message, hint)) = validation_problem(d, train, classes) {
                at("validation", message, hint);
            }
        }
    }
}

/// What is wrong with `d`'s validation fraction on a training split of `train` samples with
/// `classes` classes (`None`: text, or not known), and what to give instead.
fn validation_problem(
    d: &DatasetChoice,
    train: usize,
    classes: Option<usize>,
) -> Option<(String, String)> {
    let v = d.validation_fraction()?;
    if !(0.0..1.0).contains(&v) {
        return None; // refused with the other fraction checks
    }
    let kept = d.subset.map_or(train, |s| s.min(train));
    let held = held_out(kept, v);
    let need = classes.unwrap_or(1);
    if held >= need {
        return None;
    }
    let of = format!(
        "validation = {} holds out {held} of the {kept} training samples of `{}`",
        show(v),
        d.name
    );
    let message = match classes {
        Some(c) => format!(
            "{of}, fewer than one per class ({c} classes): per-epoch accuracy and a search's \
             choices need a held-out sample of every class"
        ),
        None => format!("{of}: there would be no validation accuracy to measure or choose on"),
    };
    let fix = if need >= kept {
        format!(
            "a {kept}-sample training set cannot hold out {need}: give a larger `subset`, or \
             validation = 0 to hold nothing out (no per-epoch accuracy, no halving search)"
        )
    } else {
        format!(
            "give validation ≥ {} ({need} samples), or validation = 0 to hold nothing out (no \
             per-epoch accuracy, no halving search)",
            show(fraction_for(need, kept))
        )
    };
    Some((message, fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_out_rounds_like_the_data_crate() {
        assert_eq!(held_out(1438, 0.1), 144);
        assert_eq!(held_out(1438, 0.00001), 0);
        assert_eq!(held_out(1438, 0.007), 10);
        assert_eq!(held_out(50, 0.1), 5);
        assert_eq!(held_out(10, 0.95), 10);
    }

    #[test]
    fn the_suggested_fraction_holds_out_enough() {
        for (need, kept) in [(10, 1438), (10, 50), (1, 16_669), (10, 11), (81, 60_000)] {
            let v = fraction_for(need, kept);
            assert!(held_out(kept, v) >= need, "{need} of {kept}: {v}");
            assert!(v < 1.0, "{need} of {kept}: {v}");
        }
        assert_eq!(fraction_for(10, 1438), 0.007);
    }
}
