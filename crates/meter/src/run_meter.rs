//! The meter of one run behind the worker's [`PhaseMeter`] interface: a phase window at a time,
//! the power trace, live watts, and the sources with their problems for the record.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use greenbench_core::{BoxError, ComponentEnergy, PhaseMeter, TraceStats};

use crate::meter::Meter;
use crate::sampler::Sampler;
use crate::window::Window;

/// The meter of one run, as a worker sees it ([`PhaseMeter`]): phase windows, the power trace,
/// live watts and which source meters what, with every problem kept for the record.
pub struct RunMeter {
    meter: Meter,
    window: Option<Window>,
    sampler: Option<Sampler>,
    live: Option<Window>,
    problems: Vec<String>,
}

impl RunMeter {
    /// A run meter over `meter`.
    pub fn new(meter: Meter) -> RunMeter {
        RunMeter {
            meter,
            window: None,
            sampler: None,
            live: None,
            problems: Vec::new(),
        }
    }
}

impl PhaseMeter for RunMeter {
    fn begin(&mut self) -> Result<(), BoxError> {
        self.window = Some(self.meter.begin()?);
        Ok(())
    }

    fn end(&mut self) -> ComponentEnergy {
        match self.window.take().map(Window::end) {
            Some(Ok(m)) => {
                self.problems.extend(m.problems);
                m.energy
            }
            Some(Err(e)) => {
                // The window could not be closed: every component is missing, never 0.
                self.problems.push(e.to_string());
                missing(&self.meter)
            }
            None => missing(&self.meter),
        }
    }

    fn start_trace(&mut self, path: &Path, hz: f64) -> Result<(), BoxError> {
        let interval = Duration::from_secs_f64(1.0 / hz.max(0.1));
        self.sampler = Some(self.meter.start_sampler(path, interval)?);
        Ok(())
    }

    fn stop_trace(&mut self) -> TraceStats {
        match self.sampler.take().map(Sampler::stop) {
            Some(Ok(s)) => TraceStats {
                cpu_util_mean: s.mean_cpu_util,
                gpu_util_mean: s.mean_gpu_util,
            },
            Some(Err(e)) => {
                self.problems.push(format!("trace: {e}"));
                TraceStats::default()
            }
            None => TraceStats::default(),
        }
    }

    fn live_watts(&mut self) -> Option<f64> {
        // A short window between two progress reports; it does not disturb the phase window.
        let previous = self.live.replace(self.meter.begin().ok()?);
        let m = previous?.end().ok()?;
        m.energy
            .total_j
            .filter(|_| m.duration.0 > 0.0)
            .map(|j| j / m.duration.0)
    }

    fn sources(&self) -> BTreeMap<String, String> {
        let mut m = self.meter.described_choices();
        for u in self.meter.unavailable() {
            m.entry(format!("unavailable:{}", u.source))
                .or_insert_with(|| u.reason.clone());
        }
        if !self.problems.is_empty() {
            m.insert("problems".into(), self.problems.join("; "));
        }
        m
    }
}

fn missing(meter: &Meter) -> ComponentEnergy {
    let parts = meter
        .components()
        .into_iter()
        .map(|c| (c, (None, greenbench_core::Quality::Missing)))
        .collect();
    ComponentEnergy::from_parts(&parts)
}
