//! `greenbench worker` (hidden): runs one configuration for `greenbench sweep`, metered by the
//! concrete energy sources this binary chooses. Also holds the meter settings shared by `sweep`,
//! `meters` and the worker.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use greenbench_core::{ComponentEnergy, ComponentPower};
use greenbench_meter::{
    Meter, MeterOptions, Sampler, Window, DEFAULT_INTERVAL, DEFAULT_POWERCAP_ROOT,
};
use greenbench_runner::{PhaseMeter, TraceStats, WorkerEvent, WorkerRequest};

/// Energy-meter settings (command-line flags, passed on to workers as JSON).
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MeterSettings {
    /// Powercap (RAPL) sysfs root.
    #[arg(long, default_value = DEFAULT_POWERCAP_ROOT)]
    pub powercap_root: PathBuf,
    /// NVML index of the GPU to meter.
    #[arg(long, default_value_t = 0)]
    pub gpu_index: u32,
    /// Watts per busy core for the CPU estimate (default: the CPU model's TDP ÷ cores from a
    /// table, else 10 W).
    #[arg(long)]
    pub watts_per_core: Option<f64>,
    /// Power trace sampling frequency in Hz (0 = no trace, at most 1000).
    #[arg(long, default_value_t = 10.0, value_parser = parse_sampler_hz, allow_negative_numbers = true)]
    pub sampler_hz: f64,
}

/// `--sampler-hz`: a number from 0 (no trace) to 1000 Hz.
fn parse_sampler_hz(s: &str) -> Result<f64, String> {
    let hz: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of hertz"))?;
    if !(0.0..=1000.0).contains(&hz) {
        return Err(format!(
            "{s} Hz is out of range: give 0 (no power trace) to 1000 Hz; 10 Hz is the default"
        ));
    }
    Ok(hz)
}

impl MeterSettings {
    fn options(&self) -> MeterOptions {
        MeterOptions {
            powercap_root: self.powercap_root.clone(),
            gpu_index: self.gpu_index,
            watts_per_core: self.watts_per_core,
        }
    }

    /// Every source's status as JSON (for the manifest).
    pub fn probe_json(&self) -> serde_json::Value {
        let statuses = greenbench_meter::probe_for(&self.options(), Duration::from_millis(0));
        serde_json::to_value(statuses).unwrap_or(serde_json::Value::Null)
    }

    /// Mean idle power per component over `secs` seconds (measured in this process).
    pub fn idle_baseline(&self, secs: f64) -> Result<ComponentPower, String> {
        let meter = Meter::auto(&self.options()).map_err(|e| e.to_string())?;
        if secs <= 0.0 {
            return Ok(ComponentPower::default());
        }
        meter
            .idle_baseline(Duration::from_secs_f64(secs), DEFAULT_INTERVAL)
            .map_err(|e| e.to_string())
    }
}

/// Adapts the concrete meter to the runner's [`PhaseMeter`].
struct WorkerMeter {
    meter: Meter,
    window: Option<Window>,
    sampler: Option<Sampler>,
    live: Option<Window>,
    problems: Vec<String>,
}

impl PhaseMeter for WorkerMeter {
    fn begin(&mut self) -> Result<(), String> {
        self.window = Some(self.meter.begin().map_err(|e| e.to_string())?);
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

    fn start_trace(&mut self, path: &Path, hz: f64) -> Result<(), String> {
        let interval = Duration::from_secs_f64(1.0 / hz.max(0.1));
        self.sampler = Some(
            self.meter
                .start_sampler(path, interval)
                .map_err(|e| e.to_string())?,
        );
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
        let mut m: BTreeMap<String, String> = self
            .meter
            .choices()
            .iter()
            .map(|c| {
                (
                    c.component.to_string(),
                    format!("{} ({}): {}", c.source, c.quality, c.basis),
                )
            })
            .collect();
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

/// Makes the worker die with its parent (a killed sweep must not leave training behind).
fn die_with_parent() {
    // SAFETY: prctl with PR_SET_PDEATHSIG only sets a flag on this process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
}

/// Runs the worker: request on stdin, events on stdout; returns the exit code.
pub fn run() -> std::process::ExitCode {
    die_with_parent();
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        greenbench_runner::worker::emit(&WorkerEvent::Failed {
            message: format!("reading the request on stdin: {e}"),
        });
        return std::process::ExitCode::from(2);
    }
    let req: WorkerRequest = match serde_json::from_str(&input) {
        Ok(r) => r,
        Err(e) => {
            greenbench_runner::worker::emit(&WorkerEvent::Failed {
                message: format!("the worker request is not valid JSON ({e}); `greenbench worker` is started by `greenbench sweep`"),
            });
            return std::process::ExitCode::from(2);
        }
    };
    let settings: MeterSettings = match serde_json::from_value::<MeterSettings>(req.meter.clone()) {
        // The GPU that trains is the GPU that is metered: cuda:N ↔ NVML index N (workers run
        // with CUDA_DEVICE_ORDER=PCI_BUS_ID so both count GPUs in PCI bus order).
        Ok(mut s) => {
            if let Some(i) = req
                .spec
                .device
                .strip_prefix("cuda:")
                .and_then(|i| i.parse().ok())
            {
                s.gpu_index = i;
            }
            s
        }
        Err(e) => {
            greenbench_runner::worker::emit(&WorkerEvent::Failed {
                message: format!("meter settings: {e}"),
            });
            return std::process::ExitCode::from(2);
        }
    };
    let meter = match Meter::auto(&settings.options()) {
        Ok(m) => m,
        Err(e) => {
            greenbench_runner::worker::emit(&WorkerEvent::Failed {
                message: format!("energy meter: {e}"),
            });
            return std::process::ExitCode::from(2);
        }
    };
    let mut wm = WorkerMeter {
        meter,
        window: None,
        sampler: None,
        live: None,
        problems: Vec::new(),
    };
    let code = greenbench_runner::run_worker(&req, &mut wm);
    std::process::ExitCode::from(code as u8)
}
