//! Inference throughput (samples/s) of eval mode (`Trainer::evaluate`: batch-norm with running
//! statistics, no update) on the CPU, for timing the eval path of the CNNs.
//!
//! `cargo run --release -p greenbench-models --example eval_throughput -- --threads 2
//!  [--batches 32,128] [--models mobilenet-v2,resnet18] [--seconds 3]`

use std::time::Instant;

use greenbench_models::{list, InputSpec, ModelError, TrainSettings, Trainer};

// As in the greenbench binary and the training example.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads = arg(&args, "--threads").unwrap_or_else(|| "2".into());
    // Before candle starts its thread pools; no spinning on a shared machine (see
    // docs/performance.md).
    std::env::set_var("RAYON_NUM_THREADS", &threads);
    if std::env::var_os("CANDLE_BARRIER_POOL_SPIN_LIMIT").is_none() {
        std::env::set_var("CANDLE_BARRIER_POOL_SPIN_LIMIT", "0");
    }
    let batches: Vec<usize> = arg(&args, "--batches")
        .unwrap_or_else(|| "128".into())
        .split(',')
        .filter_map(|b| b.trim().parse().ok())
        .collect();
    let models = arg(&args, "--models").unwrap_or_else(|| "mobilenet-v2,resnet18".into());
    let seconds: f64 = arg(&args, "--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let entries = list();
    println!("threads={threads} eval mode");
    println!(
        "{:<16} {:>6} {:>12} {:>10}",
        "model", "batch", "samples/s", "ms/batch"
    );
    for name in models.split(',').map(str::trim) {
        let Some(input) = entries.iter().find(|e| e.name == name) else {
            println!("{name:<16} (not registered; skipped)");
            continue;
        };
        for &bs in &batches {
            match measure(name, &input.default_input, bs, seconds) {
                Ok(sps) => println!(
                    "{name:<16} {bs:>6} {sps:>12.1} {:>10.2}",
                    1000.0 * bs as f64 / sps
                ),
                Err(e) => println!("{name:<16} batch {bs}: {e}"),
            }
        }
    }
}

fn measure(name: &str, input: &InputSpec, bs: usize, seconds: f64) -> Result<f64, ModelError> {
    let s = TrainSettings {
        model: name.into(),
        batch_size: bs,
        lr: 0.01,
        optimizer: "sgd".into(),
        momentum: 0.9,
        weight_decay: 5e-4,
        schedule: "cosine".into(),
        epochs: 1,
        steps_per_epoch: 1_000_000,
        seed: 0,
        device: "cpu".into(),
    };
    let t = Trainer::new(&s, input)?;
    let len: usize = input.sample_shape.iter().product();
    let tps = if input.text { len } else { 1 };
    let mut state = 12345u64;
    let mut next = |m: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as usize) % m
    };
    let x: Vec<f32> = (0..bs * len)
        .map(|_| {
            if input.text {
                next(input.classes) as f32
            } else {
                next(1000) as f32 / 500.0 - 1.0
            }
        })
        .collect();
    let y: Vec<u32> = (0..bs * tps).map(|_| next(input.classes) as u32).collect();
    t.evaluate(&x, &y, bs)?;
    let start = Instant::now();
    let mut batches = 0usize;
    while batches < 3 || start.elapsed().as_secs_f64() < seconds {
        t.evaluate(&x, &y, bs)?;
        batches += 1;
    }
    Ok((batches * bs) as f64 / start.elapsed().as_secs_f64())
}
