//! The greenbench command-line tool: sweeps, meters, models, datasets, reports, predictions,
//! and scale-out helpers. This is the only crate that names concrete energy sources and exporters.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod catalog;

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
    /// Runs one configuration (spec as JSON on stdin); started by `sweep`, not by hand.
    #[command(hide = true)]
    Worker,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Sweep(a) => cmd::sweep::run(a),
        Command::Meters(a) => cmd::meters::run(a),
        Command::Models(a) => cmd::models::run(a),
        Command::Datasets(a) => cmd::datasets::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Predict(a) => cmd::predict::run(a),
        Command::Merge(a) => cmd::merge::run(a),
        Command::Slurm(a) => cmd::slurm::run(a),
        Command::Worker => return cmd::worker::run(),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
