//! Learning-rate schedules: cosine (per epoch or per step), step, constant.

use crate::error::ModelError;

/// Names as `greenbench_core::config::SCHEDULES` spells them.
pub const NAMES: &[&str] = &["cosine", "cosine-step", "step", "constant"];

/// Factor of the `step` schedule: lr × 0.1 every third of the run (PyTorch `StepLR`,
/// `step_size = max(1, epochs / 3)`, `gamma = 0.1`).
pub const STEP_GAMMA: f64 = 0.1;

/// A learning-rate schedule over a run of `epochs × steps_per_epoch` optimizer steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Schedule {
    /// PyTorch `CosineAnnealingLR(T_max = epochs)` stepped once per epoch (the paper's setup):
    /// lr₀·(1 + cos(π·e/E))/2 during epoch e, reaching 0 at the end of the run.
    CosinePerEpoch,
    /// The same curve stepped every batch, `T_max = epochs × steps_per_epoch`.
    CosinePerStep,
    /// lr₀·γ^⌊e / step_size⌋ (see [`STEP_GAMMA`]).
    Step,
    /// lr₀ throughout.
    Constant,
}

impl Schedule {
    /// Parses a config name; `cosine` is per epoch, `cosine-step` per batch.
    pub fn parse(name: &str) -> Result<Self, ModelError> {
        match name {
            "cosine" => Ok(Self::CosinePerEpoch),
            "cosine-step" => Ok(Self::CosinePerStep),
            "step" => Ok(Self::Step),
            "constant" => Ok(Self::Constant),
            other => Err(ModelError::Setting {
                field: "schedule",
                message: format!("unknown schedule `{other}`; accepted: {}", NAMES.join(", ")),
            }),
        }
    }

    /// Learning rate for optimizer step `step` (0-based) of a run of `epochs × steps_per_epoch`.
    pub fn lr(self, base: f64, step: u64, epochs: usize, steps_per_epoch: usize) -> f64 {
        let spe = steps_per_epoch.max(1) as u64;
        let epochs = epochs.max(1) as u64;
        let epoch = (step / spe).min(epochs);
        let cos = |t: f64, tmax: f64| {
            base * 0.5 * (1.0 + (std::f64::consts::PI * (t / tmax).min(1.0)).cos())
        };
        match self {
            Self::CosinePerEpoch => cos(epoch as f64, epochs as f64),
            Self::CosinePerStep => cos(step as f64, (epochs * spe) as f64),
            Self::Step => {
                let size = (epochs / 3).max(1);
                base * STEP_GAMMA.powi((epoch / size) as i32)
            }
            Self::Constant => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn cosine_matches_pytorch_cosine_annealing() {
        let s = Schedule::CosinePerEpoch;
        // 4 epochs, 10 steps each: epoch lrs 0.1·(1+cos(πe/4))/2.
        assert!(close(s.lr(0.1, 0, 4, 10), 0.1));
        assert!(close(s.lr(0.1, 9, 4, 10), 0.1));
        assert!(close(
            s.lr(0.1, 10, 4, 10),
            0.1 * (1.0 + (std::f64::consts::PI / 4.0).cos()) / 2.0
        ));
        assert!(close(s.lr(0.1, 20, 4, 10), 0.05));
        assert!(close(s.lr(0.1, 40, 4, 10), 0.0));
        assert!(close(s.lr(0.1, 99, 4, 10), 0.0));
        let p = Schedule::CosinePerStep;
        assert!(close(p.lr(1.0, 5, 1, 10), 0.5));
        assert!(close(p.lr(1.0, 10, 1, 10), 0.0));
    }

    #[test]
    fn step_and_constant() {
        let s = Schedule::Step;
        assert!(close(s.lr(1.0, 0, 9, 1), 1.0));
        assert!(close(s.lr(1.0, 3, 9, 1), 0.1));
        assert!(close(s.lr(1.0, 8, 9, 1), 0.01));
        assert!(close(Schedule::Constant.lr(0.3, 1000, 2, 2), 0.3));
        assert!(Schedule::parse("linear").is_err());
        for n in NAMES {
            assert!(Schedule::parse(n).is_ok());
        }
    }
}
