//! Building blocks shared by the CNNs: convolution (dense, grouped, depthwise), batch-norm,
//! linear layers, pooling with padding, and the MAC counter.
//!
//! # Trainable variables and buffers
//! Every trainable parameter (convolution and linear weights and biases, batch-norm weight and
//! bias) is created through the [`VarBuilder`] handed to the builder, with PyTorch's default
//! initialisation: convolution/linear weights and biases uniform in `±1/sqrt(fan_in)` (PyTorch's
//! Kaiming-uniform with `a = sqrt(5)`), batch-norm weight 1 and bias 0. Names follow the
//! PyTorch module paths of pytorch-cifar (`layer1.0.conv1.weight`, `layer1.0.bn1.bias`, ...).
//!
//! Batch-norm running mean and variance are *buffers*, not parameters: they are **not** created
//! through the `VarBuilder` (so a `VarMap` holds exactly the trainable set and its element count is
//! the PyTorch parameter count); each [`BatchNorm2d`] keeps them in a mutex inside the model.
//!
//! # MACs
//! [`Conv2d`] and [`Linear`] add their multiply-accumulates to a thread-local counter while
//! [`count_macs`] is active; the builders run one eval-mode forward pass of a single zero image
//! (3×32×32) under it. Counted: convolutions (`out_h·out_w·c_out·(c_in/groups)·k²`) and linear
//! layers (`in·out`), including 1×1 squeeze-excitation convolutions; biases, batch-norm,
//! activations, pooling and additions are not counted (ptflops counts those too, a few per cent
//! more).

use std::cell::Cell;

use candle_core::{Result, Tensor, Var};
use candle_nn::{Init, VarBuilder};

use crate::model::Model;
use crate::ops::batch_norm::{batch_norm_eval, batch_norm_train};
use crate::ops::conv::{self, ConvParams};
pub use crate::ops::epilogue::{Act, Epilogue};

thread_local! {
    static MACS: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Adds `n` MACs to the active counter (no-op when no count is running).
fn add_macs(n: u64) {
    MACS.with(|m| {
        if let Some(v) = m.get() {
            m.set(Some(v + n));
        }
    });
}

/// Runs `f` with the MAC counter active and returns the MACs its convolutions and linear
/// layers performed (for the whole batch `f` uses).
pub fn count_macs<T>(f: impl FnOnce() -> Result<T>) -> Result<u64> {
    MACS.with(|m| m.set(Some(0)));
    let res = f();
    let n = MACS.with(|m| m.replace(None)).unwrap_or(0);
    res.map(|_| n)
}

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

/// Hyper-parameters of a 2-D convolution (PyTorch defaults: stride 1, padding 0, groups 1;
/// unlike PyTorch, no bias unless [`ConvCfg::bias`] is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvCfg {
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Square kernel size.
    pub k: usize,
    /// Step between output positions, in input pixels (PyTorch's `stride`, default 1).
    pub stride: usize,
    /// Zero padding on each side.
    pub pad: usize,
    /// Channel groups (`c_in` for a depthwise convolution).
    pub groups: usize,
    /// Whether the convolution has a bias.
    pub bias: bool,
}

impl ConvCfg {
    /// A `k`×`k` convolution `c_in → c_out`, stride 1, no padding, one group, no bias.
    pub fn new(c_in: usize, c_out: usize, k: usize) -> Self {
        Self {
            c_in,
            c_out,
            k,
            stride: 1,
            pad: 0,
            groups: 1,
            bias: false,
        }
    }
    /// Sets the stride.
    pub fn stride(self, stride: usize) -> Self {
        Self { stride, ..self }
    }
    /// Sets the padding.
    pub fn pad(self, pad: usize) -> Self {
        Self { pad, ..self }
    }
    /// Sets the padding to `(k - 1) / 2` ("same" for odd kernels at stride 1).
    pub fn same(self) -> Self {
        Self {
            pad: (self.k - 1) / 2,
            ..self
        }
    }
    /// Sets the number of groups.
    pub fn groups(self, groups: usize) -> Self {
        Self { groups, ..self }
    }
    /// Gives the convolution a bias.
    pub fn bias(self) -> Self {
        Self { bias: true, ..self }
    }
}

/// PyTorch's default init for weights and biases of a layer with `fan_in` inputs.
fn default_init(fan_in: usize) -> Init {
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

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
    fn takes_input_scale(&self) -> bool {
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

/// The `k²` windows of `x` (padded with `pad` elements of `value`) at `stride`, stacked as
/// `[batch, channels, k², out_h, out_w]`.
///
/// One gather (`index_select` over the flattened spatial positions plus one sentinel element
/// holding the padding value), so the backward pass is a single scatter-add (`index_add`).
fn windows(x: &Tensor, k: usize, stride: usize, pad: usize, value: f32) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    if h + 2 * pad < k || w + 2 * pad < k {
        candle_core::bail!("window {k} larger than the padded input {h}×{w} (+{pad})");
    }
    let (ho, wo) = (
        (h + 2 * pad - k) / stride + 1,
        (w + 2 * pad - k) / stride + 1,
    );
    let sentinel = (h * w) as u32;
    let mut idx = Vec::with_capacity(k * k * ho * wo);
    for i in 0..k {
        for j in 0..k {
            for oh in 0..ho {
                let r = (oh * stride + i).checked_sub(pad).filter(|r| *r < h);
                for ow in 0..wo {
                    let q = (ow * stride + j).checked_sub(pad).filter(|q| *q < w);
                    idx.push(match (r, q) {
                        (Some(r), Some(q)) => (r * w + q) as u32,
                        _ => sentinel,
                    });
                }
            }
        }
    }
    let idx = Tensor::from_vec(idx, k * k * ho * wo, x.device())?;
    let flat = x.reshape((b, c, h * w))?;
    let flat = if pad > 0 {
        let fill = Tensor::full(value, (b, c, 1), x.device())?.to_dtype(x.dtype())?;
        Tensor::cat(&[&flat, &fill], 2)?
    } else {
        flat
    };
    flat.index_select(&idx, 2)?.reshape((b, c, k * k, ho, wo))
}

/// Depthwise convolution (one input channel per group, `c_out = m·c_in`), PyTorch semantics:
/// output channel `o` reads input channel `o / m`.
fn depthwise(x: &Tensor, weight: &Tensor, pad: usize, stride: usize) -> Result<Tensor> {
    let (b, c, _, _) = x.dims4()?;
    let (c_out, _, k, _) = weight.dims4()?;
    let m = c_out / c;
    let win = windows(x, k, stride, pad, 0.0)?; // [b, c, k², ho, wo]
    let (ho, wo) = (win.dim(3)?, win.dim(4)?);
    let w = weight.reshape((1, c, m, k * k, 1, 1))?;
    win.unsqueeze(2)?
        .broadcast_mul(&w)?
        .sum(3)?
        .reshape((b, c_out, ho, wo))
}

/// Max pooling with a `k`×`k` window, `stride` and `pad` (padding never wins, as in PyTorch).
pub fn max_pool2d(x: &Tensor, k: usize, stride: usize, pad: usize) -> Result<Tensor> {
    crate::ops::pool::max_pool2d(x, k, stride, pad, || {
        if pad == 0 && k == stride {
            return x.max_pool2d(k);
        }
        windows(x, k, stride, pad, f32::NEG_INFINITY)?.max(2)
    })
}

/// Mean over the spatial dimensions: `[batch, c, h, w]` → `[batch, c]`.
pub fn global_avg_pool(x: &Tensor) -> Result<Tensor> {
    crate::ops::pool::global_avg_pool_keepdim(x)?.flatten_from(1)
}

/// Squeeze for excitation: spatial mean kept as `[batch, c, 1, 1]`.
pub fn global_avg_pool_keepdim(x: &Tensor) -> Result<Tensor> {
    crate::ops::pool::global_avg_pool_keepdim(x)
}

/// Swish (SiLU) `x·sigmoid(x)`, one op forward and backward on the CPU.
pub fn swish(x: &Tensor) -> Result<Tensor> {
    crate::ops::elementwise::silu(x)
}

/// `x` `[batch, c, h, w]` scaled per sample and channel by `s` `[batch, c, 1, 1]` (the
/// excitation of squeeze-and-excitation), one op forward and backward on the CPU.
pub fn scale_channels(x: &Tensor, s: &Tensor) -> Result<Tensor> {
    crate::ops::elementwise::channel_scale(x, s)
}

/// `x·s + r` (`s` as in [`scale_channels`], `r` shaped like `x`): squeeze-and-excitation's scale
/// and a residual addition in one pass, one op forward and backward on the CPU.
pub fn scale_channels_add(x: &Tensor, s: &Tensor, r: &Tensor) -> Result<Tensor> {
    crate::ops::elementwise::channel_scale_add(x, s, r)
}

/// Logistic sigmoid (candle-nn's op, which has a backward pass).
pub fn sigmoid(x: &Tensor) -> Result<Tensor> {
    candle_nn::ops::sigmoid(x)
}

/// Batch normalisation over the channels of `[batch, c, h, w]` (eps 1e-5, momentum 0.1).
///
/// Training mode normalises with the batch statistics (computed from primitive ops, so the
/// gradient reaches the input, weight and bias) and updates the running statistics (unbiased
/// variance, as PyTorch); eval mode uses the running statistics.
pub struct BatchNorm2d {
    weight: Tensor,
    bias: Tensor,
    running_mean: Var,
    running_var: Var,
    c: usize,
}

const BN_EPS: f64 = 1e-5;
const BN_MOMENTUM: f64 = 0.1;

impl BatchNorm2d {
    /// Creates `weight` (ones) and `bias` (zeros) under `vb`, and the running statistics as the
    /// buffers `running_mean` (zeros) and `running_var` (ones): they live in the `VarMap` (so
    /// checkpoints keep them) but are not trainable ([`crate::init::is_buffer`]).
    pub fn new(vb: VarBuilder, c: usize) -> Result<Self> {
        let weight = vb.get_with_hints(c, "weight", Init::Const(1.0))?;
        let bias = vb.get_with_hints(c, "bias", Init::Const(0.0))?;
        let running_mean =
            Var::from_tensor(&vb.get_with_hints(c, "running_mean", Init::Const(0.0))?)?;
        let running_var =
            Var::from_tensor(&vb.get_with_hints(c, "running_var", Init::Const(1.0))?)?;
        Ok(Self {
            weight,
            bias,
            running_mean,
            running_var,
            c,
        })
    }

    /// The running mean and variance (copies of the buffers).
    pub fn running_stats(&self) -> Result<(Tensor, Tensor)> {
        Ok((
            self.running_mean.as_tensor().copy()?.detach(),
            self.running_var.as_tensor().copy()?.detach(),
        ))
    }

    /// The eval-mode normalisation (running statistics) followed by `act`, as an epilogue for
    /// the convolution before it.
    pub fn eval_epilogue(&self, act: Act) -> Result<Epilogue> {
        let (w, b) = (self.weight.to_vec1::<f32>()?, self.bias.to_vec1::<f32>()?);
        let mean = self.running_mean.as_tensor().to_vec1::<f32>()?;
        let var = self.running_var.as_tensor().to_vec1::<f32>()?;
        Ok(Epilogue::batch_norm((&w, &b), (&mean, &var), BN_EPS, act))
    }

    /// Normalises `x`.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_inner(x, train, false)
    }

    /// `relu(self.forward_t(x, train))`, fused into one op on the CPU (f32).
    pub fn forward_t_relu(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_inner(x, train, true)
    }

    fn forward_inner(&self, x: &Tensor, train: bool, relu: bool) -> Result<Tensor> {
        let c = self.c;
        if train && crate::ops::use_custom(x) {
            let (y, stats) = batch_norm_train(x, &self.weight, &self.bias, BN_EPS, relu)?;
            let (n_b, _, h, wd) = x.dims4()?;
            let n = (n_b * h * wd) as f64;
            let unbias = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
            let mean = Tensor::from_vec(stats.mean, c, x.device())?;
            let var = (Tensor::from_vec(stats.var, c, x.device())? * unbias)?;
            self.update_running(&mean, &var)?;
            return Ok(y);
        }
        if !train && crate::ops::use_custom(x) {
            let stats = (
                self.running_mean.as_tensor().to_vec1::<f32>()?,
                self.running_var.as_tensor().to_vec1::<f32>()?,
            );
            return batch_norm_eval(x, &self.weight, &self.bias, stats, BN_EPS, relu);
        }
        let w = self.weight.reshape((1, c, 1, 1))?;
        let b = self.bias.reshape((1, c, 1, 1))?;
        let y = if train {
            let (n_b, _, h, wd) = x.dims4()?;
            let n = (n_b * h * wd) as f64;
            let mean = (x.sum_keepdim((0, 2, 3))? / n)?;
            let xc = x.broadcast_sub(&mean)?;
            let var = (xc.sqr()?.sum_keepdim((0, 2, 3))? / n)?;
            let unbias = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
            self.update_running(
                &mean.detach().flatten_all()?,
                &(var.detach().flatten_all()? * unbias)?,
            )?;
            let scale = w.broadcast_div(&(var + BN_EPS)?.sqrt()?)?;
            xc.broadcast_mul(&scale)?.broadcast_add(&b)?
        } else {
            let mean = self.running_mean.as_tensor().detach();
            let var = self.running_var.as_tensor().detach();
            let scale = w.broadcast_div(&(var + BN_EPS)?.sqrt()?.reshape((1, c, 1, 1))?)?;
            let shift = b.broadcast_sub(&mean.reshape((1, c, 1, 1))?.broadcast_mul(&scale)?)?;
            x.broadcast_mul(&scale)?.broadcast_add(&shift)?
        };
        if relu {
            // PyTorch's convention, as the fused op: no gradient where the output is exactly 0
            // (candle's `relu` passes it there, which matters for dead channels, whose
            // normalised output is exactly 0).
            let mask = y.gt(&y.zeros_like()?)?.to_dtype(y.dtype())?.detach();
            y * mask
        } else {
            Ok(y)
        }
    }

    /// `running = (1 − momentum)·running + momentum·batch` for the mean and (unbiased) variance.
    fn update_running(&self, mean: &Tensor, var: &Tensor) -> Result<()> {
        for (run, batch) in [(&self.running_mean, mean), (&self.running_var, var)] {
            let new = ((run.as_tensor().detach() * (1.0 - BN_MOMENTUM))? + (batch * BN_MOMENTUM)?)?;
            run.set(&new)?;
        }
        Ok(())
    }
}

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

/// Flattens `[batch, ...]` to `[batch, features]`.
pub fn flatten(x: &Tensor) -> Result<Tensor> {
    x.flatten_from(1)
}

/// Splits `x` along the channels at `c`: `(x[:, :c], x[:, c:])`.
pub fn split_channels(x: &Tensor, c: usize) -> Result<(Tensor, Tensor)> {
    let total = x.dim(1)?;
    Ok((x.narrow(1, 0, c)?, x.narrow(1, c, total - c)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    fn rand(shape: &[usize]) -> Result<Tensor> {
        Tensor::randn(0f32, 1.0, shape, &Device::Cpu)
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
        (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
    }

    /// Depthwise (with and without channel multiplier, stride 1 and 2) equals candle's grouped
    /// conv forward and backward.
    #[test]
    fn depthwise_matches_candle_grouped_conv() -> Result<()> {
        for (c, m, k, stride, pad, hw) in [
            (4, 1, 3, 1, 1, 8),
            (4, 1, 3, 2, 1, 8),
            (3, 2, 5, 2, 2, 7),
            (2, 2, 7, 1, 3, 6),
        ] {
            let x = Var::from_tensor(&rand(&[2, c, hw, hw])?)?;
            let w = Var::from_tensor(&rand(&[c * m, 1, k, k])?)?;
            let ours = depthwise(&x, &w, pad, stride)?;
            let theirs = x.conv2d(&w, pad, stride, 1, c)?;
            assert_eq!(ours.dims(), theirs.dims());
            assert!(max_diff(&ours, &theirs)? < 1e-4);
            let probe = rand(ours.dims())?;
            let g1 = (ours * &probe)?.sum_all()?.backward()?;
            let g2 = (theirs * &probe)?.sum_all()?.backward()?;
            for v in [x.as_tensor(), w.as_tensor()] {
                let (a, b) = (g1.get(v).expect("grad"), g2.get(v).expect("grad"));
                assert!(max_diff(a, b)? < 1e-3, "c {c} m {m} k {k} stride {stride}");
            }
        }
        Ok(())
    }

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

    /// Padded max pooling equals a direct computation and passes gradients to the maxima.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn padded_max_pool() -> Result<()> {
        let x = Var::from_tensor(&rand(&[1, 2, 5, 5])?)?;
        for stride in [1, 2] {
            let y = max_pool2d(&x, 3, stride, 1)?;
            let ho = (5 + 2 - 3) / stride + 1;
            assert_eq!(y.dims(), &[1, 2, ho, ho]);
            let xv = x.as_tensor().squeeze(0)?.to_vec3::<f32>()?;
            let yv = y.squeeze(0)?.to_vec3::<f32>()?;
            for c in 0..2 {
                for i in 0..ho {
                    for j in 0..ho {
                        let mut best = f32::NEG_INFINITY;
                        for di in 0..3 {
                            for dj in 0..3 {
                                let (r, q) = (
                                    (i * stride + di) as isize - 1,
                                    (j * stride + dj) as isize - 1,
                                );
                                if (0..5).contains(&r) && (0..5).contains(&q) {
                                    best = best.max(xv[c][r as usize][q as usize]);
                                }
                            }
                        }
                        assert_eq!(yv[c][i][j], best);
                    }
                }
            }
            let g = y.sum_all()?.backward()?;
            let gx = g
                .get(x.as_tensor())
                .expect("grad")
                .sum_all()?
                .to_scalar::<f32>()?;
            assert!(gx > 0.0);
        }
        Ok(())
    }

    /// Train mode normalises with batch statistics and updates the running ones (PyTorch's
    /// momentum 0.1 and unbiased variance); eval mode uses the running statistics; the running
    /// statistics are buffers of the `VarMap`, updated in place.
    #[test]
    fn batch_norm_statistics() -> Result<()> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let bn = BatchNorm2d::new(vb, 3)?;
        assert_eq!(varmap.all_vars().len(), 4);
        assert_eq!(crate::complexity::param_count(&varmap), 6);
        assert_eq!(crate::train::trainable_vars(&varmap).len(), 2);
        let x = ((rand(&[4, 3, 5, 5])? * 2.0)? + 3.0)?;
        let y = bn.forward_t(&x, true)?;
        let mean = y.mean((0, 2, 3))?.to_vec1::<f32>()?;
        let var = y.sqr()?.mean((0, 2, 3))?.to_vec1::<f32>()?;
        assert!(mean.iter().all(|m| m.abs() < 1e-4));
        assert!(var.iter().all(|v| (v - 1.0).abs() < 1e-3));
        let (rm, rv) = bn.running_stats()?;
        let stored = varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("poisoned".into()))?
            .get("running_mean")
            .map(|v| v.as_tensor().clone());
        let stored = stored.ok_or_else(|| candle_core::Error::Msg("no running_mean".into()))?;
        assert!(
            max_diff(&stored, &rm)? == 0.0,
            "the VarMap holds the updated buffer"
        );
        let n = 100.0f64;
        let bm = x.mean((0, 2, 3))?;
        let bv = (x
            .broadcast_sub(&x.mean_keepdim((0, 2, 3))?)?
            .sqr()?
            .sum((0, 2, 3))?
            / (n - 1.0))?;
        assert!(max_diff(&rm, &(bm * 0.1)?)? < 1e-4);
        assert!(max_diff(&rv, &((bv * 0.1)? + 0.9)?)? < 1e-4);
        let e = bn.forward_t(&x, false)?;
        let expect = x
            .broadcast_sub(&rm.reshape((1, 3, 1, 1))?)?
            .broadcast_div(&(rv.reshape((1, 3, 1, 1))? + BN_EPS)?.sqrt()?)?;
        assert!(max_diff(&e, &expect)? < 1e-4);
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
