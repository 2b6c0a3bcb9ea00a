//! [`LargeBlocks`]: a global-allocator layer that places large blocks best fit in one reserved
//! range and passes everything else to an inner allocator.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::error::Unavailable;
use crate::region::Region;

/// Blocks of at least this many bytes come from the reserved region (smaller ones from the
/// inner allocator, whose size classes serve them well).
pub const LARGE_BLOCK_BYTES: usize = 1 << 20;

/// The environment variable that turns the region off (`0` or `off`).
pub const LARGE_BLOCKS_VAR: &str = "GREENBENCH_LARGE_BLOCKS";

/// A global allocator that serves blocks of at least [`LARGE_BLOCK_BYTES`] from one reserved
/// range of address space, best fit with coalescing, and every other call from `A`:
/// `#[global_allocator] static A: LargeBlocks<MiMalloc> = LargeBlocks::new(MiMalloc);`.
///
/// Why: a training step allocates its activations and gradients (megabytes to hundreds of
/// megabytes each, of many sizes) and frees them every step. mimalloc, keeping freed pages for
/// reuse (`MIMALLOC_PURGE_DELAY=-1`, what saves faulting them in again every step), placed them
/// so that a step touched 0.9–1.7 GB more than it ever held at once (DPN26, ResNeXt29 and
/// DenseNet121 at batch 128); returning freed pages instead costs 5–20 % of the step's time.
/// Best fit over one range, freed runs merged with their neighbours, touches within a few
/// percent of the live peak and keeps the pages for reuse. All processes' blocks share one
/// region (a process-wide lock, taken only for large blocks: a few thousand per step).
///
/// Where the region cannot be reserved, or [`LARGE_BLOCKS_VAR`] is `0`, every call goes to `A`
/// and [`large_blocks_status`] says why; a block the region has no room for goes to `A` too.
pub struct LargeBlocks<A> {
    inner: A,
}

impl<A> LargeBlocks<A> {
    /// Large blocks from the region, the rest from `inner`.
    pub const fn new(inner: A) -> Self {
        Self { inner }
    }
}

enum State {
    Unset,
    Off(Unavailable),
    On(Region),
}

static STATE: Mutex<State> = Mutex::new(State::Unset);
/// The region's addresses once reserved (`START == END` before), so that freeing a small block
/// takes no lock.
static START: AtomicUsize = AtomicUsize::new(0);
static END: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set while this thread holds [`STATE`]: an allocation made meanwhile (the free list
    /// growing, reading the environment) goes to the inner allocator instead of deadlocking.
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// [`STATE`] locked and set up, with [`INSIDE`] set until it is dropped.
struct Locked(MutexGuard<'static, State>);

impl Locked {
    /// `None` when this thread already holds the lock.
    fn take() -> Option<Self> {
        if INSIDE.with(|i| i.replace(true)) {
            return None;
        }
        // A panic while the lock was held cannot leave the region inconsistent for a later
        // caller in a way that matters more than aborting every allocation would.
        let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
        if matches!(*guard, State::Unset) {
            *guard = match setup() {
                Ok(region) => {
                    let a = region.addresses();
                    START.store(a.start, Ordering::Release);
                    END.store(a.end, Ordering::Release);
                    State::On(region)
                }
                Err(e) => State::Off(e),
            };
        }
        Some(Self(guard))
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        INSIDE.with(|i| i.set(false));
    }
}

/// Reserves twice the physical memory (at least 1 GiB; 64 GiB where it cannot be read): no
/// block of a process that fits in memory can need more.
fn setup() -> Result<Region, Unavailable> {
    if let Some(v) = std::env::var_os(LARGE_BLOCKS_VAR) {
        let value = v.to_string_lossy().into_owned();
        if value == "0" || value.eq_ignore_ascii_case("off") {
            return Err(Unavailable::Disabled {
                var: LARGE_BLOCKS_VAR,
                value,
            });
        }
    }
    // SAFETY: sysconf has no preconditions.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    const GIB: usize = 1 << 30;
    let physical = match (usize::try_from(pages), usize::try_from(page)) {
        (Ok(n), Ok(p)) if n > 0 && p > 0 => n.saturating_mul(p),
        _ => 32 * GIB,
    };
    Region::reserve(physical.saturating_mul(2).div_ceil(GIB).max(1) * GIB)
}

fn in_region(ptr: *mut u8) -> bool {
    let p = ptr as usize;
    p >= START.load(Ordering::Acquire) && p < END.load(Ordering::Acquire)
}

/// A block from the region, zeroed if `zero`; null when the region is off or full.
fn alloc_large(layout: Layout, zero: bool) -> *mut u8 {
    let Some(mut locked) = Locked::take() else {
        return std::ptr::null_mut();
    };
    let State::On(region) = &mut *locked.0 else {
        return std::ptr::null_mut();
    };
    if layout.align() > region.page() {
        return std::ptr::null_mut();
    }
    let Some((p, dirty)) = region.alloc(layout.size()) else {
        return std::ptr::null_mut();
    };
    drop(locked);
    if zero {
        // SAFETY: the block holds at least `layout.size()` bytes and is this caller's alone.
        unsafe { std::ptr::write_bytes(p, 0, dirty.min(layout.size())) };
    }
    p
}

fn free_large(ptr: *mut u8, size: usize) {
    // The block came from the region, so the lock is free (no allocation holds it across a
    // free of a region block) and the state is `On`.
    if let Some(mut locked) = Locked::take() {
        if let State::On(region) = &mut *locked.0 {
            region.free(ptr, size);
        }
    }
}

// SAFETY: each block comes from exactly one of the region (page-aligned, at least the asked
// size, handed out once until freed) and the inner allocator, and is freed where it came from
// (by address); `realloc` copies between the two when a block changes sides.
unsafe impl<A: GlobalAlloc> GlobalAlloc for LargeBlocks<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= LARGE_BLOCK_BYTES {
            let p = alloc_large(layout, false);
            if !p.is_null() {
                return p;
            }
        }
        // SAFETY: the caller's contract is forwarded.
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() >= LARGE_BLOCK_BYTES {
            let p = alloc_large(layout, true);
            if !p.is_null() {
                return p;
            }
        }
        // SAFETY: the caller's contract is forwarded.
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_region(ptr) {
            free_large(ptr, layout.size());
        } else {
            // SAFETY: the block came from the inner allocator with this layout.
            unsafe { self.inner.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !in_region(ptr) && new_size < LARGE_BLOCK_BYTES {
            // SAFETY: the block came from the inner allocator; the caller's contract holds.
            return unsafe { self.inner.realloc(ptr, layout, new_size) };
        }
        // SAFETY: the caller guarantees a valid non-zero size for this alignment.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a valid layout (the caller's contract).
        let p = unsafe { self.alloc(new_layout) };
        if !p.is_null() {
            // SAFETY: both blocks hold at least the bytes copied, and they are distinct.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        p
    }
}

/// Whether [`LargeBlocks`] places large blocks in its region, and how much of it is used.
#[derive(Debug, Clone)]
pub enum LargeBlocksStatus {
    /// Large blocks come from the region.
    On {
        /// Bytes of address space reserved.
        reserved: usize,
        /// Bytes up to the highest page ever handed out: what the region adds to the resident
        /// memory at most.
        touched: usize,
        /// Bytes in blocks handed out and not freed.
        in_use: usize,
    },
    /// Every block comes from the inner allocator, for this reason.
    Off(Unavailable),
}

/// The state of the process's [`LargeBlocks`] region (set up now if no large block was asked
/// for yet, so the answer is the one allocations get).
pub fn large_blocks_status() -> LargeBlocksStatus {
    let Some(locked) = Locked::take() else {
        unreachable!("large_blocks_status is not called from inside the allocator")
    };
    match &*locked.0 {
        State::On(region) => {
            let (touched, in_use) = region.usage();
            let a = region.addresses();
            LargeBlocksStatus::On {
                reserved: a.end - a.start,
                touched,
                in_use,
            }
        }
        State::Off(e) => LargeBlocksStatus::Off(e.clone()),
        State::Unset => unreachable!("Locked::take sets the state up"),
    }
}

impl fmt::Display for LargeBlocksStatus {
    /// `best-fit(≥1MiB, 48GiB reserved)` or `off: …` with the reason.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::On { reserved, .. } => write!(
                f,
                "best-fit(≥{}MiB, {}GiB reserved)",
                LARGE_BLOCK_BYTES >> 20,
                reserved >> 30
            ),
            Self::Off(e) => write!(f, "{e}"),
        }
    }
}
