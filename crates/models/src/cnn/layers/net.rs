//! The [`Layer`] trait of network bodies and [`Net`], the [`Model`] a CNN builder returns.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::macs::count_macs;
use crate::model::Model;

/// A network body: the forward pass of a CNN or of one of its blocks.
pub trait Layer: Send + Sync {
    /// Forward pass; `train` selects batch statistics in batch-norm (and updates running ones).
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor>;
}

/// A boxed layer is a layer (bodies that mix block types hold `Box<dyn Layer>`).
impl<L: Layer + ?Sized> Layer for Box<L> {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        (**self).forward_t(x, train)
    }
}

/// A built CNN: its body and the MACs per sample measured at build time.
pub struct Net<L: Layer> {
    body: L,
    macs: u64,
    unused: &'static [&'static str],
}

impl<L: Layer> Model for Net<L> {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.body.forward_t(x, train)
    }

    fn macs_per_sample(&self) -> u64 {
        self.macs
    }

    fn unused_variables(&self) -> &'static [&'static str] {
        self.unused
    }
}

/// Wraps `body` as a [`Model`], counting its MACs on one zero 3×32×32 image (eval mode, so no
/// running statistics change).
pub fn finish<L: Layer + 'static>(body: L, vb: &VarBuilder) -> Result<Box<dyn Model>> {
    finish_with_unused(body, vb, &[])
}

/// [`finish`] for a network whose reference creates variables it never uses: `unused` lists
/// their name prefixes (relative to the model's root), reported by [`Model::unused_variables`].
pub fn finish_with_unused<L: Layer + 'static>(
    body: L,
    vb: &VarBuilder,
    unused: &'static [&'static str],
) -> Result<Box<dyn Model>> {
    let x = Tensor::zeros((1, 3, 32, 32), vb.dtype(), vb.device())?;
    let macs = count_macs(|| body.forward_t(&x, false))?;
    Ok(Box::new(Net { body, macs, unused }))
}
