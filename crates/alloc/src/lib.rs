//! greenbench-alloc: a global-allocator layer that keeps a training step's resident memory close
//! to the memory it uses.
//!
//! ```no_run
//! use greenbench_alloc::{large_blocks_status, LargeBlocks};
//! #[global_allocator]
//! static GLOBAL: LargeBlocks<std::alloc::System> = LargeBlocks::new(std::alloc::System);
//! // Blocks of ≥ 1 MiB come from one reserved range, best fit; `GREENBENCH_LARGE_BLOCKS=0`
//! // turns that off. The status names the placement, or why it is off:
//! println!("large blocks: {}", large_blocks_status());
//! ```

mod error;
mod large_blocks;
mod region;

pub use error::Unavailable;
pub use large_blocks::{
    large_blocks_status, LargeBlocks, LargeBlocksStatus, LARGE_BLOCKS_VAR, LARGE_BLOCK_BYTES,
};
