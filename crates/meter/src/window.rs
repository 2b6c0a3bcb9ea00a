//! Measurement windows: `let w = meter.begin()?; …; let m = w.end()?;`. [`Window::end`] consumes
//! the window, so a measurement cannot be read twice or left open.

use std::collections::BTreeMap;
use std::time::Instant;

use greenbench_core::{Component, ComponentEnergy, Joules, Quality, Seconds};
use serde::Serialize;

use crate::error::Result;
use crate::meter::Meter;
use crate::source::slot;

/// State of one component at the window's start.
#[derive(Debug, Clone, Copy)]
struct Start {
    slot_index: usize,
    errors: u64,
    joules: Option<f64>,
    low: Option<f64>,
    high: Option<f64>,
    zero: Option<f64>,
}

/// An open measurement window. Obtain with [`Meter::begin`], close with [`Window::end`].
#[must_use = "a window measures nothing until `end()` is called"]
pub struct Window {
    meter: Meter,
    t0: Instant,
    start: [Option<Start>; 3],
}

/// The result of a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measurement {
    /// Wall time between the two (synchronized) edges.
    pub duration: Seconds,
    /// Energy per component with qualities and total; a component whose source failed during the
    /// window is `None` (missing), never 0.
    pub energy: ComponentEnergy,
    /// Source name per measured component.
    pub sources: BTreeMap<Component, String>,
    /// Why components are missing, if any.
    pub problems: Vec<String>,
}

impl Meter {
    /// Opens a window: calls the synchronize hook, then reads every source.
    pub fn begin(&self) -> Result<Window> {
        self.run_sync("begin")?;
        let mut st = self.lock();
        st.poll();
        let t0 = Instant::now();
        let mut start = [None; 3];
        for c in Component::ALL {
            if let Some(i) = st.assign[slot(c)] {
                let s = &st.slots[i];
                start[slot(c)] = Some(Start {
                    slot_index: i,
                    errors: s.errors,
                    joules: s.last.and_then(|l| l.get(c)),
                    low: s.last.and_then(|l| l.low_j[slot(c)]),
                    high: s.last.and_then(|l| l.high_j[slot(c)]),
                    zero: s.last.and_then(|l| l.zero_load_j[slot(c)]),
                });
            }
        }
        drop(st);
        Ok(Window {
            meter: self.clone(),
            t0,
            start,
        })
    }
}

impl std::fmt::Debug for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Window")
            .field("elapsed", &self.t0.elapsed())
            .finish()
    }
}

impl Window {
    /// Closes the window: calls the synchronize hook, reads every source, and returns the duration
    /// and energy per component. A failing hook is an error (the window is not measured).
    pub fn end(self) -> Result<Measurement> {
        self.meter.run_sync("end")?;
        let mut st = self.meter.lock();
        st.poll();
        let duration = Seconds::from_duration(self.t0.elapsed());
        let mut parts: BTreeMap<Component, (Option<Joules>, Quality)> = BTreeMap::new();
        let mut sources = BTreeMap::new();
        let mut ranges = BTreeMap::new();
        let mut zero_load = BTreeMap::new();
        let mut problems = Vec::new();
        for c in Component::ALL {
            let Some(start) = self.start[slot(c)] else {
                continue;
            };
            let s = &st.slots[start.slot_index];
            let end = s.last.and_then(|l| l.get(c));
            let value = match (start.joules, end) {
                (Some(a), Some(b)) if s.errors == start.errors && b >= a => Some(Joules(b - a)),
                _ => {
                    problems.push(format!(
                        "{c} missing: source {} failed during the window ({})",
                        s.source.name(),
                        s.last_error.as_deref().unwrap_or("counter decreased")
                    ));
                    None
                }
            };
            if let Some(v) = value {
                let delta = |a: Option<f64>, b: Option<[Option<f64>; 3]>| Some(b?[slot(c)]? - a?);
                let range = match (
                    delta(start.low, s.last.map(|l| l.low_j)),
                    delta(start.high, s.last.map(|l| l.high_j)),
                    s.source.resolution_j(),
                ) {
                    (Some(l), Some(h), _) => Some([l.min(v.0), h.max(v.0)]),
                    (_, _, Some(r)) => Some([v.0 - r, v.0 + r]),
                    _ => None,
                };
                if let Some(r) = range {
                    ranges.insert(c, r);
                }
                if let Some(z) = delta(start.zero, s.last.map(|l| l.zero_load_j)) {
                    zero_load.insert(c, z);
                }
            }
            parts.insert(c, (value, s.source.quality()));
            sources.insert(c, s.source.name().to_string());
        }
        Ok(Measurement {
            duration,
            energy: ComponentEnergy::from_parts(&parts).with_ranges(ranges, zero_load),
            sources,
            problems,
        })
    }

    /// Seconds since the window began.
    pub fn elapsed(&self) -> Seconds {
        Seconds::from_duration(self.t0.elapsed())
    }
}
