//! `greenbench slurm CONFIG --shards N`: print an sbatch script that runs the sweep as a Slurm
//! job array followed by a merge job (the script itself is `greenbench_runner::slurm`).

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

use greenbench_runner::Shard;
use greenbench_runner::SlurmJob;

/// Arguments of `greenbench slurm`.
#[derive(clap::Args)]
pub struct SlurmArgs {
    /// The sweep config (TOML); validated as `greenbench sweep` would.
    config: PathBuf,
    /// Number of array tasks (shards); task i runs the runs whose position is ≡ i (mod N).
    #[arg(long)]
    shards: usize,
    /// Slurm partition (`#SBATCH --partition`).
    #[arg(long)]
    partition: Option<String>,
    /// Time limit per task, in Slurm's format (e.g. 12:00:00 or 2-00:00:00).
    #[arg(long)]
    time: Option<String>,
    /// GPUs per task (`#SBATCH --gpus-per-task`).
    #[arg(long)]
    gpus_per_task: Option<u32>,
    /// CPUs per task (default: the largest `threads` of the config).
    #[arg(long)]
    cpus_per_task: Option<u32>,
    /// Give each task a whole node (`#SBATCH --exclusive`): other jobs on the node would show up
    /// in measured (RAPL, NVML) energy.
    #[arg(long)]
    exclusive: bool,
    /// Sweep folder; shard i writes OUT/shard-i-of-N/, the merge job writes OUT
    /// (default: results/<name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The greenbench binary the jobs run, as seen from the compute nodes (default: this one).
    #[arg(long)]
    greenbench: Option<PathBuf>,
    /// Datasets folder, as seen from the compute nodes (default: $GREENBENCH_DATASETS or ./datasets).
    #[arg(long, env = "GREENBENCH_DATASETS")]
    datasets: Option<PathBuf>,
}

/// Runs the command: validates the config and prints the script to stdout.
pub fn run(a: SlurmArgs) -> anyhow::Result<()> {
    let script = job(&a)?.render();
    print!("{script}");
    Ok(())
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("making {} absolute", p.display()))
}

fn path_str(p: &Path) -> anyhow::Result<String> {
    match p.to_str() {
        Some(s) if !s.contains('\n') => Ok(s.to_string()),
        _ => bail!(
            "the path {} is not plain UTF-8 text; the job script cannot name it. Use another path.",
            p.display()
        ),
    }
}

/// Validates the config and gathers what the script names, with warnings for shards without
/// runs and a GPU sweep without GPUs per task.
fn job(a: &SlurmArgs) -> anyhow::Result<SlurmJob> {
    if a.shards == 0 {
        bail!("--shards must be at least 1");
    }
    let datasets = a
        .datasets
        .clone()
        .unwrap_or_else(greenbench_data::default_root);
    let cfg = crate::cmd::sweep::load_config(
        &a.config,
        None,
        &greenbench_catalog::ZooCatalog::new(datasets.clone()),
    )?;
    if cfg.search.strategy == greenbench_core::Strategy::Halving {
        bail!(
            "{}: a halving search decides each rung from every run of the rung before, so it cannot be \
             split into a job array (a shard would promote from its own runs only). Submit it as one job \
             instead, e.g. `sbatch --cpus-per-task=N --wrap 'greenbench sweep {}'` (it continues after a \
             time limit when resubmitted), or shard a grid or random search",
            a.config.display(),
            a.config.display()
        );
    }
    let total = cfg.expand().len();
    let shard_runs: Vec<usize> = (0..a.shards)
        .map(|index| {
            let shard = Shard {
                index,
                count: a.shards,
            };
            greenbench_runner::owned_runs(&cfg, Some(shard)).len()
        })
        .collect();
    if a.shards > total {
        eprintln!(
            "warning: {} shards for {total} runs; {} array task(s) will have nothing to do",
            a.shards,
            a.shards - total
        );
    }
    let uses_gpu = cfg.device.value.iter().any(|d| d.gpu_index().is_some());
    if uses_gpu && a.gpus_per_task.is_none() {
        eprintln!("warning: the config runs on cuda devices but --gpus-per-task is not set; tasks may get no GPU");
    }
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&cfg.name));
    let exe = match &a.greenbench {
        Some(p) => absolute(p)?,
        None => std::env::current_exe()
            .context("finding this greenbench executable; pass --greenbench PATH")?,
    };
    let max_threads = cfg.threads.value.iter().copied().max().unwrap_or(1);
    Ok(SlurmJob {
        sweep: cfg.name.clone(),
        total_runs: total,
        shard_runs,
        config: path_str(&absolute(&a.config)?)?,
        out: path_str(&absolute(&out)?)?,
        greenbench: path_str(&exe)?,
        datasets: path_str(&absolute(&datasets)?)?,
        cpus_per_task: a
            .cpus_per_task
            .unwrap_or_else(|| max_threads.clamp(1, u32::MAX as i64) as u32),
        partition: a.partition.clone(),
        time: a.time.clone(),
        gpus_per_task: a.gpus_per_task,
        exclusive: a.exclusive,
    })
}
