//! Bytes of heap the process has allocated and not freed, for the DRAM term of the estimate.
//!
//! Workers run with `MIMALLOC_PURGE_DELAY=-1`, so mimalloc keeps freed pages resident for reuse
//! and the resident set size counts memory the run no longer uses (DenseNet121 held 12.8 GB of
//! RSS). [`LiveHeap`] wraps the global allocator and counts the bytes in use; the estimate
//! charges DRAM on those, and on RSS only where no count exists (another process, or a binary
//! without the wrapper).

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

static LIVE: AtomicIsize = AtomicIsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A global allocator that counts live bytes over another one:
/// `#[global_allocator] static A: LiveHeap<MiMalloc> = LiveHeap(MiMalloc);`.
pub struct LiveHeap<A>(pub A);

// SAFETY: every call is forwarded to the inner allocator unchanged; only a counter is updated.
unsafe impl<A: GlobalAlloc> GlobalAlloc for LiveHeap<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is forwarded.
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is forwarded.
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is forwarded.
        unsafe { self.0.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract is forwarded.
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

fn count(delta: isize) {
    LIVE.fetch_add(delta, Ordering::Relaxed);
    if !INSTALLED.load(Ordering::Relaxed) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

/// Heap bytes in use now, when this process's global allocator is a [`LiveHeap`].
pub fn live_heap_bytes() -> Option<u64> {
    INSTALLED
        .load(Ordering::Relaxed)
        .then(|| LIVE.load(Ordering::Relaxed).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_is_allocated_and_not_freed() {
        let a = LiveHeap(std::alloc::System);
        let layout = Layout::from_size_align(1 << 20, 8).expect("layout");
        let before = LIVE.load(Ordering::Relaxed);
        // SAFETY: a valid non-zero layout; the pointer is freed with the same layout.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(LIVE.load(Ordering::Relaxed) - before, 1 << 20);
            let p = a.realloc(p, layout, 3 << 20);
            assert_eq!(LIVE.load(Ordering::Relaxed) - before, 3 << 20);
            a.dealloc(p, Layout::from_size_align(3 << 20, 8).expect("layout"));
        }
        assert_eq!(LIVE.load(Ordering::Relaxed), before);
        assert!(live_heap_bytes().is_some());
    }
}
