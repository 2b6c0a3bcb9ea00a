//! Deterministic randomness for epoch orders and splits: the workspace's one generator
//! (`greenbench_core::rng`), re-exported where the data crate has always offered it.

pub use greenbench_core::{shuffle, SplitMix64};
