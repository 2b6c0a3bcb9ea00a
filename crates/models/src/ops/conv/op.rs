//! The candle custom ops (forward, the two gradients, the scaled inference forward) and the
//! public functions that apply them.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};

use super::dense::{backward, backward_input, backward_weight, forward, forward_scaled};
use super::geom::{ConvParams, Geom};
use crate::ops::cpu::{f32_slice, f32_slices, read};
use crate::ops::epilogue::Epilogue;

/// Names this op in error messages.
const OP: &str = "conv2d";

/// The forward op: `(x, weight) → y`; its backward computes both gradients in one call when
/// both are wanted ([`both_gradients`]), otherwise [`BackwardInput`] or [`BackwardWeight`].
/// With an epilogue, `(x, weight) → epilogue(y)` for inference, without a backward pass.
struct Forward(ConvParams, Option<Epilogue>);
/// `(dy, weight) → dx` for an input of the given shape.
struct BackwardInput(ConvParams, [usize; 4]);
/// `(dy, x) → dW` for a weight of the given shape.
struct BackwardWeight(ConvParams, [usize; 4]);

impl CustomOp2 for Forward {
    fn name(&self) -> &'static str {
        "greenbench-conv2d"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = Geom::new(l1.dims(), l2.dims(), self.0)?;
        if let Some(e) = self.1.as_ref().filter(|e| e.channels() != g.o) {
            candle_core::bail!(
                "conv2d (eval): {} batch-norm channels for {} outputs",
                e.channels(),
                g.o
            )
        }
        let (x, w) = (f32_slice(s1, l1, OP)?, f32_slice(s2, l2, OP)?);
        let y = forward(&g, x, w, self.1.as_ref());
        Ok((CpuStorage::F32(y), Shape::from((g.n, g.o, g.oh, g.ow))))
    }
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        if self.1.is_some() {
            candle_core::bail!(
                "conv2d (eval) has no backward pass: it is meant for candle_core::op::no_grad"
            )
        }
        let dy = dy.contiguous()?;
        if x.track_op() && w.track_op() {
            return both_gradients(self.0, &dy, &x.contiguous()?, &w.contiguous()?)
                .map(|(dx, dw)| (Some(dx), Some(dw)));
        }
        let xd = dims4(x)?;
        let wd = dims4(w)?;
        // A network's input images track no gradient: their `dx` (an im2col-sized product
        // and col2im at the highest resolution) would be computed only to be dropped.
        let dx = x
            .track_op()
            .then(|| dy.apply_op2_no_bwd(&w.contiguous()?, &BackwardInput(self.0, xd)))
            .transpose()?;
        let dw = w
            .track_op()
            .then(|| dy.apply_op2_no_bwd(&x.contiguous()?, &BackwardWeight(self.0, wd)))
            .transpose()?;
        Ok((dx, dw))
    }
}

/// `(dx, dW)` of the convolution of `x` with `w` for the output gradient `dy` (all three
/// contiguous f32 on the CPU) in one call, so that a path that shares work between the two
/// (Winograd's transformed output gradient) does it once.
fn both_gradients(p: ConvParams, dy: &Tensor, x: &Tensor, w: &Tensor) -> Result<(Tensor, Tensor)> {
    let g = Geom::new(x.dims(), w.dims(), p)?;
    check_output_grad(&g, dy.dims())?;
    let (dx, dw) = read(dy, OP, |dyv| {
        read(x, OP, |xv| read(w, OP, |wv| Ok(backward(&g, dyv, wv, xv))))
    })?;
    Ok((
        Tensor::from_vec(dx, x.dims(), x.device())?,
        Tensor::from_vec(dw, w.dims(), w.device())?,
    ))
}

/// Fails unless `dims` is the output shape of the convolution `g` (an output gradient's).
fn check_output_grad(g: &Geom, dims: &[usize]) -> Result<()> {
    if dims != [g.n, g.o, g.oh, g.ow] {
        candle_core::bail!(
            "conv2d backward: gradient shape {dims:?}, expected {:?}",
            [g.n, g.o, g.oh, g.ow]
        )
    }
    Ok(())
}

fn dims4(t: &Tensor) -> Result<[usize; 4]> {
    let (a, b, c, d) = t.dims4()?;
    Ok([a, b, c, d])
}

impl CustomOp2 for BackwardInput {
    fn name(&self) -> &'static str {
        "greenbench-conv2d-backward-input"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = Geom::new(&self.1, l2.dims(), self.0)?;
        check_output_grad(&g, l1.dims())?;
        let dx = backward_input(&g, f32_slice(s1, l1, OP)?, f32_slice(s2, l2, OP)?);
        Ok((CpuStorage::F32(dx), Shape::from(self.1.to_vec())))
    }
}

impl CustomOp2 for BackwardWeight {
    fn name(&self) -> &'static str {
        "greenbench-conv2d-backward-weight"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = Geom::new(l2.dims(), &self.1, self.0)?;
        check_output_grad(&g, l1.dims())?;
        let dw = backward_weight(&g, f32_slice(s1, l1, OP)?, f32_slice(s2, l2, OP)?);
        Ok((CpuStorage::F32(dw), Shape::from(self.1.to_vec())))
    }
}

/// `epi(conv(x, weight))` in one op for inference (eval-mode batch-norm and activation applied
/// to each output plane as it is made). f32 CPU tensors only, and no backward pass: callers use
/// it only under `candle_core::op::no_grad` and fall back to separate ops otherwise.
pub fn conv2d_eval(x: &Tensor, weight: &Tensor, p: ConvParams, epi: Epilogue) -> Result<Tensor> {
    if !crate::ops::use_custom(x) {
        candle_core::bail!("conv2d (eval) runs on f32 CPU tensors only")
    }
    x.contiguous()?
        .apply_op2_no_bwd(&weight.contiguous()?, &Forward(p, Some(epi)))
}

/// `(x, scale, weight) → epi(conv(x ⊙ scale, weight))`, inference only.
struct ScaledForward(ConvParams, Epilogue);

impl CustomOp3 for ScaledForward {
    fn name(&self) -> &'static str {
        "greenbench-conv2d-scaled"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = Geom::new(l1.dims(), l3.dims(), self.0)?;
        if !g.scalable() {
            candle_core::bail!(
                "conv2d (scaled input): only 1×1 convolutions with stride 1, no padding and one \
                 group take a per-channel input scale, got weight {:?} and {:?}",
                l3.dims(),
                self.0
            )
        }
        if l2.dims() != [g.n, g.c, 1, 1] {
            candle_core::bail!(
                "conv2d (scaled input): scale of shape {:?} for input {:?}; expected [{}, {}, 1, 1]",
                l2.dims(),
                l1.dims(),
                g.n,
                g.c
            )
        }
        if self.1.channels() != g.o {
            candle_core::bail!(
                "conv2d (scaled input): {} batch-norm channels for {} outputs",
                self.1.channels(),
                g.o
            )
        }
        let [x, sc, w] = f32_slices([(s1, l1), (s2, l2), (s3, l3)], OP)?;
        let y = forward_scaled(&g, x, Some(sc), w, Some(&self.1));
        Ok((CpuStorage::F32(y), Shape::from((g.n, g.o, g.oh, g.ow))))
    }
}

/// Whether [`conv2d_eval_scaled`] takes a convolution with this `(kh, kw)` kernel and these
/// parameters: a 1×1 kernel with stride 1, no padding and one group.
pub fn takes_input_scale(kernel: (usize, usize), p: ConvParams) -> bool {
    kernel == (1, 1) && p.stride == 1 && p.pad == 0 && p.groups == 1
}

/// `epi(conv(x ⊙ scale, weight))` in one inference-only op, for a 1×1 convolution (stride 1,
/// no padding, one group) whose input planes are first scaled per sample and channel by `scale`
/// `[n, c, 1, 1]`: the excitation of squeeze-and-excitation followed by an MBConv block's
/// projection. The scale goes into the im2col columns, or into a per-sample copy of the weight,
/// instead of a full-size scaled copy of `x`. f32 CPU tensors only, no backward pass.
pub fn conv2d_eval_scaled(
    x: &Tensor,
    scale: &Tensor,
    weight: &Tensor,
    p: ConvParams,
    epi: Epilogue,
) -> Result<Tensor> {
    if !crate::ops::use_custom(x) {
        candle_core::bail!("conv2d (scaled input) runs on f32 CPU tensors only")
    }
    x.contiguous()?.apply_op3_no_bwd(
        &scale.contiguous()?,
        &weight.contiguous()?,
        &ScaledForward(p, epi),
    )
}

/// The algorithm a convolution of an input of dims `x` with a weight of dims `w` takes on the
/// CPU: `"small-map"` (dense 3×3 on a map of at most 2×2, one product per pixel pair),
/// `"winograd"` (F(2×2, 3×3), `ops/winograd.rs`), `"depthwise"` (direct loops), `"1x1"` (one
/// product per sample) or `"im2col"`; `None` for shapes that are no convolution.
pub fn conv_path(x: &[usize], w: &[usize], p: ConvParams) -> Option<&'static str> {
    let g = Geom::new(x, w, p).ok()?;
    Some(if g.small_map().is_some() {
        "small-map"
    } else if g.winograd().is_some() {
        "winograd"
    } else if g.depthwise() {
        "depthwise"
    } else if g.direct() {
        "1x1"
    } else {
        "im2col"
    })
}

/// `x` `[n, c, h, w]` convolved with `weight` `[o, c/groups, kh, kw]` (PyTorch semantics, no
/// bias). f32 on the CPU runs the custom op; anything else runs candle's `conv2d`.
pub fn conv2d(x: &Tensor, weight: &Tensor, p: ConvParams) -> Result<Tensor> {
    if crate::ops::use_custom(x) {
        x.contiguous()?
            .apply_op2(&weight.contiguous()?, Forward(p, None))
    } else {
        x.conv2d(weight, p.pad, p.stride, p.dilation, p.groups)
    }
}
