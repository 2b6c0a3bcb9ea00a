//! Fused element-wise ops, one pass forward and backward instead of several candle ops:
//! `relu(a + b)` (residual connections) and `x + b[c]` (+ ReLU) for a per-channel bias of a
//! `[n, c, …]` tensor (a convolution's bias), whose gradient candle would reduce with a slow
//! strided `sum_keepdim` over batch and space (22 % of a LeNet step); SiLU (swish) with a
//! vectorised `exp`; the per-(sample, channel) scale of squeeze-and-excitation; and the
//! concatenation + 2-group channel shuffle of ShuffleNetV2.

use super::cpu::{dot8, f32_slice, filled, map_new, planes_per_task, read, relu_grad, simd, CHUNK};
use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Names this op in error messages.
const OP: &str = "add-relu";

struct AddRelu;

impl CustomOp2 for AddRelu {
    fn name(&self) -> &'static str {
        "greenbench-add-relu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (a, b) = (f32_slice(s1, l1, OP)?, f32_slice(s2, l2, OP)?);
        if l1.dims() != l2.dims() {
            candle_core::bail!("add-relu of {:?} and {:?}", l1.dims(), l2.dims())
        }
        // SAFETY: every element of `y` is written below, none read first.
        let y = unsafe {
            filled(a.len(), |y| {
                y.par_chunks_mut(CHUNK)
                    .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
                    .for_each(|(yc, (ac, bc))| {
                        simd(
                            #[inline(always)]
                            || {
                                for ((o, &x), &z) in yc.iter_mut().zip(ac).zip(bc) {
                                    *o = (x + z).max(0.0);
                                }
                            },
                        )
                    });
            })
        };
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _a: &Tensor,
        _b: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dx = relu_grad(res, dy, OP)?;
        Ok((Some(dx.clone()), Some(dx)))
    }
}

/// `relu(a + b)` for two tensors of the same shape.
pub fn add_relu(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if super::use_custom(a) && a.dims() == b.dims() {
        a.contiguous()?.apply_op2(&b.contiguous()?, AddRelu)
    } else {
        let y = (a + b)?;
        let mask = y.gt(&y.zeros_like()?)?.to_dtype(y.dtype())?.detach();
        y * mask
    }
}

/// `x + b[c]` over `x` `[n, c, …]`, then ReLU when `relu`.
struct ChannelBias {
    relu: bool,
}

impl ChannelBias {
    /// Channels and elements per channel plane of `dims` `[n, c, …]`.
    fn planes(dims: &[usize]) -> Result<(usize, usize)> {
        match dims {
            [_, c, rest @ ..] => Ok((*c, rest.iter().product())),
            _ => candle_core::bail!("channel bias needs [batch, channels, …], got {dims:?}"),
        }
    }
}

impl CustomOp2 for ChannelBias {
    fn name(&self) -> &'static str {
        "greenbench-channel-bias"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, b) = (f32_slice(s1, l1, OP)?, f32_slice(s2, l2, OP)?);
        let (c, hw) = Self::planes(l1.dims())?;
        if b.len() != c {
            candle_core::bail!("channel bias of {} for input {:?}", b.len(), l1.dims())
        }
        let mut y = x.to_vec();
        let relu = self.relu;
        if hw > 0 {
            let per_task = planes_per_task(hw);
            y.par_chunks_mut(hw)
                .with_min_len(per_task)
                .enumerate()
                .for_each(|(i, plane)| {
                    let bias = b[i % c];
                    simd(
                        #[inline(always)]
                        || {
                            if relu {
                                plane.iter_mut().for_each(|v| *v = (*v + bias).max(0.0));
                            } else {
                                plane.iter_mut().for_each(|v| *v += bias);
                            }
                        },
                    )
                });
        }
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        b: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (c, hw) = Self::planes(x.dims())?;
        let g = if self.relu {
            relu_grad(res, dy, OP)?
        } else {
            dy.contiguous()?
        };
        // Per-plane sums in parallel (f64), then added per channel in a fixed order.
        let db = read(&g, OP, |g| {
            let sums: Vec<f64> = if hw == 0 {
                Vec::new()
            } else {
                g.par_chunks(hw)
                    .with_min_len(planes_per_task(hw))
                    .map(|p| p.iter().map(|&v| v as f64).sum())
                    .collect()
            };
            let mut db = vec![0f64; c];
            for (i, s) in sums.iter().enumerate() {
                db[i % c] += s;
            }
            Ok(db.into_iter().map(|v| v as f32).collect::<Vec<f32>>())
        })?;
        let db = Tensor::from_vec(db, b.shape(), b.device())?;
        Ok((Some(g), Some(db)))
    }
}

/// `x + bias[c]` for `x` `[n, c, …]` and `bias` `[c]`, followed by ReLU when `relu`.
pub fn channel_bias_act(x: &Tensor, bias: &Tensor, relu: bool) -> Result<Tensor> {
    if super::use_custom(x) && bias.dtype() == x.dtype() && x.rank() >= 2 {
        return x
            .contiguous()?
            .apply_op2(&bias.contiguous()?, ChannelBias { relu });
    }
    let mut shape = vec![1; x.rank()];
    if let Some(s) = shape.get_mut(1) {
        *s = bias.elem_count();
    }
    let y = x.broadcast_add(&bias.reshape(shape)?)?;
    if relu {
        y.relu()
    } else {
        Ok(y)
    }
}

/// `e^x` for f32 (Cephes' polynomial on `x − k·ln 2`, relative error ≈ 2e-7), written so that
/// it vectorises; inputs are clamped to `[−87.3, 88.3]` (results below 1e-38 become ~1e-38).
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer (no `round` call).
    const MAGIC: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.3);
    let shifted = x * LOG2E + MAGIC;
    let k = shifted - MAGIC;
    // The same integer from the bits (|k| ≤ 128 sits in the low mantissa bits of `shifted`):
    // cheaper than `k as i32`, whose saturating conversion costs several instructions per lane.
    let ki = shifted.to_bits() as i32 - MAGIC.to_bits() as i32;
    let r = x - k * 0.693_359_4 + k * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    e * f32::from_bits(((ki + 127) << 23) as u32)
}

/// SiLU (swish) `x·σ(x)`; the backward pass recomputes `σ(x)` from the input.
struct Silu;

/// Names the SiLU op in error messages.
const SILU: &str = "silu";

impl CustomOp1 for Silu {
    fn name(&self) -> &'static str {
        "greenbench-silu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, SILU)?;
        let y = map_new(x, |v| v / (1.0 + exp_f32(-v)));
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        let (xc, gc) = (x.contiguous()?, dy.contiguous()?);
        let dx = read(&xc, SILU, |x| {
            read(&gc, SILU, |g| {
                let mut dx = vec![0f32; x.len()];
                dx.par_chunks_mut(CHUNK)
                    .zip(x.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)))
                    .for_each(|(dc, (xc, gc))| {
                        simd(
                            #[inline(always)]
                            || {
                                for ((d, &v), &gv) in dc.iter_mut().zip(xc).zip(gc) {
                                    // d/dx x·σ(x) = σ·(1 + x·(1 − σ))
                                    let sg = 1.0 / (1.0 + exp_f32(-v));
                                    *d = gv * sg * (1.0 + v * (1.0 - sg));
                                }
                            },
                        )
                    });
                Ok(dx)
            })
        })?;
        Ok(Some(Tensor::from_vec(dx, x.shape(), x.device())?))
    }
}

/// SiLU (swish) `x·σ(x)` as one op forward and backward (candle's backward is ~8 full-size ops).
pub fn silu(x: &Tensor) -> Result<Tensor> {
    if super::use_custom(x) {
        x.contiguous()?.apply_op1(Silu)
    } else {
        x.silu()
    }
}

/// `x[n, c, …]·s[n, c]`: one scale per sample and channel (squeeze-and-excitation).
struct ChannelScale;

/// Names the channel-scale op in error messages.
const SCALE: &str = "channel-scale";

impl ChannelScale {
    /// Planes (`n·c`) and elements per plane of `x`, checked against `s`'s element count.
    fn planes(x: &[usize], s: usize) -> Result<(usize, usize)> {
        match x {
            [n, c, rest @ ..] if n * c == s => Ok((n * c, rest.iter().product())),
            _ => candle_core::bail!("channel scale of {x:?} by {s} values"),
        }
    }
}

impl CustomOp2 for ChannelScale {
    fn name(&self) -> &'static str {
        "greenbench-channel-scale"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, s) = (f32_slice(s1, l1, SCALE)?, f32_slice(s2, l2, SCALE)?);
        let (_, hw) = Self::planes(l1.dims(), s.len())?;
        let y = scale_planes(x, s, None, hw);
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        s: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (xc, sc, gc) = (x.contiguous()?, s.contiguous()?, dy.contiguous()?);
        let (_, hw) = Self::planes(x.dims(), s.elem_count())?;
        let (dx, ds) = read(&xc, SCALE, |x| {
            read(&sc, SCALE, |s| {
                read(&gc, SCALE, |g| {
                    let mut ds = vec![0f32; s.len()];
                    // SAFETY: each plane of `dx` is written in full (`hw > 0`; else empty).
                    let dx = unsafe {
                        filled(x.len(), |dx| {
                            if hw > 0 {
                                dx.par_chunks_mut(hw)
                                    .zip(ds.par_iter_mut())
                                    .zip(x.par_chunks(hw).zip(g.par_chunks(hw)).zip(s.par_iter()))
                                    .with_min_len(planes_per_task(hw))
                                    .for_each(|((dp, dsv), ((xp, gp), &sv))| {
                                        *dsv = simd(
                                            #[inline(always)]
                                            || {
                                                for (d, &gv) in dp.iter_mut().zip(gp) {
                                                    *d = gv * sv;
                                                }
                                                dot8(xp, gp)
                                            },
                                        )
                                    });
                            }
                        })
                    };
                    Ok((dx, ds))
                })
            })
        })?;
        let dx = Tensor::from_vec(dx, x.shape(), x.device())?;
        let ds = Tensor::from_vec(ds, s.shape(), s.device())?;
        Ok((Some(dx), Some(ds)))
    }
}

/// `x·s` for `x` `[n, c, …]` and one scale per sample and channel, `s` `[n, c, 1, …]` (as
/// squeeze-and-excitation produces it): one op whose backward sums `dy·x` per plane, instead of
/// a broadcast product whose backward is a full-size product and a strided reduction.
pub fn channel_scale(x: &Tensor, s: &Tensor) -> Result<Tensor> {
    let fits = x.rank() >= 2 && x.dims()[..2].iter().product::<usize>() == s.elem_count();
    if super::use_custom(x) && s.dtype() == x.dtype() && fits {
        x.contiguous()?.apply_op2(&s.contiguous()?, ChannelScale)
    } else {
        x.broadcast_mul(s)
    }
}

/// `x·s` per plane of `hw` elements (one scale per plane), plus `r` when given: the forward
/// pass of [`ChannelScale`] and [`ChannelScaleAdd`].
fn scale_planes(x: &[f32], s: &[f32], r: Option<&[f32]>, hw: usize) -> Vec<f32> {
    // SAFETY: every element of `y` is written below, none read first.
    unsafe {
        filled(x.len(), |y| {
            if hw == 0 {
                return;
            }
            let planes = y
                .par_chunks_mut(hw)
                .zip(x.par_chunks(hw))
                .zip(s.par_iter())
                .with_min_len(planes_per_task(hw))
                .enumerate();
            planes.for_each(|(i, ((yp, xp), &sv))| {
                simd(
                    #[inline(always)]
                    || match r {
                        Some(r) => {
                            let rp = &r[i * hw..][..hw];
                            for ((o, &v), &b) in yp.iter_mut().zip(xp).zip(rp) {
                                *o = v * sv + b;
                            }
                        }
                        None => {
                            for (o, &v) in yp.iter_mut().zip(xp) {
                                *o = v * sv;
                            }
                        }
                    },
                )
            });
        })
    }
}

/// `x[n, c, …]·s[n, c] + r`: squeeze-and-excitation's scale and the residual addition after
/// it (SENet) in one pass; the gradient of `x` and `s` as [`ChannelScale`]'s, `r`'s is `dy`.
struct ChannelScaleAdd;

impl CustomOp3 for ChannelScaleAdd {
    fn name(&self) -> &'static str {
        "greenbench-channel-scale-add"
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
        let (x, s, r) = (
            f32_slice(s1, l1, SCALE)?,
            f32_slice(s2, l2, SCALE)?,
            f32_slice(s3, l3, SCALE)?,
        );
        if l1.dims() != l3.dims() {
            candle_core::bail!("{SCALE}-add of {:?} and {:?}", l1.dims(), l3.dims())
        }
        let (_, hw) = ChannelScale::planes(l1.dims(), s.len())?;
        let y = scale_planes(x, s, Some(r), hw);
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        s: &Tensor,
        _r: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, ds) = ChannelScale.bwd(x, s, res, dy)?;
        Ok((dx, ds, Some(dy.clone())))
    }
}

/// `x·s + r` for `x` and `r` `[n, c, …]` and one scale per sample and channel `s` `[n, c, 1, …]`:
/// [`channel_scale`] and the residual addition after it in one op.
pub fn channel_scale_add(x: &Tensor, s: &Tensor, r: &Tensor) -> Result<Tensor> {
    let fits = x.rank() >= 2
        && x.dims()[..2].iter().product::<usize>() == s.elem_count()
        && x.dims() == r.dims();
    if super::use_custom(x) && s.dtype() == x.dtype() && r.dtype() == x.dtype() && fits {
        x.contiguous()?
            .apply_op3(&s.contiguous()?, &r.contiguous()?, ChannelScaleAdd)
    } else {
        x.broadcast_mul(s)? + r
    }
}

/// The channels of `a` and `b` (same shape `[n, c, …]`) interleaved: `y[:, 2j] = a[:, j]`,
/// `y[:, 2j + 1] = b[:, j]`.
struct Interleave;

/// Names the interleave op in error messages.
const INTERLEAVE: &str = "concat-shuffle";

/// `[n, c, …]` → `(n, c, elements per plane)`.
fn ncp(dims: &[usize]) -> Result<(usize, usize, usize)> {
    match dims {
        [n, c, rest @ ..] => Ok((*n, *c, rest.iter().product())),
        _ => candle_core::bail!("{INTERLEAVE} needs [batch, channels, …], got {dims:?}"),
    }
}

impl CustomOp2 for Interleave {
    fn name(&self) -> &'static str {
        "greenbench-concat-shuffle"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (a, b) = (
            f32_slice(s1, l1, INTERLEAVE)?,
            f32_slice(s2, l2, INTERLEAVE)?,
        );
        if l1.dims() != l2.dims() {
            candle_core::bail!("{INTERLEAVE} of {:?} and {:?}", l1.dims(), l2.dims())
        }
        let (_, c, hw) = ncp(l1.dims())?;
        // SAFETY: every element of `y` is written below, none read first.
        let y = unsafe {
            filled(2 * a.len(), |y| {
                if hw > 0 {
                    y.par_chunks_mut(2 * hw)
                        .with_min_len(planes_per_task(2 * hw))
                        .enumerate()
                        .for_each(|(i, pair)| {
                            let (ni, j) = (i / c, i % c);
                            let src = (ni * c + j) * hw;
                            pair[..hw].copy_from_slice(&a[src..src + hw]);
                            pair[hw..].copy_from_slice(&b[src..src + hw]);
                        });
                }
            })
        };
        let mut dims = l1.dims().to_vec();
        dims[1] = 2 * c;
        Ok((CpuStorage::F32(y), Shape::from(dims)))
    }

    fn bwd(
        &self,
        a: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (_, _, hw) = ncp(a.dims())?;
        let g = dy.contiguous()?;
        let (da, db) = read(&g, INTERLEAVE, |g| {
            let len = a.elem_count();
            let (mut da, mut db) = (vec![0f32; len], vec![0f32; len]);
            if hw > 0 {
                da.par_chunks_mut(hw)
                    .zip(db.par_chunks_mut(hw))
                    .zip(g.par_chunks(2 * hw))
                    .with_min_len(planes_per_task(2 * hw))
                    .for_each(|((pa, pb), pair)| {
                        pa.copy_from_slice(&pair[..hw]);
                        pb.copy_from_slice(&pair[hw..]);
                    });
            }
            Ok((da, db))
        })?;
        let da = Tensor::from_vec(da, a.shape(), a.device())?;
        let db = Tensor::from_vec(db, a.shape(), a.device())?;
        Ok((Some(da), Some(db)))
    }
}

/// `cat([a, b], 1)` followed by ShuffleNet's channel shuffle with 2 groups (`[n, 2, c, …]` →
/// swap → `[n, 2c, …]`), i.e. the channels of `a` and `b` interleaved, as one copy (candle: a
/// concatenation and a transposed copy, and both again backward).
pub fn concat_shuffle(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if super::use_custom(a) && a.dims() == b.dims() && b.dtype() == a.dtype() && a.rank() >= 2 {
        return a.contiguous()?.apply_op2(&b.contiguous()?, Interleave);
    }
    let x = Tensor::cat(&[a, b], 1)?;
    let mut dims = x.dims().to_vec();
    let c = a.dim(1)?;
    dims.splice(1..2, [2, c]);
    x.reshape(dims)?
        .transpose(1, 2)?
        .contiguous()?
        .reshape(x.shape())
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_matches;
    use super::*;
    use candle_core::{Device, Var};

    /// Output and both gradients equal `relu(a + b)` from candle's ops.
    #[test]
    fn matches_candle_add_then_relu() -> Result<()> {
        for shape in [vec![3, 5], vec![2, 8, 6, 6], vec![40000]] {
            let a = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let ours = add_relu(&a, &b)?;
            let pre = (a.as_tensor() + b.as_tensor())?;
            let theirs = pre.relu()?;
            let what = format!("{shape:?}");
            assert_matches(&ours, &theirs, &[&a, &b], 1e-6, Some(&pre), &what)?;
        }
        Ok(())
    }

    /// Output and both gradients equal candle's `broadcast_add` of the reshaped bias (+ ReLU).
    #[test]
    fn matches_candle_channel_bias() -> Result<()> {
        for (shape, relu) in [
            (vec![2, 3, 5, 5], true),
            (vec![4, 6, 7, 3], false),
            (vec![3, 5], true),
        ] {
            let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape[1], &Device::Cpu)?)?;
            let ours = channel_bias_act(&x, &b, relu)?;
            let mut bshape = vec![1; shape.len()];
            bshape[1] = shape[1];
            let pre = x.broadcast_add(&b.reshape(bshape)?)?;
            let theirs = if relu { pre.relu()? } else { pre.clone() };
            let kink = relu.then_some(&pre);
            assert_matches(&ours, &theirs, &[&x, &b], 1e-4, kink, &format!("{shape:?}"))?;
        }
        Ok(())
    }

    /// SiLU's output and gradient equal candle's `silu`, including large magnitudes.
    #[test]
    fn matches_candle_silu() -> Result<()> {
        for (shape, scale) in [(vec![2, 3, 5, 5], 1.0), (vec![40000], 4.0), (vec![7], 40.0)] {
            let x = (Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)? * scale)?;
            let x = Var::from_tensor(&x)?;
            let ours = silu(&x)?;
            let theirs = x.silu()?;
            let what = format!("silu {shape:?} × {scale}");
            assert_matches(&ours, &theirs, &[&x], 1e-5 * scale as f32, None, &what)?;
        }
        Ok(())
    }

    /// The vectorised `exp` stays within 1e-6 (relative) of libm's over its range.
    #[test]
    fn exp_is_close_to_libm() {
        let mut worst = 0f32;
        for i in -8700..=8800 {
            let x = i as f32 / 100.0 + 0.003;
            let (ours, libm) = (exp_f32(x), x.exp());
            worst = worst.max((ours - libm).abs() / libm);
        }
        assert!(worst < 1e-6, "relative error {worst}");
    }

    /// The channel scale's output and both gradients equal candle's `broadcast_mul`, and with a
    /// residual added (`channel_scale_add`) all three gradients equal `broadcast_mul` + `add`.
    #[test]
    fn matches_candle_channel_scale() -> Result<()> {
        for (shape, sshape) in [
            (vec![2, 3, 5, 5], vec![2, 3, 1, 1]),
            (vec![4, 6, 7, 3], vec![4, 6, 1, 1]),
            (vec![3, 5, 2, 2], vec![3, 5, 1, 1]),
        ] {
            let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let s = Var::from_tensor(&Tensor::randn(0f32, 1.0, sshape.as_slice(), &Device::Cpu)?)?;
            let ours = channel_scale(&x, &s)?;
            let theirs = x.broadcast_mul(&s)?;
            assert_matches(&ours, &theirs, &[&x, &s], 1e-5, None, &format!("{shape:?}"))?;
            // With the residual addition fused in: all three gradients.
            let r = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let ours = channel_scale_add(&x, &s, &r)?;
            let theirs = (x.broadcast_mul(&s)? + r.as_tensor())?;
            let what = format!("{shape:?} + residual");
            assert_matches(&ours, &theirs, &[&x, &s, &r], 1e-5, None, &what)?;
        }
        Ok(())
    }

    /// The fused concatenation + shuffle equals candle's cat, reshape, transpose and copy,
    /// forward and backward.
    #[test]
    fn matches_candle_concat_shuffle() -> Result<()> {
        for shape in [vec![2, 3, 5, 5], vec![3, 4, 2, 3], vec![1, 1, 1, 1]] {
            let a = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let ours = concat_shuffle(&a, &b)?;
            let x = Tensor::cat(&[a.as_tensor(), b.as_tensor()], 1)?;
            let (n, c2, h, w) = x.dims4()?;
            let theirs = x
                .reshape((n, 2, c2 / 2, h, w))?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((n, c2, h, w))?;
            assert_matches(&ours, &theirs, &[&a, &b], 0.0, None, &format!("{shape:?}"))?;
        }
        Ok(())
    }
}
