//! `greenbench calibrate`: measure this host's package power against CPU load (a ladder of busy
//! threads read through RAPL) and file the curve under the CPU model, for the estimator on any
//! machine with that CPU.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use greenbench_meter::default_calibration_path;
use greenbench_meter::{open_counter, StepResult};
use greenbench_meter::{
    run_ladder, BusyLoad, CalibrationHeader, EnergySource, LadderPlan, DEFAULT_POWERCAP_ROOT,
};

/// Arguments of `greenbench calibrate`.
#[derive(clap::Args)]
pub struct CalibrateArgs {
    /// Powercap (RAPL) sysfs root.
    #[arg(long, default_value = DEFAULT_POWERCAP_ROOT)]
    powercap_root: PathBuf,
    /// Calibration file to write; default: the calibration folder
    /// ($GREENBENCH_CALIBRATION_DIR, else ~/.config/greenbench/calibration) / <cpu-model>.toml.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Ladder steps, evenly from 0 to --max-threads busy threads (at least 2).
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Busy threads of the ladder's top step; default: every logical CPU.
    #[arg(long)]
    max_threads: Option<usize>,
    /// Seconds each step's load runs before it is measured.
    #[arg(long, default_value_t = 2.0)]
    settle: f64,
    /// Seconds each step is measured.
    #[arg(long, default_value_t = 5.0)]
    measure: f64,
    /// CPU model to file the calibration under; default: /proc/cpuinfo's `model name`.
    #[arg(long)]
    cpu_model: Option<String>,
}

fn seconds(name: &str, v: f64, min: f64) -> anyhow::Result<Duration> {
    if !(v.is_finite() && (min..=3600.0).contains(&v)) {
        anyhow::bail!("--{name} takes seconds from {min} to 3600 (got {v})");
    }
    Ok(Duration::from_secs_f64(v))
}

/// Logical CPUs online (what `/proc/stat`'s utilisation and the package counter span).
fn logical_cpus() -> usize {
    // SAFETY: sysconf reads a system constant.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Runs the ladder and writes the calibration file.
pub fn run(a: CalibrateArgs) -> anyhow::Result<()> {
    let settle = seconds("settle", a.settle, 0.0)?;
    let measure = seconds("measure", a.measure, 0.1)?;
    if a.steps < 2 {
        anyhow::bail!(
            "--steps must be at least 2 (idle and full load), got {}",
            a.steps
        );
    }
    // Fails first, before any load, on a machine without RAPL.
    let mut source = open_counter(&a.powercap_root)?;
    let cpus = logical_cpus();
    let top = a.max_threads.unwrap_or(cpus);
    if top == 0 || top > cpus {
        anyhow::bail!("--max-threads must be 1 to {cpus} (the logical CPUs online), got {top}");
    }
    let cpu_model = a
        .cpu_model
        .or_else(greenbench_meter::cpu_model)
        .context("no `model name` in /proc/cpuinfo; name the CPU with --cpu-model")?;
    let out = match a.out {
        Some(p) => p,
        None => default_calibration_path(&cpu_model)?,
    };
    let plan = LadderPlan::even(top, a.steps, settle, measure);
    let total = (settle + measure) * plan.threads.len() as u32;
    eprintln!(
        "calibrating {cpu_model} ({cpus} logical CPUs) with {}: {} steps ({:?} threads), about {:.0} s; keep the machine otherwise idle",
        source.basis(),
        plan.threads.len(),
        plan.threads,
        total.as_secs_f64()
    );
    let header = CalibrationHeader {
        cpu_model,
        logical_cpus: cpus,
        source: source.basis(),
        measured_at: chrono::Utc::now().to_rfc3339(),
        host: greenbench_runner::hostname(),
    };
    let mut load = BusyLoad::new(cpus);
    let steps = plan.threads.len();
    let mut done = 0;
    let mut report = |s: &StepResult| {
        done += 1;
        eprintln!(
            "  step {done}/{steps}: {} thread(s), utilisation {:.1} % ({}), {:.1} W",
            s.point.threads,
            s.point.utilisation * 100.0,
            if s.measured_utilisation {
                format!("measured; nominal {:.1} %", s.nominal * 100.0)
            } else {
                "nominal: /proc/stat unreadable".into()
            },
            s.point.power_w
        );
        if s.point.threads == 0 && s.measured_utilisation && s.point.utilisation > 0.05 {
            eprintln!(
                "  warning: the host was {:.0} % busy at the idle step; other load skews the curve",
                s.point.utilisation * 100.0
            );
        }
    };
    let cal = run_ladder(&mut source, &mut load, &plan, header, &mut report)?;
    cal.write(&out)?;
    println!("wrote {}", out.display());
    println!("{}", cal.basis());
    println!(
        "idle {:.1} W, 50 % load {:.1} W, full load {:.1} W; the estimator uses this curve on machines whose CPU model is {:?} (docs/measurement.md)",
        cal.idle_w(),
        cal.power_w(0.5),
        cal.power_w(1.0),
        cal.cpu_model
    );
    Ok(())
}
