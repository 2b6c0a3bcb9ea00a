//! [`Linear`]: a fully connected layer.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::default_init::default_init;
use super::macs::add_macs;

/// A fully connected layer `in → out` with bias (weight `[out, in]`).
pub struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    /// Creates `weight` and `bias` under `vb`.
    pub fn new(vb: VarBuilder, d_in: usize, d_out: usize) -> Result<Self> {
        let init = default_init(d_in);
        let weight = vb.get_with_hints((d_out, d_in), "weight", init)?;
        let bias = vb.get_with_hints(d_out, "bias", init)?;
        Ok(Self { weight, bias })
    }

    /// `x·Wᵀ + b` for `x` `[batch, in]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_act(x, false)
    }

    /// `relu(x·Wᵀ + b)` when `relu` (fused into the product on the CPU), else `x·Wᵀ + b`.
    pub fn forward_act(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        let (b, d_in) = x.dims2()?;
        add_macs((b * d_in * self.weight.dim(0)?) as u64);
        crate::ops::linear::linear_act(x, &self.weight, Some(&self.bias), relu)
    }
}
