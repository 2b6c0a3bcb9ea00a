//! The [`Meter`]: several sources combined, the best one chosen per component, shared (behind a
//! mutex) by windows, the sampler and the idle baseline.

pub use crate::options::{MeterOptions, ProbeOptions};
use std::sync::{Arc, Mutex, MutexGuard};

use greenbench_core::{Component, Quality};
use serde::Serialize;

use crate::error::{MeterError, Result};
use crate::source::{slot, Counters, EnergySource};
use crate::sources::SOURCES;

/// Called at both edges of a window (the runner passes the GPU synchronize).
pub type SyncHook = Box<dyn Fn() -> std::result::Result<(), greenbench_core::BoxError> + Send>;

/// Which source meters a component, recorded with every run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComponentChoice {
    /// The component (cpu, dram, gpu) this choice meters.
    pub component: Component,
    /// Source name ("rapl", "nvml", "estimate", "replay").
    pub source: String,
    /// Quality of its values.
    pub quality: Quality,
    /// How the values are obtained.
    pub basis: String,
}

/// A source that could not be opened, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unavailable {
    /// Source name.
    pub source: String,
    /// The error message (what, where, what to do).
    pub reason: String,
}

pub(crate) struct Slot {
    pub source: Box<dyn EnergySource>,
    /// Last successful read, `None` if the last read failed.
    pub last: Option<Counters>,
    /// Number of failed reads so far; a window spanning a failure is missing.
    pub errors: u64,
    /// Message of the latest failure.
    pub last_error: Option<String>,
}

pub(crate) struct State {
    pub slots: Vec<Slot>,
    /// Slot index chosen per component (by [`slot`]).
    pub assign: [Option<usize>; 3],
}

impl State {
    /// Reads every source once. Allocation-free unless a source fails.
    pub fn poll(&mut self) {
        for s in &mut self.slots {
            match s.source.read() {
                Ok(c) => s.last = Some(c),
                Err(e) => {
                    s.last = None;
                    s.errors += 1;
                    s.last_error = Some(e.to_string());
                }
            }
        }
    }
}

/// Energy meter over one or more sources. Cheap to clone (shares the sources).
#[derive(Clone)]
pub struct Meter {
    pub(crate) state: Arc<Mutex<State>>,
    pub(crate) sync: Arc<Mutex<Option<SyncHook>>>,
    choices: Vec<ComponentChoice>,
    unavailable: Vec<Unavailable>,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter")
            .field("choices", &self.choices)
            .field("unavailable", &self.unavailable)
            .finish()
    }
}

impl Meter {
    /// Opens every source of [`SOURCES`] that works here — RAPL, NVML GPU `gpu_index`, and the
    /// CPU-time estimate — and keeps the best per component. Sources that cannot be opened are listed in
    /// [`Meter::unavailable`]; only an invalid option is an error.
    pub fn auto(options: &MeterOptions) -> Result<Meter> {
        let mut sources: Vec<Box<dyn EnergySource>> = Vec::new();
        let mut unavailable = Vec::new();
        for def in SOURCES {
            match (def.open)(options) {
                Ok(s) => sources.push(s),
                Err(e) if def.required => return Err(e),
                Err(e) => unavailable.push(Unavailable {
                    source: def.name.into(),
                    reason: e.to_string(),
                }),
            }
        }
        let mut m = Meter::from_sources(sources);
        m.unavailable = unavailable;
        Ok(m)
    }

    /// A meter over the given sources: per component, the first measured source covering it, else
    /// the first estimated one. Sources chosen for nothing are dropped (not read).
    pub fn from_sources(sources: Vec<Box<dyn EnergySource>>) -> Meter {
        let mut assign: [Option<usize>; 3] = [None; 3];
        for want in [Quality::Measured, Quality::Estimated] {
            for (i, s) in sources.iter().enumerate() {
                if s.quality() != want {
                    continue;
                }
                for &c in s.components() {
                    assign[slot(c)].get_or_insert(i);
                }
            }
        }
        // Keep only used sources, renumbering the assignment.
        let mut slots = Vec::new();
        let mut renumber = vec![None; sources.len()];
        for (i, s) in sources.into_iter().enumerate() {
            if assign.contains(&Some(i)) {
                renumber[i] = Some(slots.len());
                slots.push(Slot {
                    source: s,
                    last: None,
                    errors: 0,
                    last_error: None,
                });
            }
        }
        for a in &mut assign {
            *a = a.and_then(|i| renumber[i]);
        }
        let choices = Component::ALL
            .iter()
            .filter_map(|&c| {
                let s = &slots[assign[slot(c)]?].source;
                Some(ComponentChoice {
                    component: c,
                    source: s.name().to_string(),
                    quality: s.quality(),
                    basis: s.basis(),
                })
            })
            .collect();
        let mut state = State { slots, assign };
        state.poll();
        Meter {
            state: Arc::new(Mutex::new(state)),
            sync: Arc::new(Mutex::new(None)),
            choices,
            unavailable: Vec::new(),
        }
    }

    /// Sets the hook called at both edges of every window (e.g. GPU synchronize).
    pub fn with_sync(self, hook: SyncHook) -> Self {
        self.set_sync(Some(hook));
        self
    }

    /// Replaces (or removes) the synchronize hook.
    pub fn set_sync(&self, hook: Option<SyncHook>) {
        *self.sync.lock().unwrap_or_else(|p| p.into_inner()) = hook;
    }

    /// Which source meters which component.
    pub fn choices(&self) -> &[ComponentChoice] {
        &self.choices
    }

    /// Each metered component's source, quality and basis as a record's `meters` map holds
    /// them (`"cpu" → "estimate (estimated): …"`). A basis already given for an earlier
    /// component of the same source is named, not repeated (the estimate's one text covers
    /// both CPU and DRAM).
    pub fn described_choices(&self) -> std::collections::BTreeMap<String, String> {
        let mut out = std::collections::BTreeMap::new();
        for (i, c) in self.choices.iter().enumerate() {
            let earlier = self.choices[..i]
                .iter()
                .find(|e| e.source == c.source && e.basis == c.basis);
            let basis = match earlier {
                Some(e) => format!("as for {}", e.component),
                None => c.basis.clone(),
            };
            out.insert(
                c.component.to_string(),
                format!("{} ({}): {basis}", c.source, c.quality),
            );
        }
        out
    }

    /// Sources that could not be opened by [`Meter::auto`], with the reason.
    pub fn unavailable(&self) -> &[Unavailable] {
        &self.unavailable
    }

    /// Components this meter measures (a window reports each, value or missing).
    pub fn components(&self) -> Vec<Component> {
        self.choices.iter().map(|c| c.component).collect()
    }

    /// Reads every source once now (what the sampler does at 10 Hz). Frequent polls let RAPL
    /// account for several counter wraps inside one window.
    pub fn poll(&self) {
        self.lock().poll();
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves counters consistent (each read is atomic per
        // source), so a poisoned lock is recovered.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn run_sync(&self, edge: &'static str) -> Result<()> {
        let hook = self.sync.lock().unwrap_or_else(|p| p.into_inner());
        match hook.as_ref() {
            Some(h) => h().map_err(|e| MeterError::Sync {
                edge,
                reason: e.to_string(),
            }),
            None => Ok(()),
        }
    }
}
