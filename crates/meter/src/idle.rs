//! Idle baseline: mean power per component while nothing runs, for `E_net = E_raw − P_idle × t`.

use std::time::{Duration, Instant};

use greenbench_core::ComponentPower;

use crate::error::Result;
use crate::meter::Meter;

impl Meter {
    /// Mean power per component over `duration`, reading the sources every `interval` (so RAPL
    /// wraps and trapezoid-integrated GPUs are followed). A component whose source fails is `None`.
    pub fn idle_baseline(&self, duration: Duration, interval: Duration) -> Result<ComponentPower> {
        let w = self.begin()?;
        let end = Instant::now() + duration;
        loop {
            let now = Instant::now();
            if now >= end {
                break;
            }
            std::thread::sleep(interval.min(end - now));
            self.poll();
        }
        let m = w.end()?;
        Ok(m.energy.average_power(m.duration))
    }
}
