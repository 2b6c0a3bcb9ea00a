//! Training throughput of every zoo model, measured, for planning figures (`greenbench sweep
//! --dry-run`'s duration estimate): greenbench's training rows of the comparison in
//! docs/performance.md (`scripts/bench/compare.sh --seconds 1 --rounds 2`, which runs
//! `train_throughput --mode train`: synthetic batches, SGD with momentum, the models' default
//! input, best of 2 rounds) on the machine named in [`MACHINE`]. Other CPUs differ; the sweep
//! prints how far off its estimate was.

/// Where and how [`TABLE`] was measured.
pub const MACHINE: &str = "a shared 2-core AMD EPYC virtual machine (AVX-512) at 2 threads (2026-11-30 16:51 UTC, load average 1.3–1.8)";

/// Threads [`TABLE`] was measured with.
pub const THREADS: usize = 2;

/// One measurement: model, MACs per sample of its default input, batch size, training samples
/// per second.
pub type Row = (&'static str, u64, usize, f64);

/// The measurements, two batch sizes per model.
pub const TABLE: &[Row] = &[
    ("mlp-small", 203264, 32, 157838.8),
    ("mlp-small", 203264, 128, 339323.4),
    ("mlp-medium", 535040, 32, 72184.9),
    ("mlp-medium", 535040, 128, 134051.7),
    ("mlp-large", 2380800, 32, 13319.5),
    ("mlp-large", 2380800, 128, 24257.5),
    ("lenet", 651720, 32, 17620.8),
    ("lenet", 651720, 128, 17731.5),
    ("vgg16", 313201664, 32, 143.4),
    ("vgg16", 313201664, 128, 155.4),
    ("resnet18", 555422720, 32, 86.4),
    ("resnet18", 555422720, 128, 78.2),
    ("preact-resnet18", 555422720, 32, 90.9),
    ("preact-resnet18", 555422720, 128, 86.7),
    ("googlenet", 1521756160, 32, 20.4),
    ("googlenet", 1521756160, 128, 20.1),
    ("densenet121", 888350720, 32, 37.0),
    ("densenet121", 888350720, 128, 25.2),
    ("resnext29-2x64d", 1409492992, 32, 26.3),
    ("resnext29-2x64d", 1409492992, 128, 31.8),
    ("mobilenet", 46354432, 32, 503.0),
    ("mobilenet", 46354432, 128, 436.9),
    ("mobilenet-v2", 91154944, 32, 170.2),
    ("mobilenet-v2", 91154944, 128, 136.1),
    ("dpn26", 665050880, 32, 45.1),
    ("dpn26", 665050880, 128, 48.3),
    ("shufflenet-v2", 45002112, 32, 375.3),
    ("shufflenet-v2", 45002112, 128, 397.5),
    ("senet18", 555509760, 32, 87.9),
    ("senet18", 555509760, 128, 83.1),
    ("efficientnet-b0", 30331392, 32, 274.5),
    ("efficientnet-b0", 30331392, 128, 244.5),
    ("regnetx-200mf", 223317600, 32, 118.0),
    ("regnetx-200mf", 223317600, 128, 92.9),
    ("simple-dla", 913495040, 32, 52.6),
    ("simple-dla", 913495040, 128, 51.0),
    ("pnasnet-b", 74474752, 32, 100.3),
    ("pnasnet-b", 74474752, 128, 84.9),
    ("vit-tiny", 10880128, 32, 2360.3),
    ("vit-tiny", 10880128, 128, 2456.1),
    ("vit-small", 125341824, 32, 357.5),
    ("vit-small", 125341824, 128, 351.8),
    ("char-gpt", 55181312, 32, 818.1),
    ("char-gpt", 55181312, 128, 753.0),
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
