//! `greenbench worker` (hidden): runs one configuration for `greenbench sweep`, metered by the
//! concrete energy sources this binary chooses. Also holds the meter settings shared by `sweep`,
//! `meters` and the worker.

use std::path::PathBuf;
use std::time::Duration;

use greenbench_core::BoxError;
use greenbench_core::ComponentPower;
use greenbench_meter::{Meter, MeterOptions, RunMeter, DEFAULT_INTERVAL, DEFAULT_POWERCAP_ROOT};

/// Energy-meter settings (command-line flags, passed on to workers as JSON).
#[derive(clap::Args, Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MeterSettings {
    /// Powercap (RAPL) sysfs root.
    #[arg(long, default_value = DEFAULT_POWERCAP_ROOT)]
    pub powercap_root: PathBuf,
    /// NVML index of the GPU to meter.
    #[arg(long, default_value_t = 0)]
    pub gpu_index: u32,
    /// Watts per vCPU at full load for the CPU estimate, above 0 and at most 50 (default: the
    /// power model of docs/measurement.md: the CPU's TDP, or a range across its
    /// microarchitectures).
    #[arg(long, value_parser = parse_watts_per_core, allow_negative_numbers = true)]
    pub watts_per_core: Option<f64>,
    /// Power trace sampling frequency in Hz (0 = no trace, at most 1000).
    #[arg(long, default_value_t = 10.0, value_parser = parse_sampler_hz, allow_negative_numbers = true)]
    pub sampler_hz: f64,
}

/// `--sampler-hz`: a number from 0 (no trace) to 1000 Hz.
fn parse_sampler_hz(s: &str) -> anyhow::Result<f64> {
    let hz: f64 = s
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("`{s}` is not a number of hertz"))?;
    if !(0.0..=1000.0).contains(&hz) {
        anyhow::bail!(
            "{s} Hz is out of range: give 0 (no power trace) to 1000 Hz; 10 Hz is the default"
        );
    }
    Ok(hz)
}

/// `--watts-per-core`: watts per busy logical core, above 0 and at most 50 (no CPU draws more).
pub fn parse_watts_per_core(s: &str) -> anyhow::Result<f64> {
    let w: f64 = s
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("`{s}` is not a number of watts"))?;
    Ok(greenbench_meter::check_watts_per_core(w)?)
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

    /// Mean idle power per component over `secs` seconds (measured in this process); `None`
    /// when `stop` said to stop before the window ended (asked at least every 100 ms).
    pub fn idle_baseline(
        &self,
        secs: f64,
        stop: &dyn Fn() -> bool,
    ) -> Result<Option<ComponentPower>, BoxError> {
        let meter = Meter::auto(&self.options())?;
        if secs <= 0.0 {
            return Ok(Some(ComponentPower::default()));
        }
        Ok(meter.idle_baseline_until(Duration::from_secs_f64(secs), DEFAULT_INTERVAL, stop)?)
    }
}

/// Runs the worker: request on stdin, events on stdout; returns the exit code. A run of an
/// external command (`[workload]`, `greenbench exec`) runs that command under a meter of its
/// process tree; any other run trains a model of the zoo.
pub fn run() -> std::process::ExitCode {
    use std::io::Read;
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        greenbench_worker::emit(&greenbench_core::WorkerEvent::Failed {
            message: format!("reading the request on stdin: {e}"),
        });
        return std::process::ExitCode::from(2);
    }
    let external = serde_json::from_str::<greenbench_core::WorkerRequest>(&input)
        .ok()
        .and_then(|req| {
            let run = req.spec.workload.clone()?;
            let mut settings = serde_json::from_value::<MeterSettings>(req.meter.clone()).ok()?;
            // The GPU of the run's device is the GPU metered, as for a model's run.
            if let Some(i) = req.spec.device.gpu_index() {
                settings.gpu_index = i;
            }
            Some((req, run, settings))
        });
    if let Some((req, run, settings)) = external {
        // SAFETY: prctl with PR_SET_PDEATHSIG only sets a flag on this process: the worker (and
        // so its command, which dies with it) dies with the sweep.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        }
        let code = crate::cmd::external_run::serve(&req, &run, &settings.options());
        return std::process::ExitCode::from(code);
    }
    std::process::ExitCode::from(greenbench_worker::serve_request(&input, |req| {
        // The GPU that trains is the GPU that is metered: cuda:N ↔ NVML index N (workers run
        // with CUDA_DEVICE_ORDER=PCI_BUS_ID so both count GPUs in PCI bus order).
        let mut settings = serde_json::from_value::<MeterSettings>(req.meter.clone())
            .map_err(|e| format!("meter settings: {e}"))?;
        if let Some(i) = req.spec.device.gpu_index() {
            settings.gpu_index = i;
        }
        let meter = Meter::auto(&settings.options())?;
        Ok(Box::new(RunMeter::new(meter)) as Box<dyn greenbench_core::PhaseMeter>)
    }))
}
