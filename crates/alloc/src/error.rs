//! Why large blocks come from the inner allocator instead of the reserved region.

/// Why [`crate::LargeBlocks`] passes every allocation to its inner allocator.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Unavailable {
    /// Turned off by the environment.
    #[error("off: {var}={value} (unset it, or set it to 1, to place large blocks best fit)")]
    Disabled {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// The page size could not be read.
    #[error("off: sysconf(_SC_PAGESIZE) returned {0}")]
    PageSize(i64),
    /// The address range could not be reserved.
    #[error(
        "off: reserving {bytes} bytes of address space failed ({error}); with \
         vm.overcommit_memory=2 the kernel refuses reservations beyond its commit limit"
    )]
    Reserve {
        /// Bytes asked for.
        bytes: usize,
        /// The OS error.
        error: String,
    },
}
