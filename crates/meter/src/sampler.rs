//! The sampler: one thread reading every source at a fixed rate (10 Hz by default) and writing a
//! trace CSV `t_s,cpu_w,dram_w,gpu_w,gpu_util,cpu_util` (an empty cell = absent value).
//!
//! Power is the source's instantaneous reading where it has one (NVML), else ΔE/Δt between two
//! samples. `cpu_util` is this process's CPU time ÷ (wall time × logical CPUs), in percent.
//! Per sample nothing is allocated: the line is formatted into a reused `String` and written
//! through a `BufWriter`; sources read into fixed-size [`crate::Counters`].

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use greenbench_core::{Component, ComponentPower, Seconds};
use serde::Serialize;

use crate::error::{MeterError, Result};
use crate::estimate::self_cpu_seconds;
use crate::meter::{Meter, State};
use crate::source::slot;

/// Default sampling interval (10 Hz).
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(100);

/// Header of the trace CSV.
pub const TRACE_HEADER: &str = "t_s,cpu_w,dram_w,gpu_w,gpu_util,cpu_util";

/// What the sampler saw, returned by [`Sampler::stop`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SamplerSummary {
    /// Rows written.
    pub samples: u64,
    /// Time from start to stop.
    pub duration: Seconds,
    /// Mean GPU utilisation (percent) over the samples that had one.
    pub mean_gpu_util: Option<f64>,
    /// Mean process CPU utilisation (percent).
    pub mean_cpu_util: Option<f64>,
    /// Mean power per component over the samples that had one.
    pub mean_power: ComponentPower,
    /// Samples in which at least one source failed (their cells are empty).
    pub failed_samples: u64,
}

/// A running sampler thread. Stop it with [`Sampler::stop`] (dropping it also stops it).
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Result<SamplerSummary>>>,
    path: PathBuf,
}

impl Meter {
    /// Starts the sampler thread writing `path` every `interval` (use [`DEFAULT_INTERVAL`]).
    pub fn start_sampler(&self, path: &Path, interval: Duration) -> Result<Sampler> {
        if interval.is_zero() {
            return Err(MeterError::Option {
                name: "sampler interval",
                value: "0".into(),
                expected: "a positive duration (100 ms = 10 Hz)",
            });
        }
        let trace_err = |e| MeterError::Trace {
            path: path.to_path_buf(),
            source: e,
        };
        let mut out = BufWriter::with_capacity(64 * 1024, File::create(path).map_err(trace_err)?);
        writeln!(out, "{TRACE_HEADER}").map_err(trace_err)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (meter, flag, p) = (self.clone(), stop.clone(), path.to_path_buf());
        let handle = std::thread::Builder::new()
            .name("greenbench-sampler".into())
            .spawn(move || run(meter, out, interval, flag, p))
            .map_err(|e| MeterError::Sampler(format!("cannot start the sampler thread: {e}")))?;
        Ok(Sampler {
            stop,
            handle: Some(handle),
            path: path.to_path_buf(),
        })
    }
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler").field("path", &self.path).finish()
    }
}

impl Sampler {
    /// Stops the thread, flushes the trace and returns the summary.
    pub fn stop(mut self) -> Result<SamplerSummary> {
        self.finish()
    }

    /// The trace path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn finish(&mut self) -> Result<SamplerSummary> {
        self.stop.store(true, Ordering::SeqCst);
        let Some(h) = self.handle.take() else {
            return Err(MeterError::Sampler("already stopped".into()));
        };
        h.thread().unpark();
        h.join()
            .map_err(|_| MeterError::Sampler("the sampler thread panicked".into()))?
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        if self.handle.is_some() {
            let _ = self.finish();
        }
    }
}

/// Previous sample's values, to turn cumulative energy into power.
struct Prev {
    t: f64,
    joules: [Option<f64>; 3],
    cpu_s: f64,
}

/// Running sums for the summary.
#[derive(Default)]
struct Sums {
    power: [(f64, u64); 3],
    gpu_util: (f64, u64),
    cpu_util: (f64, u64),
}

fn push_opt(line: &mut String, v: Option<f64>, decimals: usize) {
    if let Some(v) = v.filter(|v| v.is_finite()) {
        let _ = write!(line, "{v:.decimals$}");
    }
}

/// One sample: poll, compute power, format the row into `line`. Returns whether a source failed.
fn sample(
    st: &mut State,
    t: f64,
    prev: &mut Prev,
    ncpu: f64,
    sums: &mut Sums,
    line: &mut String,
) -> bool {
    let errors_before: u64 = st.slots.iter().map(|s| s.errors).sum();
    st.poll();
    let failed = st.slots.iter().map(|s| s.errors).sum::<u64>() != errors_before;
    let dt = t - prev.t;
    let mut power = [None; 3];
    let mut gpu_util = None;
    for c in Component::ALL {
        let k = slot(c);
        let Some(i) = st.assign[k] else { continue };
        let Some(cur) = st.slots[i].last else {
            prev.joules[k] = None;
            continue;
        };
        let e = cur.joules[k];
        power[k] = cur.power_w[k].or(match (prev.joules[k], e) {
            (Some(a), Some(b)) if dt > 0.0 && b >= a => Some((b - a) / dt),
            _ => None,
        });
        prev.joules[k] = e;
        if c == Component::Gpu {
            gpu_util = cur.gpu_util;
        }
    }
    let cpu_s = self_cpu_seconds();
    let cpu_util = (dt > 0.0)
        .then(|| (cpu_s - prev.cpu_s) / (dt * ncpu) * 100.0)
        .filter(|v| v.is_finite());
    prev.cpu_s = cpu_s;
    prev.t = t;

    line.clear();
    let _ = write!(line, "{t:.3}");
    for (k, p) in power.iter().enumerate() {
        line.push(',');
        push_opt(line, *p, 3);
        if let Some(p) = p {
            sums.power[k].0 += p;
            sums.power[k].1 += 1;
        }
    }
    line.push(',');
    push_opt(line, gpu_util, 1);
    line.push(',');
    push_opt(line, cpu_util, 1);
    line.push('\n');
    if let Some(u) = gpu_util {
        sums.gpu_util.0 += u;
        sums.gpu_util.1 += 1;
    }
    if let Some(u) = cpu_util {
        sums.cpu_util.0 += u;
        sums.cpu_util.1 += 1;
    }
    failed
}

fn run(
    meter: Meter,
    mut out: BufWriter<File>,
    interval: Duration,
    stop: Arc<AtomicBool>,
    path: PathBuf,
) -> Result<SamplerSummary> {
    let trace_err = |e| MeterError::Trace {
        path: path.clone(),
        source: e,
    };
    let ncpu = std::thread::available_parallelism()
        .map(|n| n.get() as f64)
        .unwrap_or(1.0);
    let start = Instant::now();
    let mut prev = Prev {
        t: 0.0,
        joules: [None; 3],
        cpu_s: self_cpu_seconds(),
    };
    {
        let mut st = meter.lock();
        st.poll();
        for c in Component::ALL {
            let k = slot(c);
            prev.joules[k] = st.assign[k]
                .and_then(|i| st.slots[i].last)
                .and_then(|l| l.joules[k]);
        }
    }
    let mut sums = Sums::default();
    let mut line = String::with_capacity(256);
    let (mut samples, mut failed_samples) = (0u64, 0u64);
    let mut next = start + interval;
    let flush_every = ((1.0 / interval.as_secs_f64().max(1e-3)).round() as u64).max(1);
    'outer: loop {
        loop {
            if stop.load(Ordering::SeqCst) {
                break 'outer;
            }
            let now = Instant::now();
            if now >= next {
                break;
            }
            std::thread::park_timeout(next - now);
        }
        let t = start.elapsed().as_secs_f64();
        let failed = sample(&mut meter.lock(), t, &mut prev, ncpu, &mut sums, &mut line);
        out.write_all(line.as_bytes()).map_err(trace_err)?;
        samples += 1;
        if samples % flush_every == 0 {
            // About once a second, so `greenbench status` sees the live power.
            out.flush().map_err(trace_err)?;
        }
        failed_samples += u64::from(failed);
        next += interval;
        let now = Instant::now();
        if next < now {
            // Fell behind (machine overloaded): skip missed ticks instead of bursting.
            next = now + interval;
        }
    }
    out.flush().map_err(trace_err)?;
    let mean = |(s, n): (f64, u64)| (n > 0).then(|| s / n as f64);
    let mut mean_power = ComponentPower::default();
    for c in Component::ALL {
        if let Some(p) = mean(sums.power[slot(c)]) {
            mean_power.set(c, Some(p));
        }
    }
    Ok(SamplerSummary {
        samples,
        duration: Seconds::from_duration(start.elapsed()),
        mean_gpu_util: mean(sums.gpu_util),
        mean_cpu_util: mean(sums.cpu_util),
        mean_power,
        failed_samples,
    })
}
