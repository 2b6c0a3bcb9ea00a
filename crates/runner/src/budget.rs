//! A sweep's budget (`[search] budget`): what its records have spent, and whether a run's upper
//! prediction still fits what is left. Everything is read from the records, so a resumed sweep
//! makes the same decisions.

use greenbench_core::RunRecord;
use greenbench_core::{Budget, Catalog, Spent};

/// The planner's predictions are good to about ±50 % (what `--dry-run` says): a run is started
/// only if this multiple of its (calibrated) prediction fits what is left.
pub const UPPER_FACTOR: f64 = 1.5;

/// What the recorded runs of a sweep have spent (core's [`Spent`], the one definition the report
/// shares), and what they say about the next run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Forecast {
    /// What every record spent.
    pub spent: Spent,
    /// Actual ÷ predicted wall time over the records that have both (1 when none has).
    pub time_ratio: f64,
    /// Mean power of the records (energy ÷ wall time), watts, once a record has both.
    pub watts: Option<f64>,
    /// Grams CO₂e per joule of the records, once a record has both.
    pub g_per_j: Option<f64>,
}

impl Forecast {
    /// Sums `records`; `catalog` predicts their durations for the calibration ratio.
    pub fn of<'a>(
        records: impl IntoIterator<Item = &'a RunRecord>,
        catalog: &dyn Catalog,
    ) -> Forecast {
        let mut spent = Spent::default();
        let (mut actual, mut predicted, mut metered_s, mut metered_j) = (0.0, 0.0, 0.0, 0.0);
        let mut carbon_j = 0.0;
        for r in records {
            spent.add(r);
            let wall = r.wall_s().unwrap_or(0.0).max(0.0);
            if let Some(j) = r.raw_energy_j().map(|(t, i)| t + i) {
                metered_s += wall;
                metered_j += j;
                if r.co2_g().unwrap_or(0.0) > 0.0 {
                    carbon_j += j;
                }
            }
            if let Some(p) = catalog.run_seconds(&r.spec).filter(|_| wall > 0.0) {
                actual += wall;
                predicted += p;
            }
        }
        Forecast {
            time_ratio: if predicted > 0.0 {
                actual / predicted
            } else {
                1.0
            },
            watts: (metered_s > 0.0 && metered_j > 0.0).then(|| metered_j / metered_s),
            g_per_j: (carbon_j > 0.0).then(|| spent.co2_g / carbon_j),
            spent,
        }
    }
}

impl Forecast {
    /// These figures, with `watts` and `g_per_j` standing in for the records' own while no
    /// record has them (before the first run): the first run of a sweep is predicted too.
    pub fn or_prior(mut self, watts: Option<f64>, g_per_j: Option<f64>) -> Forecast {
        self.watts = self.watts.or(watts.filter(|w| w.is_finite() && *w > 0.0));
        self.g_per_j = self
            .g_per_j
            .or(g_per_j.filter(|g| g.is_finite() && *g > 0.0));
        self
    }
}

/// An amount for a budget message: four decimals where that shows it, else three significant
/// digits in scientific notation (3.6 µJ is `3.600e-6`, not `0.0000`).
fn amount(v: f64) -> String {
    if v == 0.0 || (1e-2..1e9).contains(&v.abs()) {
        format!("{v:.4}")
    } else {
        format!("{v:.3e}")
    }
}

/// Why a run predicted to take `predicted_s` (uncalibrated planner seconds) must not start, or
/// `None` when it fits: a limit already spent, or an upper prediction (calibrated by the records
/// and multiplied by [`UPPER_FACTOR`]) beyond what is left. A run whose time is unknown is
/// refused only by a limit already spent.
pub fn refusal(budget: &Budget, spent: &Forecast, predicted_s: Option<f64>) -> Option<String> {
    let upper_s = predicted_s.map(|p| p * spent.time_ratio * UPPER_FACTOR);
    let upper_j = upper_s.zip(spent.watts).map(|(s, w)| s * w);
    let upper_g = upper_j.zip(spent.g_per_j).map(|(j, g)| j * g);
    let limits = [
        (
            "hours",
            budget.hours.map(|h| h * 3600.0),
            spent.spent.seconds,
            upper_s,
            "s",
        ),
        (
            "energy_kwh",
            budget.energy_kwh.map(|k| k * 3.6e6),
            spent.spent.total_j(),
            upper_j,
            "J",
        ),
        ("co2_g", budget.co2_g, spent.spent.co2_g, upper_g, "g CO₂e"),
    ];
    for (name, limit, used, upper, unit) in limits {
        let Some(limit) = limit else { continue };
        let left = limit - used;
        if left <= 0.0 {
            return Some(format!(
                "budget: {name} is spent ({} of {} {unit})",
                amount(used),
                amount(limit)
            ));
        }
        if let Some(u) = upper.filter(|&u| u > left) {
            return Some(format!(
                "budget: {name} would be exceeded (this run's upper prediction {} {unit} > {} {unit} left of {})",
                amount(u),
                amount(left),
                amount(limit)
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spent() -> Forecast {
        Forecast {
            spent: Spent {
                train_j: 3.0e6,
                inference_j: 0.0,
                seconds: 1800.0,
                co2_g: 400.0,
            },
            time_ratio: 2.0,
            watts: Some(100.0),
            g_per_j: Some(1e-4),
        }
    }

    #[test]
    fn a_run_starts_only_if_its_upper_prediction_fits() {
        let hours = Budget {
            hours: Some(1.0),
            ..Budget::default()
        };
        // 1800 s left; 500 s predicted → 500 × 2 (calibration) × 1.5 = 1500 s: fits.
        assert_eq!(refusal(&hours, &spent(), Some(500.0)), None);
        // 700 s → 2100 s upper: refused, with the numbers.
        let why = refusal(&hours, &spent(), Some(700.0)).unwrap();
        assert!(why.starts_with("budget: hours would be exceeded"), "{why}");
        assert!(why.contains("2100") && why.contains("1800"), "{why}");
        let energy = Budget {
            energy_kwh: Some(1.0),
            ..Budget::default()
        };
        // 0.6 MJ left; 1000 s predicted → 3000 s × 100 W = 0.3 MJ: fits; 3000 s → 0.9 MJ: not.
        assert_eq!(refusal(&energy, &spent(), Some(1000.0)), None);
        assert!(refusal(&energy, &spent(), Some(3000.0)).is_some());
        let co2 = Budget {
            co2_g: Some(400.0),
            ..Budget::default()
        };
        let why = refusal(&co2, &spent(), None).unwrap();
        assert!(why.starts_with("budget: co2_g is spent"), "{why}");
        assert_eq!(refusal(&Budget::default(), &spent(), Some(1e9)), None);
    }

    #[test]
    fn the_first_run_is_predicted_from_the_prior_power_and_tiny_limits_are_printed() {
        let tiny = Budget {
            energy_kwh: Some(1e-12),
            ..Budget::default()
        };
        let nothing_yet = Forecast {
            time_ratio: 1.0,
            ..Forecast::default()
        };
        // No record yet: without a prior the run cannot be predicted, so it would start.
        assert_eq!(refusal(&tiny, &nothing_yet, Some(2.0)), None);
        // With the meter's figure (29 W), 2 s × 1.5 × 29 W = 87 J > 3.6 µJ: refused.
        let why = refusal(
            &tiny,
            &nothing_yet.clone().or_prior(Some(29.0), None),
            Some(2.0),
        )
        .unwrap();
        assert!(
            why.contains("87.0000 J > 3.600e-6 J left of 3.600e-6"),
            "{why}"
        );
        // The records' own figures win over the prior once they exist.
        assert_eq!(spent().or_prior(Some(1.0), Some(1.0)).watts, Some(100.0));
        let co2 = Budget {
            co2_g: Some(1e-3),
            ..Budget::default()
        };
        let prior = nothing_yet.or_prior(Some(29.0), Some(400.0 / 3.6e6));
        assert!(refusal(&co2, &prior, Some(2.0)).is_some());
    }

    #[test]
    fn an_unknown_duration_is_refused_only_by_a_spent_limit() {
        let hours = Budget {
            hours: Some(1.0),
            ..Budget::default()
        };
        assert_eq!(refusal(&hours, &spent(), None), None);
        let mut done = spent();
        done.spent.seconds = 3600.0;
        assert!(refusal(&hours, &done, None).is_some());
    }
}
