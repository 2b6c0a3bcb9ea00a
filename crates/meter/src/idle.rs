//! Idle baseline: mean power per component while nothing runs, for `E_net = E_raw − P_idle × t`.
//!
//! Only measured components have one: an estimate follows one process (here the orchestrator,
//! which only waits), so its reading says nothing about the machine's idle power; estimated
//! components are left out (`None`), and their net energy is the model's dynamic part.

use std::time::{Duration, Instant};

use greenbench_core::{ComponentPower, Quality};

use crate::error::Result;
use crate::meter::Meter;

/// Longest wait between two looks at the stop request of
/// [`Meter::idle_baseline_until`]: a Ctrl-C is seen within this, whatever the reading interval.
pub const STOP_CHECK: Duration = Duration::from_millis(100);

impl Meter {
    /// Mean power per component over `duration`, reading the sources every `interval` or
    /// [`STOP_CHECK`], whichever is shorter (so RAPL wraps and trapezoid-integrated GPUs are
    /// followed). A component whose source fails, or that is estimated, is `None`.
    pub fn idle_baseline(&self, duration: Duration, interval: Duration) -> Result<ComponentPower> {
        let w = self.begin()?;
        self.wait_reading(duration, interval, &|| false);
        let m = w.end()?;
        Ok(measured_power(&m))
    }

    /// [`Meter::idle_baseline`] that asks `stop` at least every [`STOP_CHECK`] and gives up when
    /// it says yes (Ctrl-C, SIGTERM): `None` then, as a window cut short is no baseline.
    pub fn idle_baseline_until(
        &self,
        duration: Duration,
        interval: Duration,
        stop: &dyn Fn() -> bool,
    ) -> Result<Option<ComponentPower>> {
        let w = self.begin()?;
        if !self.wait_reading(duration, interval, stop) {
            return Ok(None);
        }
        let m = w.end()?;
        Ok(Some(measured_power(&m)))
    }

    /// Waits `duration`, reading the sources every `interval` (at most [`STOP_CHECK`]); `false`
    /// as soon as `stop` says so, `true` when the whole duration passed.
    fn wait_reading(
        &self,
        duration: Duration,
        interval: Duration,
        stop: &dyn Fn() -> bool,
    ) -> bool {
        let step = interval.min(STOP_CHECK);
        let end = Instant::now() + duration;
        loop {
            if stop() {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            std::thread::sleep(step.min(end - now));
            self.poll();
        }
    }
}

/// Mean power of the measured components of a window; estimated ones are `None`.
fn measured_power(m: &crate::window::Measurement) -> ComponentPower {
    let mut p = m.energy.average_power(m.duration);
    for (&c, &q) in &m.energy.qualities {
        if q != Quality::Measured {
            p.set(c, None);
        }
    }
    p
}
