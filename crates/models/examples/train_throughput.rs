//! Training and inference throughput (samples/s) of registry models on the CPU (or `--device cuda:N`).
//!
//! `cargo run --release -p greenbench-models --example train_throughput -- --threads 2
//!  [--batches 32,128] [--models mlp-medium,lenet,…] [--mode train|infer|both] [--seconds 3]`
//!
//! Without `--models`, every registry model (`greenbench models`) at its default input.
//! - `train`: `Trainer::train_step` (forward in training mode, cross-entropy, backward, SGD with
//!   momentum 0.9 and weight decay 5e-4).
//! - `infer`: `Trainer::evaluate`, what a sweep's inference phase calls per batch (eval mode:
//!   batch-norm running statistics, no backward, loss and correct count).
//!
//! One warm-up step, then steps until at least `--seconds` have passed (at least one step).
//! A sample is one input of the model's default shape (for char-GPT one sequence of 64 tokens).
//! One line per model, mode and batch; a model that fails prints `FAILED` and the error instead
//! of a number, and the others go on. `peak_rss_mb` is the process's peak resident memory (MB,
//! Linux `VmHWM`) while building the model and running that row's steps: the peak is reset
//! before each row (`/proc/self/clear_refs`), so memory the allocator kept from an earlier row
//! counts, and where the reset is refused the figure is the process's peak so far (run one
//! model and batch per process for a clean figure). `-` where it could not be read.
//! `peak_heap_mb` is the most memory allocated at once in that row (tensors and everything else
//! on the heap, counted by this program's allocator): the difference to `peak_rss_mb` is what
//! mimalloc kept resident beyond it, plus the program itself (~10 MB).
//! With `GREENBENCH_HEAP_TRACE=<file>`, the bytes live every millisecond of the run go to
//! `<file>` (`ms MB` per line): where in a step the peak falls.

use std::time::Instant;

use greenbench_models::{list, InputSpec, ModelError, TrainSettings, Trainer};

mod common;
use common::arg;
#[path = "common/peak_rss.rs"]
mod peak_rss;

#[path = "common/heap.rs"]
mod heap;

// As in the greenbench binary: glibc malloc makes candle training 1.5–6× slower. Counted, for
// the peak_heap_mb column.
#[global_allocator]
static GLOBAL: heap::Counting = heap::Counting;

/// What is timed.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Train,
    Infer,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Train => "train",
            Mode::Infer => "infer",
        }
    }
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
    if let Some(path) = std::env::var_os("GREENBENCH_HEAP_TRACE") {
        trace_heap(std::path::PathBuf::from(path));
    }
    let threads = arg(&args, "--threads").unwrap_or_else(|| "2".into());
    // Must happen before candle starts its thread pools.
    std::env::set_var("RAYON_NUM_THREADS", &threads);
    // As a sweep's worker: this thread runs the steps as one of the pool's threads.
    let membership = greenbench_models::join_compute_pool();
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
    let entries = list();
    let models = arg(&args, "--models").unwrap_or_else(|| {
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        names.join(",")
    });
    let modes = match arg(&args, "--mode").as_deref().unwrap_or("train") {
        "train" => vec![Mode::Train],
        "infer" => vec![Mode::Infer],
        "both" => vec![Mode::Train, Mode::Infer],
        other => {
            eprintln!("--mode {other}: expected train, infer or both");
            std::process::exit(2);
        }
    };
    let seconds: f64 = arg(&args, "--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let device = arg(&args, "--device").unwrap_or_else(|| "cpu".into());
    let simd = greenbench_models::simd_width();
    let gemm = greenbench_models::gemm_width();
    let slice = match greenbench_models::sched_slice_outcome() {
        greenbench_models::SliceOutcome::Default => "default".to_string(),
        greenbench_models::SliceOutcome::Set(d) => format!("{}us", d.as_micros()),
        greenbench_models::SliceOutcome::Refused(why) => format!("default({why})"),
    };
    let blocks = greenbench_alloc::large_blocks_status();
    println!(
        "threads={threads} device={device} simd={simd} gemm={gemm} slice={slice} large_blocks={blocks} pool={membership:?}"
    );
    println!(
        "{:<16} {:<12} {:<6} {:>6} {:>12} {:>10} {:>12} {:>13}",
        "model", "family", "mode", "batch", "samples/s", "ms/step", "peak_rss_mb", "peak_heap_mb"
    );
    for name in models.split(',').map(str::trim) {
        let Some(entry) = entries.iter().find(|e| e.name == name) else {
            for &mode in &modes {
                for &bs in &batches {
                    let m = mode.name();
                    println!(
                        "{name:<16} {:<12} {m:<6} {bs:>6} FAILED not in the registry",
                        "?"
                    );
                }
            }
            continue;
        };
        let input = &entry.default_input;
        for &mode in &modes {
            for &bs in &batches {
                let m = mode.name();
                peak_rss::reset_peak();
                heap::reset_peak();
                match measure(name, input, mode, bs, seconds, &device) {
                    Ok(sps) => println!(
                        "{name:<16} {:<12} {m:<6} {bs:>6} {sps:>12.1} {:>10.2} {:>12} {:>13.0}",
                        entry.family,
                        1000.0 * bs as f64 / sps,
                        peak_rss::peak_rss_mb().map_or("-".into(), |mb| format!("{mb:.0}")),
                        heap::peak_mb()
                    ),
                    Err(e) => {
                        let e = e.to_string().replace('\n', " ");
                        println!("{name:<16} {:<12} {m:<6} {bs:>6} FAILED {e}", entry.family)
                    }
                }
            }
        }
    }
}

/// Writes the heap's live bytes every millisecond to `path` (`ms MB` lines) from a thread of its
/// own, until the program ends.
fn trace_heap(path: std::path::PathBuf) {
    use std::io::Write;
    let file = match std::fs::File::create(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!(
                "GREENBENCH_HEAP_TRACE: cannot create {}: {e}",
                path.display()
            );
            return;
        }
    };
    std::thread::spawn(move || {
        let mut out = std::io::LineWriter::new(file);
        let start = Instant::now();
        loop {
            let (ms, mb) = (start.elapsed().as_millis(), heap::live_bytes() as f64 / 1e6);
            if writeln!(out, "{ms} {mb:.0}").is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    });
}

/// Samples per second of `mode` for `name` at batch `bs`.
fn measure(
    name: &str,
    input: &InputSpec,
    mode: Mode,
    bs: usize,
    seconds: f64,
    device: &str,
) -> Result<f64, ModelError> {
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
        warmup_epochs: 0.0,
        seed: 0,
        device: greenbench_core::DeviceName::parse(device)
            .map_err(|e| ModelError::Device(e.to_string()))?,
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
    let step = |t: &mut Trainer| -> Result<(), ModelError> {
        match mode {
            Mode::Train => t.train_step(&x, &y, bs).map(drop),
            Mode::Infer => t.evaluate(&x, &y, bs).map(drop),
        }
    };
    step(&mut t)?;
    t.synchronize()?;
    let start = Instant::now();
    let mut steps = 0usize;
    while steps < 1 || start.elapsed().as_secs_f64() < seconds {
        step(&mut t)?;
        steps += 1;
    }
    t.synchronize()?;
    Ok((steps * bs) as f64 / start.elapsed().as_secs_f64())
}
