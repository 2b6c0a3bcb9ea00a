//! The sampler allocates nothing per sample: a longer run allocates no more than a shorter one.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::FakePowercap;
use greenbench_meter::{EstimateSource, Meter, RaplSource};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::SeqCst);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn no_allocation_per_sample() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 0, Some(1_000_000))
        .domain("intel-rapl:0:2", "dram", 0, Some(1_000_000));
    let m = Meter::from_sources(vec![
        Box::new(RaplSource::open(&fake.root()).unwrap()),
        Box::new(EstimateSource::new(None).unwrap()),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv");
    let run = |ms: u64, interval_ms: u64| {
        let before = ALLOCS.load(Ordering::SeqCst);
        let s = m
            .start_sampler(&path, Duration::from_millis(interval_ms))
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let sum = s.stop().unwrap();
        (ALLOCS.load(Ordering::SeqCst) - before, sum.samples)
    };
    run(50, 5); // warm-up (lazy statics, thread-locals)
    let (short, n_short) = run(100, 5);
    let (long, n_long) = run(500, 5);
    assert!(n_long >= n_short + 40, "{n_short} vs {n_long} samples");
    assert!(
        long <= short + 2,
        "{short} allocations for {n_short} samples, {long} for {n_long}"
    );
}
