//! Time of the dense 3×3 convolutions of the CIFAR networks (stride 1, padding 1: VGG, the
//! ResNets, DLA, SENet, DenseNet's 128→32, GoogLeNet's 32-output branch) with the path each
//! takes (Winograd F(2×2, 3×3), or one product per pixel pair on maps of at most 2×2) and with
//! im2col, the two side by side in one process, so the thresholds in `ops/winograd.rs` and
//! `ops/conv/geom.rs` can be checked on any machine.
//!
//! `cargo run --release -p greenbench-models --example conv_layers -- [--threads 2]
//!  [--batches 32,128] [--repeats 5]`
//!
//! Per layer shape and batch: the path a model takes there (`conv_path`), and the best of
//! `--repeats` forward passes (under no_grad) and of forward + backward passes (both gradients),
//! in ms, with im2col forced and with that default path, and their ratio (the rows below the
//! thresholds run im2col twice, so their ratio shows the noise).

use std::time::Instant;

use candle_core::{Device, Tensor, Var};
use greenbench_models::{conv2d, conv_path, set_fast_3x3_paths, ConvParams};

mod common;
use common::arg;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `(in channels, out channels, map side)` of the layers timed.
const LAYERS: &[(usize, usize, usize)] = &[
    (64, 64, 32),
    (64, 128, 16),
    (128, 128, 16),
    (128, 256, 8),
    (256, 256, 8),
    (256, 512, 4),
    (512, 512, 4),
    (512, 512, 2),
    (128, 32, 32),
    (128, 32, 16),
    (128, 32, 8),
    (128, 32, 4),
    (16, 32, 32),
    (32, 32, 32),
];

/// Best wall time of `f` in ms over `repeats` runs after one warm-up.
fn best_ms(
    repeats: usize,
    f: &mut dyn FnMut() -> candle_core::Result<()>,
) -> candle_core::Result<f64> {
    f()?;
    let mut best = f64::MAX;
    for _ in 0..repeats {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(best)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = arg(&args, "--threads").map_or(Ok(2), |v| v.parse())?;
    let repeats: usize = arg(&args, "--repeats").map_or(Ok(5), |v| v.parse())?;
    let batches: Vec<usize> = arg(&args, "--batches")
        .unwrap_or_else(|| "32,128".into())
        .split(',')
        .map(|b| b.trim().parse())
        .collect::<Result<_, _>>()?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let p = ConvParams {
        stride: 1,
        pad: 1,
        dilation: 1,
        groups: 1,
    };
    println!("threads={threads} repeats={repeats} (best ms; ratio = im2col / default path)");
    println!("default path: the one a model takes (im2col below the Winograd thresholds)");
    println!(
        "{:>5} {:>4} {:>4} {:>4} {:>9} | {:>9} {:>9} {:>6} | {:>9} {:>9} {:>6}",
        "batch",
        "in",
        "out",
        "map",
        "default",
        "fwd i2c",
        "fwd dflt",
        "ratio",
        "trn i2c",
        "trn dflt",
        "ratio"
    );
    pool.install(|| -> candle_core::Result<()> {
        for &n in &batches {
            for &(c, o, h) in LAYERS {
                let x = Var::from_tensor(&Tensor::randn(0f32, 1., (n, c, h, h), &Device::Cpu)?)?;
                let w = Var::from_tensor(&Tensor::randn(0f32, 0.1, (o, c, 3, 3), &Device::Cpu)?)?;
                let mut times = Vec::new();
                for wino in [false, true] {
                    set_fast_3x3_paths(wino);
                    let fwd = best_ms(repeats, &mut || {
                        candle_core::op::no_grad(|| conv2d(&x, &w, p)).map(|_| ())
                    })?;
                    let train = best_ms(repeats, &mut || {
                        conv2d(&x, &w, p)?.sum_all()?.backward().map(|_| ())
                    })?;
                    times.push((fwd, train));
                }
                let ((f0, t0), (f1, t1)) = (times[0], times[1]);
                let path = conv_path(&[n, c, h, h], &[o, c, 3, 3], p).unwrap_or("none");
                println!(
                    "{n:>5} {c:>4} {o:>4} {h:>4} {path:>9} | {f0:>9.2} {f1:>9.2} {:>6.2} | {t0:>9.2} {t1:>9.2} {:>6.2}",
                    f0 / f1,
                    t0 / t1
                );
            }
        }
        Ok(())
    })?;
    set_fast_3x3_paths(true);
    Ok(())
}
