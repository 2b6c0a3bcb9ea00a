//! [`ConvBn`] and [`conv_bn_act`]: a convolution and its batch-norm, one op in inference.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::batch_norm::BatchNorm2d;
use super::conv2d::Conv2d;
use super::conv_cfg::ConvCfg;
use super::functional::{scale_channels, swish};
use crate::ops::epilogue::Act;

/// A convolution followed by batch-norm (`{prefix}.{conv}` and `{prefix}.{bn}`).
pub struct ConvBn {
    /// The convolution.
    pub conv: Conv2d,
    /// The batch-norm over its output.
    pub bn: BatchNorm2d,
}

impl ConvBn {
    /// Convolution named `conv` and batch-norm named `bn` under `vb`.
    pub fn new(vb: &VarBuilder, conv: &str, bn: &str, cfg: ConvCfg) -> Result<Self> {
        Ok(Self {
            conv: Conv2d::new(vb.pp(conv), cfg)?,
            bn: BatchNorm2d::new(vb.pp(bn), cfg.c_out)?,
        })
    }

    /// `bn(conv(x))`.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_t_act(x, train, Act::Identity)
    }

    /// `relu(bn(conv(x)))`, batch-norm and ReLU fused on the CPU.
    pub fn forward_t_relu(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_t_act(x, train, Act::Relu)
    }

    /// `relu(join(bn(conv(x)), r))` ([`BatchNorm2d::forward_t_join_relu`]: the first `added`
    /// channels added, then the rest of `r`, then the rest of the normalised output). In eval
    /// mode without gradient tracking on the CPU the convolution applies the batch-norm as it
    /// makes each plane; in training the batch-norm, join and ReLU are one op.
    pub fn forward_t_join_relu(
        &self,
        x: &Tensor,
        r: &Tensor,
        added: usize,
        train: bool,
    ) -> Result<Tensor> {
        if !train && !candle_core::op::grad_enabled() && crate::ops::use_custom(x) {
            let y = self
                .conv
                .forward_eval(x, self.bn.eval_epilogue(Act::Identity)?)?;
            return crate::ops::batch_norm_join::join_relu(&y, r, added);
        }
        self.bn
            .forward_t_join_relu(&self.conv.forward(x)?, r, added, train)
    }

    /// `act(bn(conv(x)))`. In eval mode without gradient tracking (a sweep's inference phase,
    /// under `candle_core::op::no_grad`) on the CPU, one op: the convolution applies the
    /// normalisation and activation to each output plane as it makes it. Otherwise separate ops,
    /// through which gradients flow.
    pub fn forward_t_act(&self, x: &Tensor, train: bool, act: Act) -> Result<Tensor> {
        conv_bn_act(&self.conv, &self.bn, x, train, act)
    }

    /// `bn(conv(x ⊙ s))`, `s` `[batch, c_in, 1, 1]` scaling each input plane (the excitation of
    /// squeeze-and-excitation before a 1×1 projection). In eval mode without gradient tracking
    /// on the CPU one op that never makes the scaled copy of `x`; otherwise
    /// [`scale_channels`] and then [`ConvBn::forward_t`].
    pub fn forward_scaled_t(&self, x: &Tensor, s: &Tensor, train: bool) -> Result<Tensor> {
        if !train
            && !candle_core::op::grad_enabled()
            && crate::ops::use_custom(x)
            && self.conv.takes_input_scale()
        {
            let epi = self.bn.eval_epilogue(Act::Identity)?;
            return self.conv.forward_eval_scaled(x, s, epi);
        }
        self.forward_t(&scale_channels(x, s)?, train)
    }
}

/// `act(bn(conv(x)))` for a convolution whose output feeds only that batch-norm: in eval mode
/// without gradient tracking on the CPU one op (see [`ConvBn::forward_t_act`]), otherwise
/// separate ops.
pub fn conv_bn_act(
    conv: &Conv2d,
    bn: &BatchNorm2d,
    x: &Tensor,
    train: bool,
    act: Act,
) -> Result<Tensor> {
    if !train && !candle_core::op::grad_enabled() && crate::ops::use_custom(x) {
        return conv.forward_eval(x, bn.eval_epilogue(act)?);
    }
    let y = conv.forward(x)?;
    match act {
        Act::Identity => bn.forward_t(&y, train),
        Act::Relu => bn.forward_t_relu(&y, train),
        Act::Silu => swish(&bn.forward_t(&y, train)?),
    }
}
