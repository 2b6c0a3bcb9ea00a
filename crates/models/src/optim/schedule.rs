//! Learning-rate schedules: cosine (per epoch or per step), step, constant.

use greenbench_core::Schedule;

/// Factor of the `step` schedule: lr × 0.1 every third of the run (PyTorch `StepLR`,
/// `step_size = max(1, epochs / 3)`, `gamma = 0.1`).
pub const STEP_GAMMA: f64 = 0.1;

/// Learning rate for optimizer step `step` (0-based) of a run of `epochs × steps_per_epoch`
/// steps that starts at `base`:
/// - `cosine`: PyTorch `CosineAnnealingLR(T_max = epochs)` stepped once per epoch (the paper's
///   setup), lr₀·(1 + cos(π·e/E))/2 during epoch e, reaching 0 at the end of the run;
/// - `cosine-step`: the same curve stepped every batch, `T_max = epochs × steps_per_epoch`;
/// - `step`: lr₀·γ^⌊e / step_size⌋ (see [`STEP_GAMMA`]);
/// - `constant`: lr₀ throughout.
pub fn learning_rate(
    schedule: Schedule,
    base: f64,
    step: u64,
    epochs: usize,
    steps_per_epoch: usize,
) -> f64 {
    let spe = steps_per_epoch.max(1) as u64;
    let epochs = epochs.max(1) as u64;
    let epoch = (step / spe).min(epochs);
    let cos =
        |t: f64, tmax: f64| base * 0.5 * (1.0 + (std::f64::consts::PI * (t / tmax).min(1.0)).cos());
    match schedule {
        Schedule::Cosine => cos(epoch as f64, epochs as f64),
        Schedule::CosineStep => cos(step as f64, (epochs * spe) as f64),
        Schedule::Step => {
            let size = (epochs / 3).max(1);
            base * STEP_GAMMA.powi((epoch / size) as i32)
        }
        Schedule::Constant => base,
    }
}

/// The linear warm-up's factor for optimizer step `step` (0-based) of a warm-up lasting
/// `warmup_steps` steps: (step + 1) / warmup_steps until it reaches 1, then 1 (Goyal et al.
/// 2017, "gradual warmup"; the schedule's own rate is multiplied by it). No warm-up (0 steps)
/// is 1 throughout.
pub fn warmup_factor(step: u64, warmup_steps: u64) -> f64 {
    if step >= warmup_steps {
        1.0
    } else {
        (step + 1) as f64 / warmup_steps as f64
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
        let s = |base, step, epochs, spe| learning_rate(Schedule::Cosine, base, step, epochs, spe);
        // 4 epochs, 10 steps each: epoch lrs 0.1·(1+cos(πe/4))/2.
        assert!(close(s(0.1, 0, 4, 10), 0.1));
        assert!(close(s(0.1, 9, 4, 10), 0.1));
        assert!(close(
            s(0.1, 10, 4, 10),
            0.1 * (1.0 + (std::f64::consts::PI / 4.0).cos()) / 2.0
        ));
        assert!(close(s(0.1, 20, 4, 10), 0.05));
        assert!(close(s(0.1, 40, 4, 10), 0.0));
        assert!(close(s(0.1, 99, 4, 10), 0.0));
        let p =
            |base, step, epochs, spe| learning_rate(Schedule::CosineStep, base, step, epochs, spe);
        assert!(close(p(1.0, 5, 1, 10), 0.5));
        assert!(close(p(1.0, 10, 1, 10), 0.0));
    }

    #[test]
    fn warmup_rises_linearly_to_one() {
        assert!(close(warmup_factor(0, 4), 0.25));
        assert!(close(warmup_factor(2, 4), 0.75));
        assert!(close(warmup_factor(3, 4), 1.0));
        assert!(close(warmup_factor(100, 4), 1.0));
        assert!(close(warmup_factor(0, 0), 1.0));
    }

    #[test]
    fn step_and_constant() {
        let s = |base, step, epochs, spe| learning_rate(Schedule::Step, base, step, epochs, spe);
        assert!(close(s(1.0, 0, 9, 1), 1.0));
        assert!(close(s(1.0, 3, 9, 1), 0.1));
        assert!(close(s(1.0, 8, 9, 1), 0.01));
        assert!(close(
            learning_rate(Schedule::Constant, 0.3, 1000, 2, 2),
            0.3
        ));
    }
}
