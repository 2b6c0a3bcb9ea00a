//! Attainable f32 matrix-product speed (GFLOP/s) of this machine with the `gemm` crate that
//! candle and greenbench's custom ops use, on `--threads` threads (default 2).
//!
//! `cargo run --release -p greenbench-models --example gemm_peak -- [--threads 2] [--seconds 0.3]
//!  [--repeats 5]`
//!
//! Times `C = A·B` (row-major, contiguous, C overwritten) for square matrices and for shapes
//! the models' layers produce (im2col convolutions with several samples side by side, the
//! transformers' projections, an MLP layer), each `--repeats` times for at least `--seconds`,
//! and prints the best GFLOP/s (2·m·n·k FLOP per product) per shape and, last, the best of all
//! as `peak <GFLOP/s>`: the figure `scripts/bench/compare.sh` divides the models' speed by.

use std::time::Instant;

use gemm::Parallelism;

mod common;
use common::arg;

/// `(label, m, n, k)`: `C[m×n] = A[m×k]·B[k×n]`.
const SHAPES: &[(&str, usize, usize, usize)] = &[
    ("square-256", 256, 256, 256),
    ("square-512", 512, 512, 512),
    ("square-1024", 1024, 1024, 1024),
    ("square-2048", 2048, 2048, 2048),
    // ResNet-style 3×3 convolutions as im2col products: out channels × (samples·H·W) × (in·9).
    ("conv-64x32x32", 64, 8192, 576),
    ("conv-128x16x16", 128, 4096, 1152),
    ("conv-256x8x8", 256, 2048, 2304),
    ("conv-512x4x4", 512, 1024, 4608),
    // ViT-tiny QKV projection of a batch of 32 (65 tokens each), an MLP's first layer at 128.
    ("vit-qkv", 2080, 192, 64),
    ("mlp-784x512", 128, 512, 784),
];

/// Best GFLOP/s of `C = A·B` for one shape over `repeats` timings of at least `seconds` each.
fn best_gflops(
    m: usize,
    n: usize,
    k: usize,
    par: Parallelism,
    seconds: f64,
    repeats: usize,
) -> f64 {
    let a: Vec<f32> = (0..m * k).map(|i| (i % 7) as f32 * 0.25 - 0.75).collect();
    let b: Vec<f32> = (0..k * n).map(|i| (i % 5) as f32 * 0.5 - 1.0).collect();
    let mut c = vec![0f32; m * n];
    let product = |c: &mut [f32]| {
        // SAFETY: a, b and c are contiguous row-major buffers of exactly m×k, k×n and m×n
        // elements (row stride = columns, column stride 1), and c aliases neither a nor b.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                1,
                n as isize,
                false,
                a.as_ptr(),
                1,
                k as isize,
                b.as_ptr(),
                1,
                n as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                par,
            )
        }
    };
    product(&mut c);
    let flop = 2.0 * (m * n * k) as f64;
    let mut best = 0f64;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        let mut count = 0usize;
        while count < 1 || start.elapsed().as_secs_f64() < seconds {
            product(&mut c);
            count += 1;
        }
        best = best.max(flop * count as f64 / start.elapsed().as_secs_f64() / 1e9);
    }
    std::hint::black_box(&c);
    best
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = arg(&args, "--threads")
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let seconds: f64 = arg(&args, "--seconds")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.3);
    let repeats: usize = arg(&args, "--repeats")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    if let Err(e) = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
    {
        eprintln!("could not size rayon's pool to {threads} threads: {e}");
        std::process::exit(1);
    }
    let par = if threads > 1 {
        Parallelism::Rayon(threads)
    } else {
        Parallelism::None
    };
    println!(
        "threads={threads} gemm={} f32 gemm, best of {repeats} × ≥ {seconds} s",
        greenbench_models::gemm_width()
    );
    println!(
        "{:<16} {:>6} {:>6} {:>6} {:>10}",
        "shape", "m", "n", "k", "GFLOP/s"
    );
    let mut peak = 0f64;
    for &(label, m, n, k) in SHAPES {
        let g = best_gflops(m, n, k, par, seconds, repeats);
        peak = peak.max(g);
        println!("{label:<16} {m:>6} {n:>6} {k:>6} {g:>10.1}");
    }
    println!("peak {peak:.1}");
}
