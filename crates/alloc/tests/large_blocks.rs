//! `LargeBlocks` through its `GlobalAlloc` interface (as a value: this test binary's own global
//! allocator stays the system's). The region is process-wide, so the tests take turns.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;

use greenbench_alloc::{large_blocks_status, LargeBlocks, LargeBlocksStatus, LARGE_BLOCK_BYTES};

static A: LargeBlocks<System> = LargeBlocks::new(System);
static TURN: Mutex<()> = Mutex::new(());

const MIB: usize = 1 << 20;

fn layout(size: usize) -> Layout {
    Layout::from_size_align(size, 64).expect("a valid test layout")
}

/// `(touched, in_use)` of the region, which these tests need on.
fn usage() -> (usize, usize) {
    match large_blocks_status() {
        LargeBlocksStatus::On {
            touched, in_use, ..
        } => (touched, in_use),
        LargeBlocksStatus::Off(e) => panic!("the region should be on here: {e}"),
    }
}

#[test]
fn large_blocks_come_from_the_region_and_small_ones_do_not() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let (_, before) = usage();
    // SAFETY: valid layouts; each block is freed once with its layout.
    unsafe {
        let big = A.alloc(layout(LARGE_BLOCK_BYTES));
        assert!(!big.is_null());
        assert_eq!(
            usage().1,
            before + LARGE_BLOCK_BYTES,
            "1 MiB from the region"
        );
        let small = A.alloc(layout(LARGE_BLOCK_BYTES - 1));
        assert!(!small.is_null());
        assert_eq!(
            usage().1,
            before + LARGE_BLOCK_BYTES,
            "just under 1 MiB elsewhere"
        );
        A.dealloc(small, layout(LARGE_BLOCK_BYTES - 1));
        A.dealloc(big, layout(LARGE_BLOCK_BYTES));
    }
    assert_eq!(usage().1, before, "freed");
    let shown = large_blocks_status().to_string();
    assert!(shown.starts_with("best-fit(≥1MiB, "), "{shown}");
}

#[test]
fn zeroed_blocks_read_zero_when_their_pages_are_reused() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let size = 4 * MIB + 123;
    // SAFETY: valid layouts; each block is written within its size and freed once.
    unsafe {
        let p = A.alloc(layout(size));
        std::ptr::write_bytes(p, 0xAB, size);
        A.dealloc(p, layout(size));
        let q = A.alloc_zeroed(layout(size));
        assert_eq!(p, q, "best fit hands the freed run out again");
        let bytes = std::slice::from_raw_parts(q, size);
        assert!(bytes.iter().all(|&b| b == 0), "every byte zeroed");
        A.dealloc(q, layout(size));
    }
}

#[test]
fn realloc_keeps_the_contents_when_a_block_changes_sides() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let (_, before) = usage();
    let pattern = |i: usize| (i * 31 % 251) as u8;
    // SAFETY: valid layouts; reads and writes stay within each block's current size.
    unsafe {
        let small = 300 * 1024;
        let p = A.alloc(layout(small));
        for i in 0..small {
            *p.add(i) = pattern(i);
        }
        let big = 3 * MIB;
        let q = A.realloc(p, layout(small), big);
        assert_eq!(usage().1, before + big, "grown into the region");
        assert!((0..small).all(|i| *q.add(i) == pattern(i)));
        for i in small..big {
            *q.add(i) = pattern(i);
        }
        let r = A.realloc(q, layout(big), 2 * MIB);
        assert!((0..2 * MIB).all(|i| *r.add(i) == pattern(i)));
        let s = A.realloc(r, layout(2 * MIB), 200 * 1024);
        assert_eq!(usage().1, before, "shrunk out of the region");
        assert!((0..200 * 1024).all(|i| *s.add(i) == pattern(i)));
        A.dealloc(s, layout(200 * 1024));
    }
}

/// Three training steps of a network whose layers grow (as DenseNet's concatenations do), with
/// a scratch buffer between layers: the forward pass keeps every activation, the backward pass
/// makes each layer's gradient before it frees that layer's activation. Best fit with merged
/// neighbours touches at most a tenth more than the most ever live at once (here 7 %: the holes
/// the growing scratch buffers leave in the forward pass); never reusing memory would touch
/// six times as much.
#[test]
fn a_training_step_pattern_touches_little_beyond_its_live_peak() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let (touched_before, in_use_before) = usage();
    let layers: Vec<usize> = (0..24)
        .map(|k| 2 * MIB + k * 150 * 1024 + 4096 * (k % 3))
        .collect();
    let scratch = |k: usize| MIB + (k % 5) * 200 * 1024;
    let (mut live, mut peak) = (0usize, 0usize);
    // SAFETY: valid layouts; every block is freed once with the layout it was made with.
    unsafe {
        for _step in 0..3 {
            let mut acts = Vec::new();
            for (k, &s) in layers.iter().enumerate() {
                let t = A.alloc(layout(scratch(k)));
                live += scratch(k);
                peak = peak.max(live);
                acts.push(A.alloc(layout(s)));
                live += s;
                peak = peak.max(live);
                A.dealloc(t, layout(scratch(k)));
                live -= scratch(k);
            }
            let mut grad: Option<(*mut u8, usize)> = None;
            for (k, &s) in layers.iter().enumerate().rev() {
                let g = A.alloc(layout(s));
                live += s;
                peak = peak.max(live);
                if let Some((p, size)) = grad.take() {
                    A.dealloc(p, layout(size));
                    live -= size;
                }
                A.dealloc(acts[k], layout(s));
                live -= s;
                grad = Some((g, s));
            }
            if let Some((p, size)) = grad {
                A.dealloc(p, layout(size));
                live -= size;
            }
        }
    }
    let (touched, in_use) = usage();
    assert_eq!(in_use, in_use_before, "everything freed");
    let grown = touched - touched_before;
    assert!(
        grown <= peak + peak / 10,
        "touched {grown} bytes more for a live peak of {peak}"
    );
}

#[test]
fn threads_get_disjoint_blocks() {
    let _turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    std::thread::scope(|s| {
        for t in 0..4u8 {
            s.spawn(move || {
                for i in 0..200usize {
                    let size = MIB + (i * 7919 + t as usize * 104_729) % (6 * MIB);
                    // SAFETY: a valid layout; the block is written within its size, read back
                    // and freed once.
                    unsafe {
                        let p = A.alloc(layout(size));
                        assert!(!p.is_null());
                        std::ptr::write_bytes(p, t, size);
                        std::thread::yield_now();
                        let b = std::slice::from_raw_parts(p, size);
                        assert!(b[0] == t && b[size / 2] == t && b[size - 1] == t);
                        A.dealloc(p, layout(size));
                    }
                }
            });
        }
    });
}
