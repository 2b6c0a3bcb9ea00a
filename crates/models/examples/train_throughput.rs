//! Training throughput (samples/s) of one model per family on the CPU (or `--device cuda:N`).
//!
//! `cargo run --release -p greenbench-models --example train_throughput -- --threads 2
//!  [--batches 32,128] [--models mlp-medium,lenet,resnet18,mobilenet-v2,vit-tiny,char-gpt]
//!  [--seconds 3]`
//! Models not in the registry (e.g. CNNs not written yet) are skipped with a note.

use std::time::Instant;

use greenbench_models::{list, InputSpec, TrainSettings, Trainer};

// As in the greenbench binary: glibc malloc makes candle training 1.5–6× slower.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // As the sweep's workers (crates/cli/src/cmd/sweep.rs): mimalloc keeps freed memory instead
    // of returning it to the OS after 10 ms. It reads the variable at start-up, so set it and
    // run this program again.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        let again = std::env::current_exe().and_then(|exe| {
            std::process::Command::new(exe)
                .args(&args[1..])
                .env("MIMALLOC_PURGE_DELAY", "-1")
                .status()
        });
        match again {
            Ok(status) => std::process::exit(status.code().unwrap_or(1)),
            Err(e) => eprintln!("could not restart with MIMALLOC_PURGE_DELAY=-1 ({e}); going on"),
        }
    }
    let threads = arg(&args, "--threads").unwrap_or_else(|| "2".into());
    // Must happen before candle starts its thread pools.
    std::env::set_var("RAYON_NUM_THREADS", &threads);
    // candle's barrier pool busy-waits up to 25,000 spins between ops; on a shared 2-core machine
    // that spinning takes the cores the work needs (2–2.5× slower LeNet). Park at once instead,
    // unless the caller chose a value.
    if std::env::var_os("CANDLE_BARRIER_POOL_SPIN_LIMIT").is_none() {
        std::env::set_var("CANDLE_BARRIER_POOL_SPIN_LIMIT", "0");
    }
    let batches: Vec<usize> = arg(&args, "--batches")
        .unwrap_or_else(|| "32,128".into())
        .split(',')
        .filter_map(|b| b.trim().parse().ok())
        .collect();
    let models = arg(&args, "--models")
        .unwrap_or_else(|| "mlp-medium,lenet,resnet18,mobilenet-v2,vit-tiny,char-gpt".into());
    let seconds: f64 = arg(&args, "--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let device = arg(&args, "--device").unwrap_or_else(|| "cpu".into());
    let entries = list();
    println!("threads={threads} device={device}");
    println!(
        "{:<14} {:<12} {:>6} {:>12} {:>10}",
        "model", "family", "batch", "samples/s", "ms/step"
    );
    for name in models.split(',').map(str::trim) {
        let input: InputSpec = match entries.iter().find(|e| e.name == name) {
            Some(e) => e.default_input.clone(),
            None => {
                println!("{name:<14} (not registered yet; skipped)");
                continue;
            }
        };
        for &bs in &batches {
            match measure(name, &input, bs, seconds, &device) {
                Ok((family, sps)) => println!(
                    "{name:<14} {family:<12} {bs:>6} {sps:>12.1} {:>10.2}",
                    1000.0 * bs as f64 / sps
                ),
                Err(e) => println!("{name:<14} batch {bs}: {e}"),
            }
        }
    }
}

fn measure(
    name: &str,
    input: &InputSpec,
    bs: usize,
    seconds: f64,
    device: &str,
) -> Result<(greenbench_core::Family, f64), greenbench_models::ModelError> {
    let s = TrainSettings {
        model: name.into(),
        batch_size: bs,
        lr: 0.01,
        optimizer: greenbench_core::Optimizer::Sgd,
        momentum: 0.9,
        weight_decay: 5e-4,
        schedule: greenbench_core::Schedule::Cosine,
        epochs: 1,
        steps_per_epoch: 1_000_000,
        seed: 0,
        device: greenbench_core::DeviceName::parse(device)
            .map_err(|e| greenbench_models::ModelError::Device(e.to_string()))?,
    };
    let mut t = Trainer::new(&s, input)?;
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
    for _ in 0..2 {
        t.train_step(&x, &y, bs)?;
    }
    t.synchronize()?;
    let start = Instant::now();
    let mut steps = 0usize;
    while steps < 3 || start.elapsed().as_secs_f64() < seconds {
        t.train_step(&x, &y, bs)?;
        steps += 1;
    }
    t.synchronize()?;
    Ok((
        t.family(),
        (steps * bs) as f64 / start.elapsed().as_secs_f64(),
    ))
}
