//! A sweep's manifest and idle baseline: measured before the first run of a new folder (a
//! continued folder keeps its own), and again after the last run to show drift; and the
//! environment every worker runs with, recorded in the manifest.

use greenbench_core::ComponentPower;
use greenbench_core::Flag;
use greenbench_core::{BoxError, SweepConfig};

use crate::error::RunnerError;
use crate::interference::{own_cpu_s, Window};
use crate::manifest::write_manifest;
use crate::options::SweepOptions;
use crate::progress::{say, Progress, ProgressMode};
use greenbench_core::Manifest;

/// Measures the idle baseline of a new folder (a continued one keeps its own), writes the
/// manifest and returns it.
pub(crate) fn start_manifest(
    cfg: &SweepConfig,
    opts: &SweepOptions,
    previous: Option<Manifest>,
    idle: &mut dyn FnMut(f64) -> Result<ComponentPower, BoxError>,
) -> Result<Manifest, RunnerError> {
    let now = chrono::Utc::now().to_rfc3339();
    let (idle_power, idle_seconds, idle_interference) = match &previous {
        Some(m) => (
            m.idle_power_w.clone(),
            m.idle_seconds,
            m.idle_interference.clone(),
        ),
        None => {
            let secs = cfg.idle_seconds.value;
            if secs > 0.0 && opts.progress == ProgressMode::Auto {
                say(&format!(
                    "measuring idle power for {secs} s (keep the machine otherwise quiet)…"
                ));
            }
            let own0 = own_cpu_s();
            let window = Window::open(&opts.proc_root);
            let power = idle(secs).map_err(|e| RunnerError::Idle(e.to_string()))?;
            let interference = (secs > 0.0)
                .then(|| window.close(own_cpu_s() - own0))
                .flatten();
            (power, secs, interference)
        }
    };
    let idle_flags: Vec<Flag> = idle_interference
        .as_ref()
        .and_then(|i| i.idle_flag(cfg.interference_threshold.value))
        .into_iter()
        .collect();
    if let (Some(f), None) = (idle_flags.first(), &previous) {
        say(&format!("idle baseline: {}", f.reason));
    }
    let manifest = Manifest {
        greenbench_version: env!("CARGO_PKG_VERSION").into(),
        sweep: cfg.name.clone(),
        config_path: cfg.path.display().to_string(),
        config: cfg.text.clone(),
        fingerprint: cfg.fingerprint(),
        total_runs: cfg.expand().len(),
        shard: opts.shard,
        host: opts.host.clone(),
        meters: opts.meter_status.clone(),
        idle_power_w: idle_power,
        idle_seconds,
        idle_interference,
        idle_flags,
        idle_power_end_w: None,
        meter_settings: Some(opts.meter.clone()),
        environment: worker_environment(opts),
        created_at: previous
            .as_ref()
            .map_or(now.clone(), |m| m.created_at.clone()),
        updated_at: now,
    };
    write_manifest(&manifest, &opts.out.join("manifest.json"))?;
    Ok(manifest)
}

/// Measures idle power again after the last run and keeps it in the manifest beside the
/// baseline, so a drifting baseline (background load that came or went) shows.
pub(crate) fn remeasure_idle(
    cfg: &SweepConfig,
    opts: &SweepOptions,
    manifest: &mut Manifest,
    idle: &mut dyn FnMut(f64) -> Result<ComponentPower, BoxError>,
    progress: &Progress,
) -> Result<(), RunnerError> {
    let secs = cfg.idle_seconds.value;
    if secs <= 0.0 || crate::interrupt::is_requested() {
        return Ok(());
    }
    if opts.progress == ProgressMode::Auto {
        say(&format!(
            "measuring idle power again for {secs} s (baseline drift)…"
        ));
    }
    match idle(secs) {
        Ok(p) => {
            manifest.idle_power_end_w = Some(p);
            write_manifest(manifest, &opts.out.join("manifest.json"))
        }
        Err(e) => {
            progress.println(&format!(
                "idle power after the sweep could not be measured: {e}"
            ));
            Ok(())
        }
    }
}

/// Environment for every worker: the GPU order NVML and CUDA agree on, and mimalloc told to keep
/// freed memory for reuse (`MIMALLOC_PURGE_DELAY=-1`) instead of returning it to the OS after
/// 10 ms, which made each training step fault its tensors' pages in again (11 % of a ViT-tiny
/// step in `clear_page`, 5–10 % slower; docs/performance.md). A value the user set is kept.
pub fn worker_env() -> Vec<(String, String)> {
    let mut env = vec![("CUDA_DEVICE_ORDER".to_string(), "PCI_BUS_ID".to_string())];
    const PURGE: &str = "MIMALLOC_PURGE_DELAY";
    let purge = std::env::var(PURGE).unwrap_or_else(|_| "-1".into());
    env.push((PURGE.into(), purge));
    env
}

/// What the workers' computation depends on besides the spec, for the manifest.
fn worker_environment(opts: &SweepOptions) -> std::collections::BTreeMap<String, String> {
    const SPIN: &str = "CANDLE_BARRIER_POOL_SPIN_LIMIT";
    let mut env = std::collections::BTreeMap::new();
    let spin = opts
        .worker_env
        .iter()
        .find(|(k, _)| k == SPIN)
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var(SPIN).ok())
        .unwrap_or_else(|| "unset (candle's default: idle workers busy-wait)".into());
    env.insert(SPIN.into(), spin);
    let pool_spin = std::env::var(greenbench_core::POOL_SPIN_ENV).unwrap_or_else(|_| {
        format!(
            "unset (auto: the idle compute threads spin {} µs while the CPU pressure stays below \
             {} %, else yield their core at once)",
            greenbench_core::AUTO_SPIN_US,
            greenbench_core::QUIET_PRESSURE * 100.0
        )
    });
    env.insert(greenbench_core::POOL_SPIN_ENV.into(), pool_spin);
    let slice = std::env::var(greenbench_core::SCHED_SLICE_ENV).unwrap_or_else(|_| {
        "unset (100: the compute threads ask Linux 6.12+ for a 100 µs time slice)".into()
    });
    env.insert(greenbench_core::SCHED_SLICE_ENV.into(), slice);
    // The workers run this binary, so its global allocator's placement is theirs.
    let blocks =
        std::env::var(greenbench_alloc::LARGE_BLOCKS_VAR).unwrap_or_else(|_| "unset".into());
    env.insert(
        greenbench_alloc::LARGE_BLOCKS_VAR.into(),
        format!("{blocks}: {}", greenbench_alloc::large_blocks_status()),
    );
    env.insert(
        "RAYON_NUM_THREADS".into(),
        "set per run from the spec's `threads`".into(),
    );
    for (k, v) in &opts.worker_env {
        env.entry(k.clone()).or_insert_with(|| v.clone());
    }
    env
}
