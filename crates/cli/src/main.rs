//! The greenbench command-line tool: sweeps, meters, models, datasets, reports, predictions,
//! and scale-out helpers. This is the only crate that names concrete energy sources and exporters.

/// mimalloc, with blocks of ≥ 1 MiB (a model's activations and gradients) placed best fit in
/// one reserved range (`greenbench_alloc::LargeBlocks`, so a step's resident memory stays close
/// to what it uses), counting the heap bytes in use so that the CPU estimate charges DRAM on
/// memory the run uses, not on pages kept for reuse (`greenbench_meter::live_heap`).
#[global_allocator]
static GLOBAL: greenbench_meter::LiveHeap<greenbench_alloc::LargeBlocks<mimalloc::MiMalloc>> =
    greenbench_meter::LiveHeap(greenbench_alloc::LargeBlocks::new(mimalloc::MiMalloc));

/// The candle version this build links (checked against Cargo.lock by a test).
pub const CANDLE_VERSION: &str = "0.11.1";
mod cmd;

use clap::{Parser, Subcommand};

/// Energy benchmark harness for ML training and inference.
#[derive(Parser)]
#[command(name = "greenbench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a sweep: train, meter and record every configuration of a TOML grid.
    Sweep(cmd::sweep::SweepArgs),
    /// Run one command of your own (`-- CMD ARGS…`) under the meter, recorded like a sweep's run.
    Exec(cmd::exec::ExecArgs),
    /// Which energy sources work on this machine, and why not.
    Meters(cmd::meters::MetersArgs),
    /// The model zoo: family, parameters, MACs per sample.
    Models(cmd::models::ModelsArgs),
    /// Which datasets are present, and how to fetch the rest.
    Datasets(cmd::datasets::DatasetsArgs),
    /// Turn a finished sweep folder into report.md, figures and exports.
    Report(cmd::report::ReportArgs),
    /// Estimate the energy of a configuration without running it, from a sweep's records.
    Predict(cmd::predict::PredictArgs),
    /// Combine shard folders of one sweep (`sweep --shard i/n`) into one sweep folder.
    Merge(cmd::merge::MergeArgs),
    /// Print an sbatch script running a sweep as a Slurm job array, plus a merge job.
    Slurm(cmd::slurm::SlurmArgs),
    /// Where a sweep folder stands: runs done/running/left, ETA, energy so far, best so far.
    Status(cmd::status::StatusArgs),
    /// Measure this host's CPU power curve (RAPL, a load ladder) and file it under the CPU model.
    Calibrate(cmd::calibrate::CalibrateArgs),
    /// Compare a sweep's energy per run with a wall meter's log (writes DIR/validation.md).
    Validate(cmd::validate::ValidateArgs),
    /// Runs one configuration (spec as JSON on stdin); started by `sweep`, not by hand.
    #[command(hide = true)]
    Worker,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if prints_only(&cli.command) {
        // `greenbench models | head -1`: stop quietly when the reader goes away, as `cat` does.
        // A sweep keeps the default (EPIPE as an error it ignores): it must go on recording.
        // SAFETY: restoring the default action of SIGPIPE before any thread starts.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let result = match cli.command {
        Command::Sweep(a) => return exit(cmd::sweep::run(a)),
        Command::Exec(a) => return exit(cmd::exec::run(a)),
        Command::Meters(a) => cmd::meters::run(a),
        Command::Models(a) => cmd::models::run(a),
        Command::Datasets(a) => cmd::datasets::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Predict(a) => cmd::predict::run(a),
        Command::Merge(a) => cmd::merge::run(a),
        Command::Slurm(a) => cmd::slurm::run(a),
        Command::Status(a) => cmd::status::run(a),
        Command::Calibrate(a) => cmd::calibrate::run(a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Worker => return cmd::worker::run(),
    };
    exit(result.map(|()| std::process::ExitCode::SUCCESS))
}

/// Whether the command only prints (no sweep to keep alive when its output is closed).
fn prints_only(c: &Command) -> bool {
    match c {
        Command::Sweep(a) => a.is_dry_run(),
        Command::Worker | Command::Exec(_) => false,
        _ => true,
    }
}

/// The exit code of a command's result; an error is printed with its causes, each once.
fn exit(result: anyhow::Result<std::process::ExitCode>) -> std::process::ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "error: {}", error_chain(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// The error and its causes joined by `: `, leaving out a cause whose text the message already
/// holds (many errors repeat their source in their own message).
fn error_chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if !text.contains(&c) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&c);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_repeated_in_its_message_is_printed_once() {
        let io = std::io::Error::other("No space left on device (os error 28)");
        let e =
            anyhow::Error::new(io).context("writing record: No space left on device (os error 28)");
        assert_eq!(
            error_chain(&e),
            "writing record: No space left on device (os error 28)"
        );
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_chain(&e), "outer: inner");
    }
}
