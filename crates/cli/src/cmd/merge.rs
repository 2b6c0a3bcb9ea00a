//! `greenbench merge OUT DIR…`: combine shard folders of one sweep into one sweep folder.

use anyhow::bail;
use std::path::{Path, PathBuf};

use greenbench_runner::Shard;
use greenbench_runner::{merge, MergeReport, ShardEntry};

/// Arguments of `greenbench merge`.
#[derive(clap::Args)]
pub struct MergeArgs {
    /// The merged sweep folder to write (e.g. results/NAME); not one of the inputs.
    out: PathBuf,
    /// Shard folders written by `greenbench sweep --shard i/n` (e.g. results/NAME/shard-*).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Exit non-zero when a run of the sweep has no record in any input.
    #[arg(long)]
    require_complete: bool,
    /// Replace the results OUT already holds (by default a non-empty OUT is refused).
    #[arg(long)]
    force: bool,
}

/// Runs the command.
pub fn run(a: MergeArgs) -> anyhow::Result<()> {
    let r = merge(&a.out, &a.dirs, a.force)?;
    print_report(&r);
    if a.require_complete && !r.is_complete() {
        bail!(
            "{} of {} runs are missing (--require-complete); resume the shards that own them (listed above), then merge again with --force",
            r.missing.len(),
            r.total_runs
        );
    }
    Ok(())
}

fn print_report(r: &MergeReport) {
    println!(
        "merged {} folder(s) of sweep `{}` ({}) into {}: {} of {} runs recorded",
        r.shards.len() + r.empty_shards.len(),
        r.sweep,
        r.config_path,
        r.out.display(),
        r.runs_present,
        r.total_runs
    );
    print_inputs(r);
    print_dropped(r);
    if r.missing.is_empty() {
        println!("complete: every run of the sweep has a record");
    } else {
        print_missing(r);
    }
    println!("next: greenbench report {}", r.out.display());
}

/// One line per input folder: shard, host, idle power, and what became of its records.
fn print_inputs(r: &MergeReport) {
    for s in &r.shards {
        let idle = s
            .idle_power_w
            .total_w
            .map_or("idle not measured".to_string(), |w| {
                format!("idle {w:.1} W")
            });
        let host = if s.host.hostname.is_empty() {
            "unknown host"
        } else {
            &s.host.hostname
        };
        println!(
            "  {:<10} {}  on {host}, {idle}: {}",
            s.shard
                .map_or("unsharded".to_string(), |x| format!("shard {x}")),
            s.folder,
            records_outcome(s, r.total_runs)
        );
    }
    for e in &r.empty_shards {
        println!(
            "  {:<10} {}: had no runs (the sweep has {} runs for {} shards); no manifest, nothing to merge",
            format!("shard {}", e.shard),
            e.folder.display(),
            r.total_runs,
            e.shard.count
        );
    }
}

/// `4 record(s): 3 kept, 1 dropped as duplicates`, every record of the folder accounted for.
fn records_outcome(s: &ShardEntry, total_runs: usize) -> String {
    if s.records == 0 {
        return match s.shard {
            Some(x) if x.owns_none_of(total_runs) => format!(
                "had no runs (the sweep has {total_runs} runs for {} shards)",
                x.count
            ),
            _ => "no records".to_string(),
        };
    }
    let mut parts = vec![format!("{} kept", s.runs_kept)];
    for (n, what) in [
        (s.duplicates_dropped, "dropped as duplicates"),
        (s.superseded, "replaced by an ok record of a later folder"),
        (s.foreign_dropped, "not runs of this config"),
        (s.non_terminal_dropped, "without a terminal status"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    format!("{} record(s): {}", s.records, parts.join(", "))
}

/// What the merge left out, and the shards no folder was given for.
fn print_dropped(r: &MergeReport) {
    if r.duplicates_dropped > 0 {
        println!(
            "dropped {} duplicate record(s) (a run id recorded more than once; an ok record is kept over one that is not, else the first folder's; per folder above)",
            r.duplicates_dropped
        );
    }
    if r.foreign_dropped > 0 {
        println!(
            "dropped {} record(s) whose run id is not a run of this config",
            r.foreign_dropped
        );
    }
    if r.non_terminal_dropped > 0 {
        println!(
            "dropped {} record(s) without a terminal status",
            r.non_terminal_dropped
        );
    }
    for s in &r.absent_shards {
        println!(
            "no folder given for shard {s} (expected {})",
            s.folder_name()
        );
    }
}

/// The runs without a record, and the commands that finish them.
fn print_missing(r: &MergeReport) {
    println!(
        "MISSING {} of {} runs (no record in any folder):",
        r.missing.len(),
        r.total_runs
    );
    for m in &r.missing {
        let owners: Vec<String> = m.owners.iter().map(|s| s.to_string()).collect();
        println!(
            "  #{:<4} {}  {} batch {} lr {} {} epochs {} repeat {}  — owned by shard {}",
            m.position,
            m.run_id,
            m.spec.model,
            m.spec.batch_size,
            greenbench_core::compact_number(m.spec.lr),
            m.spec.optimizer,
            m.spec.epochs,
            m.spec.repeat,
            if owners.is_empty() {
                "? (inputs are unsharded)".to_string()
            } else {
                owners.join(" or ")
            }
        );
    }
    let mut owners: Vec<Shard> = r.missing.iter().flat_map(|m| m.owners.clone()).collect();
    owners.sort_by_key(|s| (s.count, s.index));
    owners.dedup();
    if owners.is_empty() {
        println!(
            "to finish: greenbench sweep {} --out DIR --resume, then merge again with --force",
            r.config_path
        );
    }
    for s in owners {
        // Shard folders are DIR/shard-i-of-n: resume into the DIR the other shards used.
        let parent = r
            .shards
            .iter()
            .filter(|e| e.shard.is_some_and(|x| x.count == s.count))
            .find_map(|e| {
                Path::new(&e.folder)
                    .parent()
                    .map(|p| p.display().to_string())
            })
            .unwrap_or_else(|| "DIR".into());
        println!(
            "to finish shard {s}: greenbench sweep {} --shard {s} --out {parent} --resume",
            r.config_path
        );
    }
    println!("then merge again with --force (it replaces this merge)");
}
