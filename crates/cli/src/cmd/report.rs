//! `greenbench report DIR`.

use std::path::PathBuf;

/// Arguments of `greenbench report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// A sweep folder holding runs.jsonl (and manifest.json).
    dir: PathBuf,
}

/// Writes report.md, figures, runs.csv, summary.md and emissions.csv into the folder.
pub fn run(a: ReportArgs) -> anyhow::Result<()> {
    anyhow::bail!("report is not wired yet for {}", a.dir.display())
}
