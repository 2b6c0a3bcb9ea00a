//! The sampler writes the trace CSV at ~10 Hz and stops promptly.

mod common;

use std::time::{Duration, Instant};

use common::FakePowercap;
use greenbench_meter::{EstimateSource, Meter, RaplSource, DEFAULT_INTERVAL, TRACE_HEADER};

#[test]
fn sampler_writes_ten_rows_per_second() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 0, Some(1_000_000));
    let m = Meter::from_sources(vec![
        Box::new(RaplSource::open(&fake.root()).unwrap()),
        Box::new(EstimateSource::new(None).unwrap()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.csv");
    let s = m.start_sampler(&path, DEFAULT_INTERVAL).unwrap();
    // A window running alongside shares the sources; a wrap seen by the sampler is accounted.
    let w = m.begin().unwrap();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    fake.set("intel-rapl:0", 900_000);
    std::thread::sleep(Duration::from_millis(500));
    fake.set("intel-rapl:0", 100_000);
    let stop_at = Instant::now();
    let summary = s.stop().unwrap();
    assert!(
        stop_at.elapsed() < Duration::from_millis(150),
        "stop took {:?}",
        stop_at.elapsed()
    );
    let r = w.end().unwrap();
    // 0.9 J, then a wrap: 0.1 J to the top of the range + 0.1 J after it.
    assert!((r.energy.cpu_j.unwrap() - 1.1).abs() < 1e-9, "{r:?}");
    let wall = t0.elapsed().as_secs_f64();

    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(TRACE_HEADER));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len() as u64, summary.samples);
    let rate = rows.len() as f64 / wall;
    assert!(
        (7.0..=11.0).contains(&rate),
        "{} rows in {wall:.2} s",
        rows.len()
    );
    for r in &rows {
        assert_eq!(r.len(), 6, "{r:?}");
        assert!(r[0].parse::<f64>().is_ok());
        assert!(r[1].parse::<f64>().is_ok(), "cpu_w from RAPL: {r:?}");
        assert!(
            r[2].parse::<f64>().is_ok(),
            "dram_w from the estimate: {r:?}"
        );
        assert_eq!(r[3], "", "no GPU: empty cell, never 0");
        assert_eq!(r[4], "");
    }
    assert!(summary.mean_cpu_util.is_some());
    assert_eq!(summary.mean_gpu_util, None);
    assert!(summary.mean_power.cpu_w.is_some());
    assert_eq!(summary.failed_samples, 0);
}

#[test]
fn unwritable_trace_path_is_a_located_error() {
    let m = Meter::from_sources(vec![Box::new(EstimateSource::new(None).unwrap())]);
    let e = m
        .start_sampler("/nonexistent-dir/x/trace.csv".as_ref(), DEFAULT_INTERVAL)
        .unwrap_err();
    assert!(
        e.to_string().contains("/nonexistent-dir/x/trace.csv"),
        "{e}"
    );
    assert!(m
        .start_sampler("/tmp/t.csv".as_ref(), Duration::ZERO)
        .is_err());
}
