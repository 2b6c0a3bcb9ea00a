//! [`Conv2d`]: dense, grouped and depthwise 2-D convolution.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::conv_cfg::ConvCfg;
use super::default_init::default_init;
use super::depthwise::depthwise;
use super::macs::add_macs;
use crate::ops::conv::{self, ConvParams};
use crate::ops::epilogue::Epilogue;

/// A 2-D convolution with PyTorch's weight layout `[c_out, c_in/groups, k, k]`.
///
/// On the CPU (f32) every convolution runs greenbench's own op ([`crate::ops::conv::conv2d`]:
/// im2col + gemm, direct loops for depthwise, with its own backward pass). On other devices,
/// groups with one input channel each (depthwise, possibly with a channel multiplier) run as a
/// sum of `k²` shifted, broadcast products and other convolutions use candle's `conv2d`.
pub struct Conv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    cfg: ConvCfg,
}

impl Conv2d {
    /// Creates `weight` (and `bias`) under `vb`.
    pub fn new(vb: VarBuilder, cfg: ConvCfg) -> Result<Self> {
        if cfg.groups == 0
            || cfg.c_in / cfg.groups * cfg.groups != cfg.c_in
            || cfg.c_out / cfg.groups * cfg.groups != cfg.c_out
            || cfg.k == 0
            || cfg.stride == 0
        {
            candle_core::bail!("invalid convolution {cfg:?}");
        }
        let per_group = cfg.c_in / cfg.groups;
        let init = default_init(per_group * cfg.k * cfg.k);
        let weight = vb.get_with_hints((cfg.c_out, per_group, cfg.k, cfg.k), "weight", init)?;
        let bias = if cfg.bias {
            Some(vb.get_with_hints(cfg.c_out, "bias", init)?)
        } else {
            None
        };
        Ok(Self { weight, bias, cfg })
    }

    /// Output side length for an input of side `h`.
    #[cfg(test)]
    pub fn out_size(&self, h: usize) -> usize {
        (h + 2 * self.cfg.pad - self.cfg.k) / self.cfg.stride + 1
    }

    /// Applies the convolution to `x` `[batch, c_in, h, w]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_act(x, false)
    }

    fn params(&self) -> ConvParams {
        let c = self.cfg;
        ConvParams {
            stride: c.stride,
            pad: c.pad,
            dilation: 1,
            groups: c.groups,
        }
    }

    /// Counts the multiply-accumulates that produced the output `y`.
    fn count_macs(&self, y: &Tensor) -> Result<()> {
        let c = self.cfg;
        let (b, _, ho, wo) = y.dims4()?;
        add_macs((b * ho * wo * c.c_out * (c.c_in / c.groups) * c.k * c.k) as u64);
        Ok(())
    }

    /// `epi(conv(x))` as one inference-only op on the CPU (no backward pass; see
    /// [`conv::conv2d_eval`]); the bias, if any, is folded into the epilogue.
    pub fn forward_eval(&self, x: &Tensor, epi: Epilogue) -> Result<Tensor> {
        let y = conv::conv2d_eval(x, &self.weight, self.params(), self.with_bias(epi)?)?;
        self.count_macs(&y)?;
        Ok(y)
    }

    /// `epi(conv(x ⊙ s))` as one inference-only op on the CPU, `s` `[batch, c_in, 1, 1]` scaling
    /// each input plane (see [`conv::conv2d_eval_scaled`]: 1×1, stride 1, no padding, one group).
    pub fn forward_eval_scaled(&self, x: &Tensor, s: &Tensor, epi: Epilogue) -> Result<Tensor> {
        let epi = self.with_bias(epi)?;
        let y = conv::conv2d_eval_scaled(x, s, &self.weight, self.params(), epi)?;
        self.count_macs(&y)?;
        Ok(y)
    }

    /// `epi` with this convolution's bias, if any, folded in (applied before the batch-norm).
    fn with_bias(&self, epi: Epilogue) -> Result<Epilogue> {
        Ok(match &self.bias {
            Some(b) => epi.with_conv_bias(&b.to_vec1::<f32>()?),
            None => epi,
        })
    }

    /// Whether [`Conv2d::forward_eval_scaled`] applies (see [`conv::takes_input_scale`]).
    pub(super) fn takes_input_scale(&self) -> bool {
        conv::takes_input_scale((self.cfg.k, self.cfg.k), self.params())
    }

    /// `relu(conv(x))` when `relu` (bias and ReLU fused on the CPU), else `conv(x)`.
    pub fn forward_act(&self, x: &Tensor, relu: bool) -> Result<Tensor> {
        let c = self.cfg;
        let y = if !x.device().is_cpu() && c.groups > 1 && c.c_in == c.groups {
            depthwise(x, &self.weight, c.pad, c.stride)?
        } else {
            conv::conv2d(x, &self.weight, self.params())?
        };
        self.count_macs(&y)?;
        match &self.bias {
            Some(bias) => crate::ops::elementwise::channel_bias_act(&y, bias, relu),
            None if relu => y.relu(),
            None => Ok(y),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cnn::layers::count_macs;
    use crate::ops::testing::{max_diff, rand};
    use candle_core::{DType, Device, Var};
    use candle_nn::VarMap;

    /// candle's grouped conv backward (used for ResNeXt, DPN, RegNet) equals convolving each
    /// channel group separately.
    #[test]
    fn grouped_conv_backward_matches_split_channels() -> Result<()> {
        let x = Var::from_tensor(&rand(&[2, 6, 8, 8])?)?;
        let w = Var::from_tensor(&rand(&[4, 3, 3, 3])?)?;
        let grouped = x.conv2d(&w, 1, 2, 1, 2)?;
        let split = Tensor::cat(
            &[
                x.narrow(1, 0, 3)?.conv2d(&w.narrow(0, 0, 2)?, 1, 2, 1, 1)?,
                x.narrow(1, 3, 3)?.conv2d(&w.narrow(0, 2, 2)?, 1, 2, 1, 1)?,
            ],
            1,
        )?;
        assert!(max_diff(&grouped, &split)? < 1e-4);
        let probe = rand(grouped.dims())?;
        let g1 = (grouped * &probe)?.sum_all()?.backward()?;
        let g2 = (split * &probe)?.sum_all()?.backward()?;
        for v in [x.as_tensor(), w.as_tensor()] {
            let (a, b) = (g1.get(v).expect("grad"), g2.get(v).expect("grad"));
            assert!(max_diff(a, b)? < 1e-3);
            assert!(a
                .flatten_all()?
                .to_vec1::<f32>()?
                .iter()
                .all(|v| v.is_finite()));
        }
        Ok(())
    }

    #[test]
    fn macs_are_counted_per_forward() -> Result<()> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let conv = Conv2d::new(vb.pp("c"), ConvCfg::new(4, 8, 3).stride(2).pad(1).groups(2))?;
        let dw = Conv2d::new(vb.pp("d"), ConvCfg::new(8, 8, 3).pad(1).groups(8))?;
        let x = rand(&[1, 4, 8, 8])?;
        let macs = count_macs(|| dw.forward(&conv.forward(&x)?))?;
        assert_eq!(macs, (4 * 4 * 8 * 2 * 9 + 4 * 4 * 8 * 9) as u64);
        assert_eq!(conv.out_size(8), 4);
        assert_eq!(count_macs(|| conv.forward(&x))?, 4 * 4 * 8 * 2 * 9);
        Ok(())
    }
}
