//! The `[search]` table: how much of the grid a sweep runs (all of it, a random sample, or
//! successive halving with epochs as the resource), what "best" means, and the budget it stops at.

use serde::{Deserialize, Serialize};

pub use crate::search::Objective;

use super::{PendingError, SweepConfig};

/// Which configurations of the grid a sweep trains, and how far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Every configuration, to its `epochs` (the default).
    #[default]
    Grid,
    /// `samples` configurations drawn from the grid (lr log-uniform within `lr_range` if given).
    Random,
    /// Successive halving: every configuration for `min_epochs`, then the best `1/eta` continued
    /// from their checkpoints to `eta` times the epochs, and so on up to `max_epochs`.
    Halving,
}

/// Limits a sweep stops at; each is optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Energy of training plus inference of every run, kWh.
    pub energy_kwh: Option<f64>,
    /// Wall time of the runs, hours.
    pub hours: Option<f64>,
    /// Emissions of every run, grams CO₂e.
    pub co2_g: Option<f64>,
}

impl Budget {
    /// Whether any limit is set.
    pub fn is_set(&self) -> bool {
        self.energy_kwh.is_some() || self.hours.is_some() || self.co2_g.is_some()
    }
}

/// The `[search]` table as written (every key optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// `grid`, `random` or `halving`.
    #[serde(default)]
    pub strategy: Strategy,
    /// `accuracy`, `accuracy_per_joule` or `pareto`.
    #[serde(default)]
    pub objective: Objective,
    /// Random search: configurations to draw.
    pub samples: Option<usize>,
    /// Random search: draw each configuration's lr log-uniformly between these bounds.
    pub lr_range: Option<[f64; 2]>,
    /// Random search: which draw (the same seed gives the same configurations).
    #[serde(default)]
    pub seed: u64,
    /// Halving: keep the best `1/eta` at each rung (and multiply the epochs by `eta`).
    #[serde(default = "default_eta")]
    pub eta: usize,
    /// Halving: epochs of the first rung.
    #[serde(default = "default_min_epochs")]
    pub min_epochs: usize,
    /// Halving: epochs of the last rung.
    pub max_epochs: Option<usize>,
    /// Halving: Hyperband brackets. Bracket `b` starts at the `b`-th rung's epochs with the
    /// best-balanced share of the grid (all of it for bracket 0, `⌈n / eta^b⌉` drawn with `seed`
    /// for the others) and halves from there; the choice is the best of every bracket's last rung.
    #[serde(default = "default_brackets")]
    pub brackets: usize,
    /// Limits the sweep stops at.
    #[serde(default)]
    pub budget: Budget,
}

fn default_eta() -> usize {
    3
}
fn default_min_epochs() -> usize {
    1
}
fn default_brackets() -> usize {
    1
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            strategy: Strategy::Grid,
            objective: Objective::Accuracy,
            samples: None,
            lr_range: None,
            seed: 0,
            eta: default_eta(),
            min_epochs: default_min_epochs(),
            max_epochs: None,
            brackets: default_brackets(),
            budget: Budget::default(),
        }
    }
}

impl SearchConfig {
    /// The rungs of bracket `b` of a halving search: the rungs of [`Self::rung_epochs`] from the
    /// `b`-th on (empty past the last).
    pub fn bracket_rungs(&self, b: usize) -> Vec<usize> {
        self.rung_epochs().into_iter().skip(b).collect()
    }

    /// Brackets a halving search runs (1 for plain successive halving).
    pub fn bracket_count(&self) -> usize {
        self.brackets.clamp(1, self.rung_epochs().len().max(1))
    }

    /// Epochs of each rung of a halving search: `min_epochs × eta^r`, the last one `max_epochs`.
    /// One rung (`epochs` as written) for the other strategies.
    pub fn rung_epochs(&self) -> Vec<usize> {
        let Some(max) = self
            .max_epochs
            .filter(|_| self.strategy == Strategy::Halving)
        else {
            return Vec::new();
        };
        let mut v = vec![self.min_epochs.max(1).min(max)];
        while let Some(&last) = v.last() {
            if last >= max {
                break;
            }
            v.push(last.saturating_mul(self.eta.max(2)).min(max));
        }
        v
    }
}

impl SweepConfig {
    /// Problems of the `[search]` table: keys of another strategy, missing or out-of-range
    /// values, an `epochs` axis beside a halving search (whose resource epochs are).
    pub(super) fn search_problems(&self, errs: &mut Vec<PendingError>) {
        let s = &self.search;
        let mut found = Vec::new();
        self.sampling_problems(&mut found);
        if s.strategy == Strategy::Halving {
            self.halving_problems(&mut found);
        } else if s.max_epochs.is_some() || s.brackets != 1 {
            found.push((
                "max_epochs".into(),
                "`max_epochs` and `brackets` are keys of a halving search".into(),
                "set strategy = \"halving\", or remove them",
            ));
        }
        for (name, v) in [
            ("energy_kwh", s.budget.energy_kwh),
            ("hours", s.budget.hours),
            ("co2_g", s.budget.co2_g),
        ] {
            if let Some(v) = v.filter(|v| !(v.is_finite() && *v > 0.0)) {
                found.push((
                    format!("budget.{name}"),
                    format!("budget.{name} = {v} is not a positive number"),
                    "give a positive limit, or leave the key out",
                ));
            }
        }
        for (field, message, hint) in found {
            errs.push((
                format!("search.{field}"),
                self.search_span.clone(),
                message,
                Some(hint.to_string()),
            ));
        }
    }

    /// A random search's `samples` and `lr_range`, and those keys given to another strategy.
    fn sampling_problems(&self, found: &mut Vec<Problem>) {
        let s = &self.search;
        let random = s.strategy == Strategy::Random;
        if random && s.samples.is_none_or(|n| n == 0) {
            found.push((
                "samples".into(),
                "a random search needs `samples` ≥ 1".into(),
                "e.g. samples = 8",
            ));
        }
        if !random && (s.samples.is_some() || s.lr_range.is_some()) {
            found.push((
                "samples".into(),
                "`samples` and `lr_range` are keys of a random search".into(),
                "set strategy = \"random\", or remove them",
            ));
        }
        if let Some([lo, hi]) = s.lr_range {
            if !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo < hi) {
                found.push((
                    "lr_range".into(),
                    format!("lr_range = [{lo}, {hi}] is not 0 < low < high"),
                    "e.g. lr_range = [0.001, 0.1]",
                ));
            }
        }
    }

    /// A halving search's epochs, eta and brackets, and what it needs of the rest of the config
    /// (no `epochs` axis, a validation split to promote on).
    fn halving_problems(&self, found: &mut Vec<Problem>) {
        let s = &self.search;
        match s.max_epochs {
            None => found.push((
                "max_epochs".into(),
                "a halving search needs `max_epochs`".into(),
                "e.g. max_epochs = 9 with min_epochs = 1 and eta = 3",
            )),
            Some(max) if max < s.min_epochs.max(1) => found.push((
                "max_epochs".into(),
                format!("max_epochs = {max} is below min_epochs = {}", s.min_epochs),
                "give max_epochs ≥ min_epochs",
            )),
            Some(_) => {}
        }
        if s.min_epochs == 0 || s.eta < 2 {
            found.push((
                "eta".into(),
                format!(
                    "eta = {} and min_epochs = {} must be at least 2 and 1",
                    s.eta, s.min_epochs
                ),
                "e.g. eta = 3, min_epochs = 1",
            ));
        }
        let rungs = s.rung_epochs().len();
        if s.brackets == 0 || (rungs > 0 && s.brackets > rungs) {
            found.push((
                "brackets".into(),
                format!("brackets = {} with {rungs} rung(s): give 1 to {rungs}", s.brackets),
                "bracket b starts at the b-th rung's epochs, so there are at most as many brackets as rungs",
            ));
        }
        if self.epochs.span.is_some() {
            found.push((
                "strategy".into(),
                "a halving search sets each run's epochs itself (min_epochs … max_epochs): an `epochs` axis cannot be given beside it".into(),
                "remove `epochs`; use [search] min_epochs and max_epochs",
            ));
        }
        let none_held = self
            .dataset
            .value
            .iter()
            .filter(|d| d.validation_fraction().is_none())
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>();
        if !none_held.is_empty() {
            found.push((
                "strategy".into(),
                format!(
                    "a halving search promotes on validation accuracy, but {} holds nothing out (validation = 0)",
                    none_held.join(", ")
                ),
                "give the dataset a validation fraction, e.g. validation = 0.1 (the default)",
            ));
        }
    }
}

/// A problem of the `[search]` table: the key under `search.`, what is wrong, what to do.
type Problem = (String, String, &'static str);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rungs_multiply_by_eta_and_end_at_max_epochs() {
        let s = |min, max, eta| SearchConfig {
            strategy: Strategy::Halving,
            min_epochs: min,
            max_epochs: Some(max),
            eta,
            ..SearchConfig::default()
        };
        assert_eq!(s(1, 9, 3).rung_epochs(), vec![1, 3, 9]);
        assert_eq!(s(1, 10, 3).rung_epochs(), vec![1, 3, 9, 10]);
        assert_eq!(s(2, 8, 2).rung_epochs(), vec![2, 4, 8]);
        assert_eq!(s(4, 4, 3).rung_epochs(), vec![4]);
        assert!(SearchConfig::default().rung_epochs().is_empty());
    }
}
