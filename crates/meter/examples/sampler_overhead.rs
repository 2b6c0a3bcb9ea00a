//! Cost of the 10 Hz sampler, run by `scripts/bench/sampler-overhead.sh`.
//!
//! 1. Idle test: the main thread sleeps N seconds while the sampler runs; the process CPU time
//!    over that period is (almost entirely) the sampler's, so CPU time ÷ wall time is its cost on
//!    one core.
//! 2. Busy test: a single-threaded busy loop's throughput with and without the sampler.
//!
//! Sources: a fake powercap tree (2 packages + dram, real file reads) and the CPU-time estimate,
//! i.e. the same file reads a RAPL machine does. Usage: `sampler_overhead [seconds]`.

use std::time::{Duration, Instant};

use greenbench_meter::{EnergySource, EstimateSource, Meter, RaplSource, DEFAULT_INTERVAL};

fn meter(root: &std::path::Path) -> Result<Meter, Box<dyn std::error::Error>> {
    for (d, name) in [
        ("intel-rapl:0", "package-0"),
        ("intel-rapl:1", "package-1"),
        ("intel-rapl:0:2", "dram"),
    ] {
        let p = root.join(d);
        std::fs::create_dir_all(&p)?;
        std::fs::write(p.join("name"), format!("{name}\n"))?;
        std::fs::write(p.join("energy_uj"), "1000\n")?;
        std::fs::write(p.join("max_energy_range_uj"), "262143328850\n")?;
    }
    let sources: Vec<Box<dyn EnergySource>> = vec![
        Box::new(RaplSource::open(root)?),
        Box::new(EstimateSource::new(None)?),
    ];
    Ok(Meter::from_sources(sources))
}

fn busy(d: Duration) -> u64 {
    let t = Instant::now();
    let mut x: u64 = 1;
    let mut n = 0u64;
    while t.elapsed() < d {
        for _ in 0..10_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
        }
        n += 1;
    }
    std::hint::black_box(x);
    n
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let dir = tempfile::tempdir()?;
    let m = meter(&dir.path().join("powercap"))?;
    for c in m.choices() {
        println!("source: {} <- {} ({})", c.component, c.source, c.basis);
    }
    let trace = dir.path().join("trace.csv");

    // 1. Idle: process CPU time while only the sampler works.
    let cpu0 = greenbench_meter::self_cpu_seconds();
    let t0 = Instant::now();
    let s = m.start_sampler(&trace, DEFAULT_INTERVAL)?;
    std::thread::sleep(Duration::from_secs_f64(secs));
    let summary = s.stop()?;
    let wall = t0.elapsed().as_secs_f64();
    let cpu = greenbench_meter::self_cpu_seconds() - cpu0;
    let rows = std::fs::read_to_string(&trace)?.lines().count() - 1;
    println!(
        "idle: {} samples ({rows} rows, {:.2}/s) in {wall:.2} s wall, sampler CPU {:.4} s = {:.3} % of one core, {:.1} µs/sample",
        summary.samples,
        rows as f64 / wall,
        cpu,
        cpu / wall * 100.0,
        cpu / summary.samples.max(1) as f64 * 1e6
    );

    // 2. Busy loop throughput without / with the sampler (alternating halves to share noise).
    let rounds = 8;
    let half = Duration::from_secs_f64(secs / (2.0 * rounds as f64));
    let (mut without, mut with) = (0u64, 0u64);
    for _ in 0..rounds {
        without += busy(half);
        let s = m.start_sampler(&trace, DEFAULT_INTERVAL)?;
        with += busy(half);
        s.stop()?;
    }
    let slowdown = (without as f64 - with as f64) / without as f64 * 100.0;
    println!("busy: {without} iterations without, {with} with sampler: slowdown {slowdown:.3} % (noise of a shared 2-core VM included)");
    Ok(())
}
