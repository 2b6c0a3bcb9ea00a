//! With `GREENBENCH_LARGE_BLOCKS=0` (read once, when the first large block is asked for) every
//! block comes from the inner allocator, and the status says why.

use std::alloc::{GlobalAlloc, Layout, System};

use greenbench_alloc::{large_blocks_status, LargeBlocks, LargeBlocksStatus, LARGE_BLOCKS_VAR};

static A: LargeBlocks<System> = LargeBlocks::new(System);

#[test]
fn the_environment_turns_the_region_off_and_the_status_says_so() {
    // SAFETY: the only test of this binary, before any thread reads the environment.
    unsafe { std::env::set_var(LARGE_BLOCKS_VAR, "0") };
    let l = Layout::from_size_align(8 << 20, 64).expect("a valid test layout");
    // SAFETY: a valid layout; written within its size and freed once.
    unsafe {
        let p = A.alloc_zeroed(l);
        assert!(!p.is_null());
        assert_eq!(*p.add((8 << 20) - 1), 0);
        A.dealloc(p, l);
    }
    let status = large_blocks_status();
    assert!(matches!(status, LargeBlocksStatus::Off(_)), "{status}");
    let shown = status.to_string();
    assert!(shown.contains("GREENBENCH_LARGE_BLOCKS=0"), "{shown}");
}
