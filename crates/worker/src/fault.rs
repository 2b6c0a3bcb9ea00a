//! Test-only faults, injected through the environment (`GREENBENCH_INJECT_FAULT=kind:model`) so
//! the crash, divergence and timeout paths can be exercised end to end. They act before the run
//! starts or through a hook on each training step's result: the training loop itself knows
//! nothing of them.

use std::time::Duration;

use greenbench_core::FAULT_ENV;
use greenbench_models::StepStats;

/// A fault to inject into one model's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The worker panics before loading.
    Panic,
    /// The worker aborts (a signal) before loading.
    Abort,
    /// The loss of epoch 1, batch 2 becomes NaN (a diverged run).
    Nan,
    /// Every step sleeps an hour (a run the timeout kills).
    Hang,
}

impl Fault {
    /// The fault `FAULT_ENV` asks for `model`, if any (an unknown kind is none).
    pub(crate) fn for_model(model: &str) -> Option<Fault> {
        Self::parse(&std::env::var(FAULT_ENV).ok()?, model)
    }

    /// The fault `value` (`kind:model`) asks for `model`.
    fn parse(value: &str, model: &str) -> Option<Fault> {
        let (kind, m) = value.split_once(':')?;
        if m != model {
            return None;
        }
        match kind {
            "panic" => Some(Fault::Panic),
            "abort" => Some(Fault::Abort),
            "nan" => Some(Fault::Nan),
            "hang" => Some(Fault::Hang),
            _ => None,
        }
    }

    /// Before the run starts: panics or aborts for those faults, else nothing.
    pub(crate) fn before_run(fault: Option<Fault>) {
        match fault {
            Some(Fault::Panic) => panic!("injected panic ({FAULT_ENV})"),
            Some(Fault::Abort) => std::process::abort(),
            _ => {}
        }
    }

    /// After training step `batch` (0-based) of epoch `epoch` (1-based) produced `step`.
    pub(crate) fn after_step(
        fault: Option<Fault>,
        epoch: usize,
        batch: usize,
        step: &mut StepStats,
    ) {
        match fault {
            Some(Fault::Nan) if epoch == 1 && batch == 1 => step.loss = f64::NAN,
            Some(Fault::Hang) => std::thread::sleep(Duration::from_secs(3600)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_names_its_kind_and_model() {
        assert_eq!(Fault::parse("nan:mlp-small", "mlp-small"), Some(Fault::Nan));
        assert_eq!(Fault::parse("nan:mlp-small", "mlp-large"), None);
        assert_eq!(Fault::parse("melt:mlp-small", "mlp-small"), None);
        assert_eq!(Fault::parse("nan", "mlp-small"), None);
    }

    #[test]
    fn nan_breaks_the_second_step_of_the_first_epoch_only() {
        let step = |epoch, batch| {
            let mut s = StepStats {
                loss: 1.0,
                correct: 0,
                count: 0,
            };
            Fault::after_step(Some(Fault::Nan), epoch, batch, &mut s);
            s.loss
        };
        assert!(step(1, 1).is_nan());
        assert_eq!((step(1, 0), step(2, 1)), (1.0, 1.0));
    }
}
