//! One reserved range of address space, handed out in whole pages, best fit.

use std::ops::Range;

use range_alloc::RangeAllocator;

use crate::error::Unavailable;

/// A range of address space reserved once (`mmap` without backing: a page costs memory only
/// once written) whose pages are handed out best fit: the smallest free run that holds a block,
/// next to its neighbours when they are freed (`range-alloc` coalesces free runs). Pages are
/// never returned to the OS, so they are reused without being faulted in again.
pub(crate) struct Region {
    /// First address (page-aligned).
    base: usize,
    /// Bytes per page.
    page: usize,
    /// Reserved pages.
    pages: usize,
    /// Free and used runs of pages.
    runs: RangeAllocator<usize>,
    /// Pages below this index may have been written; those above have never been handed out
    /// and still read as zero.
    touched: usize,
    /// Pages handed out and not freed.
    in_use: usize,
}

impl Region {
    /// Reserves `bytes` (rounded up to whole pages) of address space.
    pub(crate) fn reserve(bytes: usize) -> Result<Self, Unavailable> {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = usize::try_from(page).map_err(|_| Unavailable::PageSize(page as i64))?;
        let pages = bytes.div_ceil(page);
        let len = pages * page;
        // SAFETY: a fresh anonymous private mapping; no existing memory is touched. NORESERVE:
        // the kernel charges pages as they are written, not the whole reservation.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(Unavailable::Reserve {
                bytes: len,
                error: std::io::Error::last_os_error().to_string(),
            });
        }
        Ok(Self {
            base: p as usize,
            page,
            pages,
            runs: RangeAllocator::new(0..pages),
            touched: 0,
            in_use: 0,
        })
    }

    /// The reserved addresses.
    pub(crate) fn addresses(&self) -> Range<usize> {
        self.base..self.base + self.pages * self.page
    }

    /// Bytes per page.
    pub(crate) fn page(&self) -> usize {
        self.page
    }

    /// A block of at least `size` bytes, page-aligned, and how many of its leading bytes may
    /// hold earlier data (the rest reads as zero); `None` when no free run holds it.
    pub(crate) fn alloc(&mut self, size: usize) -> Option<(*mut u8, usize)> {
        let n = size.div_ceil(self.page).max(1);
        let run = self.runs.allocate_range(n).ok()?;
        let dirty = self.touched.clamp(run.start, run.end) - run.start;
        self.touched = self.touched.max(run.end);
        self.in_use += n;
        Some((
            (self.base + run.start * self.page) as *mut u8,
            dirty * self.page,
        ))
    }

    /// Frees the block of `size` bytes at `ptr`, which [`Region::alloc`] returned.
    pub(crate) fn free(&mut self, ptr: *mut u8, size: usize) {
        let start = (ptr as usize - self.base) / self.page;
        let n = size.div_ceil(self.page).max(1);
        self.runs.free_range(start..start + n);
        self.in_use -= n;
    }

    /// Bytes ever handed out up to the highest page (what the region adds to the resident
    /// memory at most), and bytes handed out now.
    pub(crate) fn usage(&self) -> (usize, usize) {
        (self.touched * self.page, self.in_use * self.page)
    }
}
