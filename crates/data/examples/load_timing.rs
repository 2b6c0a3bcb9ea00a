//! Loads every registered dataset that is present and prints its load time and the memory its
//! inputs hold (bytes for images read as bytes, f32 otherwise) and the process's peak memory.
//!
//! `cargo run --release -p greenbench-data --example load_timing [names…]`

use std::time::Instant;

/// Peak resident memory of this process in MB (`VmHWM` of /proc/self/status), if readable.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1000.0)
}

fn main() {
    let root = greenbench_data::default_root();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let names: Vec<String> = if args.is_empty() {
        greenbench_data::names()
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        args
    };
    for name in names {
        let t = Instant::now();
        match greenbench_data::load(&name, &root, None, &greenbench_data::Selection::default()) {
            Ok(d) => {
                let secs = t.elapsed().as_secs_f64();
                let bytes: usize = [&d.train, &d.validation, &d.test]
                    .iter()
                    .map(|s| s.inputs.memory_bytes())
                    .sum();
                let peak = peak_rss_mb().map_or("unknown".into(), |m| format!("{m:.0} MB"));
                println!(
                    "{name}: {} train + {} test, shape {:?}, {} classes, inputs hold {:.0} MB, loaded in {secs:.2} s (process peak so far {peak})",
                    d.train.len,
                    d.test.len,
                    d.sample_shape(),
                    d.classes,
                    bytes as f64 / 1e6,
                );
            }
            Err(e) => println!("{name}: not loaded: {e}"),
        }
    }
}
