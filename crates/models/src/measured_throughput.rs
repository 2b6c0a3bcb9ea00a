//! Training throughput of every zoo model, measured, for planning figures (`greenbench sweep
//! --dry-run`'s duration estimate): greenbench's training rows of the comparison in
//! docs/performance.md (`scripts/bench/compare.sh --seconds 1 --rounds 4`, which runs
//! `train_throughput --mode train`: synthetic batches, SGD with momentum, the models' default
//! input, best of 4 rounds) on the machine named in [`MACHINE`]. Other CPUs differ; the sweep
//! prints how far off its estimate was.
//!
//! Measured data, not a list of models: [`TABLE`] is keyed by the registry's names (the model
//! table in `crate::definitions`), and its tests fail on a registered model without two rows, a
//! row naming no registered model, or MACs that are no longer the model's. After adding or
//! changing a model, rerun the comparison and copy its `train` rows here (the MACs column is
//! `greenbench models --json`'s `macs_per_sample`).

/// Where and how [`TABLE`] was measured.
pub const MACHINE: &str = "a shared 2-core AMD EPYC virtual machine (AVX-512) at 2 threads (2026-12-01 02:46 UTC, load average 1.1–1.8)";

/// Threads [`TABLE`] was measured with.
pub const THREADS: usize = 2;

/// One measurement: model, MACs per sample of its default input, batch size, training samples
/// per second.
pub type Row = (&'static str, u64, usize, f64);

/// The measurements, two batch sizes per model.
pub const TABLE: &[Row] = &[
    ("mlp-small", 203264, 32, 239557.9),
    ("mlp-small", 203264, 128, 399094.8),
    ("mlp-medium", 535040, 32, 95034.9),
    ("mlp-medium", 535040, 128, 148786.0),
    ("mlp-large", 2380800, 32, 15612.5),
    ("mlp-large", 2380800, 128, 25654.7),
    ("lenet", 651720, 32, 29838.6),
    ("lenet", 651720, 128, 29650.8),
    ("vgg16", 313201664, 32, 177.0),
    ("vgg16", 313201664, 128, 217.4),
    ("resnet18", 555422720, 32, 115.9),
    ("resnet18", 555422720, 128, 130.0),
    ("preact-resnet18", 555422720, 32, 108.4),
    ("preact-resnet18", 555422720, 128, 119.5),
    ("googlenet", 1521756160, 32, 25.9),
    ("googlenet", 1521756160, 128, 28.8),
    ("densenet121", 888350720, 32, 37.4),
    ("densenet121", 888350720, 128, 29.3),
    ("resnext29-2x64d", 1409492992, 32, 31.4),
    ("resnext29-2x64d", 1409492992, 128, 37.3),
    ("mobilenet", 46354432, 32, 518.5),
    ("mobilenet", 46354432, 128, 477.1),
    ("mobilenet-v2", 91154944, 32, 187.4),
    ("mobilenet-v2", 91154944, 128, 171.5),
    ("dpn26", 665050880, 32, 47.7),
    ("dpn26", 665050880, 128, 53.2),
    ("shufflenet-v2", 45002112, 32, 438.5),
    ("shufflenet-v2", 45002112, 128, 448.8),
    ("senet18", 555509760, 32, 110.7),
    ("senet18", 555509760, 128, 112.9),
    ("efficientnet-b0", 30331392, 32, 304.5),
    ("efficientnet-b0", 30331392, 128, 303.3),
    ("regnetx-200mf", 223317600, 32, 127.4),
    ("regnetx-200mf", 223317600, 128, 110.2),
    ("simple-dla", 913495040, 32, 68.8),
    ("simple-dla", 913495040, 128, 70.7),
    ("pnasnet-b", 74474752, 32, 115.3),
    ("pnasnet-b", 74474752, 128, 109.9),
    ("vit-tiny", 10880128, 32, 2690.5),
    ("vit-tiny", 10880128, 128, 2699.8),
    ("vit-small", 125341824, 32, 395.6),
    ("vit-small", 125341824, 128, 378.8),
    ("char-gpt", 55181312, 32, 857.4),
    ("char-gpt", 55181312, 128, 807.5),
];

/// Estimated training samples per second of `model` at `batch` on `threads` threads, for a
/// sample of `macs` multiply-accumulates (the same model on another input scales by MACs).
///
/// Batches between the measured ones are interpolated on log(batch), outside them the nearest is
/// used; threads scale linearly from [`THREADS`] (optimistic beyond the measured cores). A model
/// not in the table (a custom MLP) takes its family's rate in MACs per second from `like` (a
/// measured model of the same family). `None` when neither is in the table.
pub fn training_samples_per_s(
    model: &str,
    like: &str,
    macs: u64,
    batch: usize,
    threads: usize,
) -> Option<f64> {
    let rows: Vec<&Row> = match TABLE.iter().filter(|r| r.0 == model).collect::<Vec<_>>() {
        r if !r.is_empty() => r,
        _ => TABLE.iter().filter(|r| r.0 == like).collect(),
    };
    let mac_rate = interpolate(&rows, batch)?;
    Some(mac_rate / macs.max(1) as f64 * threads.max(1) as f64 / THREADS as f64)
}

/// MACs per second (samples/s × MACs/sample) at `batch` from a model's rows.
fn interpolate(rows: &[&Row], batch: usize) -> Option<f64> {
    let mut pts: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| ((r.2 as f64).ln(), r.3 * r.1 as f64))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (first, last) = (*pts.first()?, *pts.last()?);
    let x = (batch.max(1) as f64).ln();
    if x <= first.0 {
        return Some(first.1);
    }
    if x >= last.0 {
        return Some(last.1);
    }
    pts.windows(2)
        .find(|w| x <= w[1].0)
        .map(|w| w[0].1 + (w[1].1 - w[0].1) * (x - w[0].0) / (w[1].0 - w[0].0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_on_log_batch_and_clamps_outside() {
        let rows: Vec<Row> = vec![("m", 10, 32, 100.0), ("m", 10, 128, 200.0)];
        let r: Vec<&Row> = rows.iter().collect();
        assert_eq!(interpolate(&r, 8), Some(1000.0));
        assert_eq!(interpolate(&r, 512), Some(2000.0));
        let mid = interpolate(&r, 64).unwrap();
        assert!((mid - 1500.0).abs() < 1e-9, "{mid}");
    }

    #[test]
    fn every_zoo_model_is_measured_at_two_batch_sizes() {
        for e in crate::registry::entries() {
            let n = TABLE.iter().filter(|r| r.0 == e.name).count();
            assert_eq!(n, 2, "{} has {n} measurements", e.name);
        }
    }

    #[test]
    fn every_measured_model_is_registered_with_the_measured_macs() {
        for e in crate::train::list() {
            let Some(row) = TABLE.iter().find(|r| r.0 == e.name) else {
                continue; // the test above reports it
            };
            let macs = crate::train::describe(&e.name, &e.default_input)
                .map(|s| s.macs_per_sample)
                .unwrap_or_else(|err| panic!("{}: {err}", e.name));
            assert_eq!(
                row.1, macs,
                "{}: MACs per sample at its default input",
                e.name
            );
        }
        let names: Vec<String> = crate::registry::entries()
            .into_iter()
            .map(|e| e.name)
            .collect();
        for r in TABLE {
            assert!(
                names.iter().any(|n| n == r.0),
                "`{}` is measured but not registered",
                r.0
            );
        }
    }

    #[test]
    fn a_custom_mlp_takes_its_familys_mac_rate() {
        let (name, macs, batch, sps) = TABLE.iter().find(|r| r.0 == "mlp-medium").copied().unwrap();
        let same = training_samples_per_s(name, name, macs, batch, THREADS).unwrap();
        assert!((same - sps).abs() / sps < 1e-9);
        // Twice the MACs, half the samples per second; twice the threads, twice.
        let custom =
            training_samples_per_s("mlp-4096", "mlp-medium", 2 * macs, batch, 2 * THREADS).unwrap();
        assert!((custom - sps).abs() / sps < 1e-9);
    }
}
