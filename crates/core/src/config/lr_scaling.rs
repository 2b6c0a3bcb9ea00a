//! `lr_scaling`: the learning rate of each run scaled with its batch size, so a batch-size sweep
//! can keep the step size per sample comparable (Goyal et al. 2017's linear rule, or the square
//! root rule of Krizhevsky 2014 / Hoffer et al. 2017). The grid's `lr` is the rate at
//! `reference_batch`; a run at batch `b` trains with `lr × (b / reference_batch)` (linear) or
//! `lr × √(b / reference_batch)` (sqrt), and its record holds that rate.

use serde::{Deserialize, Serialize};

use super::{PendingError, SweepConfig};
use crate::spec::RunSpec;

/// How the learning rate follows the batch size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScalingRule {
    /// `lr × b / reference_batch`.
    Linear,
    /// `lr × √(b / reference_batch)`.
    Sqrt,
}

/// The `lr_scaling = { rule = "linear", reference_batch = 128 }` table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LrScaling {
    /// The rule.
    pub rule: ScalingRule,
    /// The batch size at which a run trains with the grid's `lr` unchanged.
    pub reference_batch: i64,
}

impl LrScaling {
    /// The factor a run at `batch` multiplies the grid's `lr` by.
    pub fn factor(&self, batch: usize) -> f64 {
        let ratio = batch as f64 / self.reference_batch.max(1) as f64;
        match self.rule {
            ScalingRule::Linear => ratio,
            ScalingRule::Sqrt => ratio.sqrt(),
        }
    }

    /// `spec` with its learning rate scaled for its batch size.
    pub fn apply(&self, mut spec: RunSpec) -> RunSpec {
        spec.lr *= self.factor(spec.batch_size);
        spec
    }
}

impl SweepConfig {
    /// `reference_batch` ≥ 1, and no `lr_range` beside it (a random search's drawn rate is the
    /// run's rate; scaling it too would make the range mean something else).
    pub(super) fn check_lr_scaling(&self, errs: &mut Vec<PendingError>) {
        let Some(s) = &self.lr_scaling else {
            return;
        };
        let hint = Some("e.g. lr_scaling = { rule = \"linear\", reference_batch = 128 }".into());
        if s.value.reference_batch < 1 {
            errs.push((
                s.field.clone(),
                s.span.clone(),
                format!(
                    "lr_scaling.reference_batch must be a batch size ≥ 1, found {}",
                    s.value.reference_batch
                ),
                hint,
            ));
        } else if self.search.lr_range.is_some() {
            errs.push((
                s.field.clone(),
                s.span.clone(),
                "lr_scaling cannot be combined with [search] lr_range: the drawn rate is the \
                 run's rate"
                    .into(),
                Some("remove one of the two".into()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_scale_from_the_reference_batch() {
        let linear = LrScaling {
            rule: ScalingRule::Linear,
            reference_batch: 128,
        };
        let sqrt = LrScaling {
            rule: ScalingRule::Sqrt,
            reference_batch: 128,
        };
        assert_eq!(linear.factor(128), 1.0);
        assert_eq!(linear.factor(32), 0.25);
        assert_eq!(linear.factor(256), 2.0);
        assert_eq!(sqrt.factor(32), 0.5);
        assert!((sqrt.factor(256) - 2f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn unknown_keys_and_rules_are_refused() {
        assert!(toml::from_str::<LrScaling>("rule = \"linear\"\nreference_batch = 8").is_ok());
        assert!(toml::from_str::<LrScaling>("rule = \"cubic\"\nreference_batch = 8").is_err());
        assert!(toml::from_str::<LrScaling>("rule = \"sqrt\"\nbatch = 8").is_err());
    }
}
