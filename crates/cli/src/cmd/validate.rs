//! `greenbench validate DIR --wall FILE.csv`: greenbench's energy per run against a wall meter's
//! log; writes DIR/validation.md and DIR/validation.{svg,png,pdf}.

use std::path::PathBuf;

use greenbench_analysis::{percent, write_validation, ValidateOptions};

/// Arguments of `greenbench validate`.
#[derive(clap::Args)]
pub struct ValidateArgs {
    /// The sweep folder (records and traces).
    dir: PathBuf,
    /// The wall meter's log: CSV with a header row, a time column (Unix seconds or RFC 3339) and
    /// a watts column (docs/measurement.md).
    #[arg(long, value_name = "FILE.csv")]
    wall: PathBuf,
    /// Wall idle power in watts; default: the log's mean before the first run started.
    #[arg(long, value_name = "WATTS")]
    idle_w: Option<f64>,
    /// Seconds to add to the log's timestamps to put them on this machine's clock.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    offset: f64,
}

/// Compares, writes the report and prints its headline.
pub fn run(a: ValidateArgs) -> anyhow::Result<()> {
    let opts = ValidateOptions {
        wall: a.wall,
        idle_w: a.idle_w,
        offset_s: a.offset,
    };
    let v = write_validation(&a.dir, &opts)?;
    println!(
        "{} run(s) compared, {} not; overall error {} (greenbench ÷ wall net − 1); wall idle {:.2} W ({})",
        v.runs.len(),
        v.skipped.len(),
        percent(v.overall_error()),
        v.idle.watts,
        v.idle.how
    );
    println!("wrote {}", a.dir.join("validation.md").display());
    Ok(())
}
