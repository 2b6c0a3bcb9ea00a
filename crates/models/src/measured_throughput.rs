//! Training throughput of every zoo model, measured, for planning figures (`greenbench sweep
//! --dry-run`'s duration estimate): greenbench's training rows of the comparison in
//! docs/performance.md (`scripts/bench/compare.sh --seconds 1 --rounds 4`, which runs
//! `train_throughput --mode train`: synthetic batches, SGD with momentum, the models' default
//! input, best of 4 rounds) on the machine named in [`MACHINE`]. Other CPUs differ; the sweep
//! prints how far off its estimate was.

/// Where and how [`TABLE`] was measured.
pub const MACHINE: &str = "a shared 2-core AMD EPYC virtual machine (AVX-512) at 2 threads (2026-11-30 21:35 UTC, load average 1.4–1.9)";

/// Threads [`TABLE`] was measured with.
pub const THREADS: usize = 2;

/// One measurement: model, MACs per sample of its default input, batch size, training samples
/// per second.
pub type Row = (&'static str, u64, usize, f64);

/// The measurements, two batch sizes per model.
pub const TABLE: &[Row] = &[
    ("mlp-small", 203264, 32, 227934.5),
    ("mlp-small", 203264, 128, 370970.9),
    ("mlp-medium", 535040, 32, 89627.8),
    ("mlp-medium", 535040, 128, 144157.8),
    ("mlp-large", 2380800, 32, 15435.4),
    ("mlp-large", 2380800, 128, 24631.4),
    ("lenet", 651720, 32, 20210.0),
    ("lenet", 651720, 128, 21060.3),
    ("vgg16", 313201664, 32, 176.7),
    ("vgg16", 313201664, 128, 207.2),
    ("resnet18", 555422720, 32, 110.4),
    ("resnet18", 555422720, 128, 125.2),
    ("preact-resnet18", 555422720, 32, 108.2),
    ("preact-resnet18", 555422720, 128, 117.8),
    ("googlenet", 1521756160, 32, 26.7),
    ("googlenet", 1521756160, 128, 24.3),
    ("densenet121", 888350720, 32, 38.1),
    ("densenet121", 888350720, 128, 31.9),
    ("resnext29-2x64d", 1409492992, 32, 30.5),
    ("resnext29-2x64d", 1409492992, 128, 34.7),
    ("mobilenet", 46354432, 32, 518.6),
    ("mobilenet", 46354432, 128, 490.4),
    ("mobilenet-v2", 91154944, 32, 178.7),
    ("mobilenet-v2", 91154944, 128, 154.4),
    ("dpn26", 665050880, 32, 43.1),
    ("dpn26", 665050880, 128, 50.0),
    ("shufflenet-v2", 45002112, 32, 408.2),
    ("shufflenet-v2", 45002112, 128, 426.6),
    ("senet18", 555509760, 32, 107.6),
    ("senet18", 555509760, 128, 111.5),
    ("efficientnet-b0", 30331392, 32, 304.8),
    ("efficientnet-b0", 30331392, 128, 297.5),
    ("regnetx-200mf", 223317600, 32, 122.9),
    ("regnetx-200mf", 223317600, 128, 103.2),
    ("simple-dla", 913495040, 32, 68.5),
    ("simple-dla", 913495040, 128, 66.4),
    ("pnasnet-b", 74474752, 32, 108.3),
    ("pnasnet-b", 74474752, 128, 94.3),
    ("vit-tiny", 10880128, 32, 2454.3),
    ("vit-tiny", 10880128, 128, 2613.9),
    ("vit-small", 125341824, 32, 371.2),
    ("vit-small", 125341824, 128, 353.3),
    ("char-gpt", 55181312, 32, 843.1),
    ("char-gpt", 55181312, 128, 793.9),
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
