//! `greenbench predict DIR --model M --batch-size B --epochs N`: training energy and time of a
//! configuration that was not run, from a sweep's records.

use anyhow::{bail, Context};
use std::path::PathBuf;

use greenbench_analysis::{format_duration, format_energy, predict, Sweep};

use greenbench_catalog::dataset_input;

/// Arguments of `greenbench predict`.
#[derive(clap::Args)]
pub struct PredictArgs {
    /// A sweep folder holding runs.jsonl.
    dir: PathBuf,
    /// Model name (from the zoo; need not be in the sweep).
    #[arg(long)]
    model: String,
    /// Batch size.
    #[arg(long)]
    batch_size: usize,
    /// Training epochs.
    #[arg(long)]
    epochs: usize,
    /// Training-set size in samples (default: the sweep's most common).
    #[arg(long, default_value_t = 0)]
    train_samples: u64,
    /// Print a JSON object with energy_j, duration_s and an interval.
    #[arg(long)]
    json: bool,
}

/// Predicts and prints.
pub fn run(a: PredictArgs) -> anyhow::Result<()> {
    let sweep =
        Sweep::load(&a.dir).with_context(|| format!("reading the sweep in {}", a.dir.display()))?;
    // Complexity of the model: from the records when it was run, else built from the zoo for the
    // sweep's dataset.
    let from_records = sweep
        .records
        .iter()
        .filter(|r| r.spec.model == a.model)
        .find_map(|r| r.model.as_ref().map(|m| (m.params, m.macs_per_sample)));
    let (params, macs) = match from_records {
        Some(pm) => pm,
        None => {
            let dataset = sweep
                .records
                .first()
                .map(|r| r.spec.dataset.clone())
                .context("the sweep has no records")?;
            let Some(input) = dataset_input(&dataset) else {
                bail!("dataset `{dataset}` of the sweep is unknown to this greenbench")
            };
            let s = greenbench_models::describe(&a.model, &input).with_context(|| {
                format!(
                    "model `{}` on `{dataset}` (see `greenbench models`)",
                    a.model
                )
            })?;
            (s.params, s.macs_per_sample)
        }
    };
    let p = predict(
        &sweep.records,
        params,
        macs,
        a.batch_size,
        a.epochs,
        a.train_samples,
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
        return Ok(());
    }
    println!(
        "{} (batch {}, {} epochs): training ≈ {} in ≈ {}",
        a.model,
        a.batch_size,
        a.epochs,
        format_energy(p.energy_j),
        format_duration(p.duration_s)
    );
    println!(
        "  interval: {} – {}, {} – {} ({})",
        format_energy(p.interval.energy_j[0]),
        format_energy(p.interval.energy_j[1]),
        format_duration(p.interval.duration_s[0]),
        format_duration(p.interval.duration_s[1]),
        p.interval.source
    );
    println!(
        "  basis: {} ({} energy, {}, {} runs)",
        p.basis.description,
        serde_json::to_value(p.basis.energy)?
            .as_str()
            .unwrap_or("?"),
        p.basis.quality,
        p.basis.runs
    );
    Ok(())
}
