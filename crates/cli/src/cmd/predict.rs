//! `greenbench predict DIR --model M --batch-size B --epochs N`.

use std::path::PathBuf;

/// Arguments of `greenbench predict`.
#[derive(clap::Args)]
pub struct PredictArgs {
    /// A sweep folder holding runs.jsonl.
    dir: PathBuf,
}

/// Applies the fitted estimator.
pub fn run(a: PredictArgs) -> anyhow::Result<()> {
    anyhow::bail!("predict is not wired yet for {}", a.dir.display())
}
