//! `greenbench slurm CONFIG --shards N`: print an sbatch script that runs the sweep as a Slurm
//! job array (one shard per task, `--resume` so resubmitting continues) followed by a merge job
//! that depends on the whole array.
//!
//! The script submits itself: `bash job.sbatch` queues the array and then the merge job with
//! `--dependency=afterok:<array id>`; `sbatch job.sbatch` queues the array, whose task 0 then
//! queues the merge job. Either way one command is enough.

use anyhow::{bail, Context};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use greenbench_runner::Shard;

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
    let script = render(&a)?;
    print!("{script}");
    Ok(())
}

/// Quotes a string for POSIX shells (single quotes; `'` becomes `'\''`).
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
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

/// A Slurm-safe job name from the sweep name.
fn job_name(sweep: &str) -> String {
    let s: String = sweep
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("greenbench-{s}")
}

/// "N runs per shard" or the two sizes that occur.
fn runs_per_shard(counts: &[usize]) -> String {
    let (min, max) = (
        counts.iter().copied().min().unwrap_or(0),
        counts.iter().copied().max().unwrap_or(0),
    );
    if min == max {
        return format!("{min} runs per shard");
    }
    let big: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] == max).collect();
    format!(
        "{max} runs in shards 0–{} and {min} in shards {}–{}",
        big.len() - 1,
        big.len(),
        counts.len() - 1
    )
}

fn render(a: &SlurmArgs) -> anyhow::Result<String> {
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
        &greenbench_worker::ZooCatalog {
            datasets_root: datasets.clone(),
        },
    )?;
    let total = cfg.expand().len();
    let counts: Vec<usize> = (0..a.shards)
        .map(|index| {
            greenbench_runner::sweep::owned_runs(
                &cfg,
                Some(Shard {
                    index,
                    count: a.shards,
                }),
            )
            .len()
        })
        .collect();
    if a.shards > total {
        eprintln!(
            "warning: {} shards for {total} runs; {} array task(s) will have nothing to do",
            a.shards,
            a.shards - total
        );
    }
    let uses_gpu = cfg.device.value.iter().any(|d| d.starts_with("cuda"));
    if uses_gpu && a.gpus_per_task.is_none() {
        eprintln!("warning: the config runs on cuda devices but --gpus-per-task is not set; tasks may get no GPU");
    }

    let config = path_str(&absolute(&a.config)?)?;
    let out = path_str(&absolute(
        &a.out
            .clone()
            .unwrap_or_else(|| PathBuf::from("results").join(&cfg.name)),
    )?)?;
    let exe = match &a.greenbench {
        Some(p) => absolute(p)?,
        None => std::env::current_exe()
            .context("finding this greenbench executable; pass --greenbench PATH")?,
    };
    let exe = path_str(&exe)?;
    let datasets = path_str(&absolute(&datasets)?)?;
    let cpus = a.cpus_per_task.unwrap_or_else(|| {
        cfg.threads
            .value
            .iter()
            .copied()
            .max()
            .unwrap_or(1)
            .clamp(1, u32::MAX as i64) as u32
    });
    let n = a.shards;
    let name = job_name(&cfg.name);
    let last = n - 1;

    let mut s = String::new();
    let w = &mut s;
    // Writing to a String cannot fail.
    let _ = writeln!(w, "#!/bin/bash");
    let _ = writeln!(
        w,
        "# greenbench sweep `{}` as a Slurm job array, generated by `greenbench slurm` {}.",
        cfg.name,
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(w, "# Config: {config}");
    let _ = writeln!(
        w,
        "# {total} runs over {n} shards: {}.",
        runs_per_shard(&counts)
    );
    let _ = writeln!(
        w,
        "# Array task i runs `greenbench sweep CONFIG --shard i/{n} --out OUT --resume` into\n\
         # OUT/shard-i-of-{n}/; then a merge job (--dependency=afterok on the whole array) runs\n\
         # `greenbench merge OUT OUT/shard-*-of-{n}`. OUT = {out}\n\
         #\n\
         # Submit with ONE of (each queues the array and the merge job):\n\
         #   bash job.sbatch     this script submits the array, then the dependent merge job\n\
         #   sbatch job.sbatch   the array is queued; its task 0 queues the dependent merge job\n\
         #                       (needs sbatch on the compute nodes; otherwise use bash job.sbatch)\n\
         # Resubmitting resumes: every task runs with --resume, so finished runs are skipped.\n\
         # If a task fails, the merge job is cancelled (--kill-on-invalid-dep); resubmit, or merge\n\
         # what there is by hand: greenbench merge OUT OUT/shard-*-of-{n}\n\
         # Energy is metered per node; for measured (RAPL/NVML) energy give each task a whole node\n\
         # (greenbench slurm --exclusive). Override the binary with GREENBENCH=/path/to/greenbench."
    );
    let _ = writeln!(w, "#SBATCH --job-name={name}");
    let _ = writeln!(w, "#SBATCH --array=0-{last}");
    let _ = writeln!(w, "#SBATCH --ntasks=1");
    let _ = writeln!(w, "#SBATCH --cpus-per-task={cpus}");
    let _ = writeln!(w, "#SBATCH --output={name}-%A_%a.out");
    let mut merge_opts = vec![
        format!("--job-name={name}-merge"),
        "--ntasks=1".to_string(),
        "--cpus-per-task=1".to_string(),
        format!("--output={name}-merge-%j.out"),
        "--kill-on-invalid-dep=yes".to_string(),
    ];
    if let Some(p) = &a.partition {
        let _ = writeln!(w, "#SBATCH --partition={p}");
        merge_opts.push(format!("--partition={p}"));
    }
    if let Some(t) = &a.time {
        let _ = writeln!(w, "#SBATCH --time={t}");
        merge_opts.push(format!("--time={t}"));
    }
    if let Some(g) = a.gpus_per_task {
        let _ = writeln!(w, "#SBATCH --gpus-per-task={g}");
    }
    if a.exclusive {
        let _ = writeln!(w, "#SBATCH --exclusive");
    }
    let merge_opts: Vec<String> = merge_opts.iter().map(|o| sh_quote(o)).collect();
    let _ = write!(
        w,
        r#"
set -euo pipefail
export GREENBENCH=${{GREENBENCH:-{exe}}}
export GREENBENCH_CONFIG={config}
export GREENBENCH_OUT={out}
export GREENBENCH_DATASETS=${{GREENBENCH_DATASETS:-{datasets}}}
SHARDS={n}
MERGE_OPTS=({merge_opts})
MERGE_CMD='exec "$GREENBENCH" merge --force "$GREENBENCH_OUT" "$GREENBENCH_OUT"/shard-*-of-{n}'

if [ -z "${{SLURM_ARRAY_TASK_ID:-}}" ]; then
    if [ -n "${{SLURM_JOB_ID:-}}" ] && [ "${{SLURM_JOB_NAME:-}}" = {name_q} ]; then
        echo "error: this job is not an array task; submit with 'sbatch job.sbatch' (keeps its --array line) or 'bash job.sbatch'" >&2
        exit 1
    fi
    # Submit mode (bash job.sbatch): queue the array, then the merge job that waits for all of it.
    command -v sbatch >/dev/null || {{ echo "error: sbatch not found; run this on a Slurm submit host" >&2; exit 1; }}
    [ -f "$0" ] || {{ echo "error: run this script as a file: bash job.sbatch" >&2; exit 1; }}
    export GREENBENCH_MERGE_QUEUED=1
    array=$(sbatch --parsable "$0")
    array=${{array%%;*}}
    merge=$(sbatch --parsable "${{MERGE_OPTS[@]}}" --dependency=afterok:"$array" --wrap "$MERGE_CMD")
    merge=${{merge%%;*}}
    echo "submitted array job $array ($SHARDS tasks) and merge job $merge (runs when every task succeeded)"
    echo "watch: squeue -j $array,$merge    merged results: $GREENBENCH_OUT"
    exit 0
fi

# Array task mode.
if [ "$SLURM_ARRAY_TASK_ID" -ge "$SHARDS" ]; then
    echo "error: array task $SLURM_ARRAY_TASK_ID but the sweep has $SHARDS shards (0-{last})" >&2
    exit 1
fi
if [ "$SLURM_ARRAY_TASK_ID" = 0 ] && [ -z "${{GREENBENCH_MERGE_QUEUED:-}}" ]; then
    # Submitted with plain `sbatch job.sbatch`: the first task queues the merge job once.
    export GREENBENCH_MERGE_QUEUED=1
    if merge=$(sbatch --parsable "${{MERGE_OPTS[@]}}" --dependency=afterok:"$SLURM_ARRAY_JOB_ID" --wrap "$MERGE_CMD"); then
        echo "queued merge job ${{merge%%;*}} after array job $SLURM_ARRAY_JOB_ID"
    else
        echo "warning: could not queue the merge job from this node; when the array is done run: $GREENBENCH merge $GREENBENCH_OUT $GREENBENCH_OUT/shard-*-of-$SHARDS" >&2
    fi
fi
echo "greenbench shard $SLURM_ARRAY_TASK_ID/$SHARDS on $(hostname)"
exec "$GREENBENCH" sweep "$GREENBENCH_CONFIG" --shard "$SLURM_ARRAY_TASK_ID/{n}" --out "$GREENBENCH_OUT" --resume
"#,
        exe = sh_quote(&exe),
        config = sh_quote(&config),
        out = sh_quote(&out),
        datasets = sh_quote(&datasets),
        merge_opts = merge_opts.join(" "),
        name_q = sh_quote(&name),
    );
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_shard_sizes() {
        assert_eq!(sh_quote("a b"), "'a b'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(runs_per_shard(&[4, 4, 4]), "4 runs per shard");
        assert_eq!(
            runs_per_shard(&[5, 5, 4, 4, 4]),
            "5 runs in shards 0–1 and 4 in shards 2–4"
        );
        assert_eq!(job_name("my sweep/1"), "greenbench-my_sweep_1");
    }
}
