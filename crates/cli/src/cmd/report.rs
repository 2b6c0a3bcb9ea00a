//! `greenbench report DIR`: the correlation study, predictions, carbon, figures and exports.

use anyhow::Context;
use std::path::PathBuf;

use greenbench_analysis::{write_report, ReportOptions};

/// Arguments of `greenbench report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// A sweep folder holding runs.jsonl (and manifest.json), e.g. results/quick.
    dir: PathBuf,
    /// Skip the figures (text and exports only).
    #[arg(long)]
    no_figures: bool,
    /// Physical width of every figure, for a paper: 3.5in (single column) or 7in (double
    /// column); also mm or cm. Text stays ≥ 7 pt at that width; PDF pages are that wide.
    #[arg(long, value_parser = greenbench_analysis::parse_width)]
    figure_width: Option<f64>,
    /// A sweep folder with the same configurations run as a full grid: the Search section then
    /// compares the search with its measured energy and best validation accuracy.
    #[arg(long, value_name = "GRIDDIR")]
    compare_grid: Option<PathBuf>,
    /// Leave runs flagged `interference` (other processes used more than the sweep's threshold
    /// of the machine during them) out of the statistics; the report lists them either way.
    #[arg(long)]
    exclude_flagged: bool,
}

/// Writes report.md, report.html, summary.md, runs.csv, emissions.csv, tables/ and figures/ into
/// the folder.
pub fn run(a: ReportArgs) -> anyhow::Result<()> {
    let t0 = std::time::Instant::now();
    let s = write_report(
        &a.dir,
        &ReportOptions {
            figures: !a.no_figures,
            figure_width_in: a.figure_width,
            compare_grid: a.compare_grid,
            exclude_flagged: a.exclude_flagged,
        },
    )
    .with_context(|| format!("writing the report of {}", a.dir.display()))?;
    println!(
        "{} records ({} ok) → {} files in {:.1} s; training energy basis: {:?}, quality: {}",
        s.runs_total,
        s.runs_ok,
        s.files.len(),
        t0.elapsed().as_secs_f64(),
        s.basis,
        s.quality
    );
    if s.duplicates_dropped > 0 {
        println!(
            "  dropped {} duplicate record(s) of the same run id (an ok record kept over a failed one, else the last)",
            s.duplicates_dropped
        );
    }
    if let Some(m) = s.missing_runs.filter(|&m| m > 0) {
        println!("  incomplete: {m} run(s) of the sweep have no record yet");
    }
    for (id, status, err) in &s.not_ok {
        println!(
            "  left out: {id} {} {}",
            status.name(),
            err.as_deref().unwrap_or("").lines().next().unwrap_or("")
        );
    }
    for f in &s.figures {
        if let Some(why) = &f.skipped {
            println!("  figure {} skipped: {why}", f.name);
        }
    }
    println!("report: {}", s.report.display());
    Ok(())
}
