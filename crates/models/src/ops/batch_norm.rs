//! Training-mode batch normalisation (optionally followed by ReLU) as one candle custom op.
//!
//! Candle builds batch-norm from ~10 primitive ops, each allocating a full-size temporary in the
//! forward pass and more in the backward pass. This op makes one pass for the statistics, one
//! for the output, and two for the backward pass, per channel in parallel. The batch mean and
//! biased variance it used are handed back so the caller can update its running statistics.

use std::sync::{Arc, Mutex};

use super::cpu::{f32_slices, filled, pass_pos, planes_per_task, read, simd, sum8, SendPtr};
use super::epilogue::{inv_std, Act, Epilogue};
use candle_core::{CpuStorage, CustomOp3, DType, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Names this op in error messages.
const OP: &str = "batch-norm";

/// Per-channel statistics of the last forward pass: mean, `1/√(var + ε)`, the biased variance,
/// and the `scale`, `shift` of `y = x·scale + shift` (the backward pass recomputes the fused
/// ReLU's mask from them, bit for bit as the forward pass, instead of reading the output).
#[derive(Default)]
pub(super) struct Saved {
    mean: Vec<f32>,
    invstd: Vec<f32>,
    var: Vec<f32>,
    scale: Vec<f32>,
    shift: Vec<f32>,
}

/// One channel's `(mean, 1/√(var + ε), var, scale, shift)`, as [`forward_channel`] returns.
pub(super) type ChannelStats = (f32, f32, f32, f32, f32);

/// The saved statistics as the backward pass reads them: `(mean, invstd, scale, shift)`.
pub(super) type StatsRef<'a> = (&'a [f32], &'a [f32], &'a [f32], &'a [f32]);

impl Saved {
    /// Keeps the statistics of every channel of a forward pass.
    pub(super) fn store(saved: &Mutex<Saved>, stats: &[ChannelStats]) -> Result<()> {
        let mut s = saved.lock().map_err(|_| poisoned())?;
        s.mean = stats.iter().map(|s| s.0).collect();
        s.invstd = stats.iter().map(|s| s.1).collect();
        s.var = stats.iter().map(|s| s.2).collect();
        s.scale = stats.iter().map(|s| s.3).collect();
        s.shift = stats.iter().map(|s| s.4).collect();
        Ok(())
    }

    /// Calls `f` with the statistics the backward pass needs.
    pub(super) fn with<R>(saved: &Mutex<Saved>, f: impl FnOnce(StatsRef) -> R) -> Result<R> {
        let s = saved.lock().map_err(|_| poisoned())?;
        Ok(f((&s.mean, &s.invstd, &s.scale, &s.shift)))
    }

    /// The batch statistics a caller updates its running averages with.
    pub(super) fn batch_stats(saved: &Mutex<Saved>) -> Result<BatchStats> {
        let s = saved.lock().map_err(|_| poisoned())?;
        Ok(BatchStats {
            mean: s.mean.clone(),
            var: s.var.clone(),
        })
    }
}

/// The error of a statistics lock left poisoned by a panicking thread.
fn poisoned() -> candle_core::Error {
    candle_core::Error::Msg("batch-norm statistics poisoned (a thread panicked)".into())
}

struct BatchNorm {
    eps: f64,
    relu: bool,
    saved: Arc<Mutex<Saved>>,
}

impl CustomOp3 for BatchNorm {
    fn name(&self) -> &'static str {
        "greenbench-batch-norm"
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
        let [x, w, b] = f32_slices([(s1, l1), (s2, l2), (s3, l3)], OP)?;
        let (n, c, hw) = train_planes(l1.dims(), w.len(), b.len(), OP)?;
        let mut stats: Vec<ChannelStats> = Vec::new();
        // SAFETY: `forward` writes every plane of every channel, each in place.
        let y = unsafe {
            filled(x.len(), |y| {
                let out = SendPtr(y.as_mut_ptr());
                let dest = |ch| Dest { c, ch, add: None };
                stats = forward(self.eps, self.relu, (n, c, hw), (x, w, b), out, dest);
            })
        };
        Saved::store(&self.saved, &stats)?;
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (n, c, h, wd) = x.dims4()?;
        let w = w.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        let (x, dy) = (x.contiguous()?, dy.contiguous()?);
        let gin = if self.relu {
            GradIn::Relu
        } else {
            GradIn::Plain
        };
        let (dx, sums) = read(&x, OP, |x| {
            read(&dy, OP, |dy| {
                Saved::with(&self.saved, |stats| {
                    backward((n, c, h * wd), (x, dy), &w, stats, |_| gin)
                })
            })
        })?;
        let dev = b.device();
        let dx = Tensor::from_vec(dx, (n, c, h, wd), dev)?;
        let (dw, db) = channel_sums(sums, dev)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

/// `(n, c, h·w)` of a training-mode input `dims` `[n, c, h, w]` whose weight and bias have `w`
/// and `b` elements; `op` names the caller in errors.
pub(super) fn train_planes(
    dims: &[usize],
    w: usize,
    b: usize,
    op: &str,
) -> Result<(usize, usize, usize)> {
    match *dims {
        [n, c, h, wd] if c == w && c == b => Ok((n, c, h * wd)),
        [_, c, _, _] => candle_core::bail!("{op}: {c} channels but weight/bias of {w}/{b}"),
        _ => candle_core::bail!("{op} expects [n, c, h, w], got {dims:?}"),
    }
}

/// The per-channel `(dweight, dbias)` sums as two `[c]` tensors.
pub(super) fn channel_sums(
    sums: Vec<(f32, f32)>,
    dev: &candle_core::Device,
) -> Result<(Tensor, Tensor)> {
    let c = sums.len();
    let (dw, db): (Vec<f32>, Vec<f32>) = sums.into_iter().unzip();
    Ok((Tensor::from_vec(dw, c, dev)?, Tensor::from_vec(db, c, dev)?))
}

/// `(Σ g, Σ g·(x − μ))`, in 8 independent lanes.
#[inline(always)]
fn grad_sums(x: &[f32], g: &[f32], mu: f32) -> (f32, f32) {
    let n = x.len().min(g.len());
    let ((xc, xt), (gc, gt)) = (x[..n].as_chunks::<8>(), g[..n].as_chunks::<8>());
    let (mut sb, mut sw) = ([0f32; 8], [0f32; 8]);
    for (xv, gv) in xc.iter().zip(gc) {
        for l in 0..8 {
            sb[l] += gv[l];
            sw[l] += gv[l] * (xv[l] - mu);
        }
    }
    let (mut tb, mut tw) = (0f32, 0f32);
    for (&xv, &g) in xt.iter().zip(gt) {
        tb += g;
        tw += g * (xv - mu);
    }
    (sb.iter().sum::<f32>() + tb, sw.iter().sum::<f32>() + tw)
}

/// Where [`forward_channel`] writes a channel's planes, and what it adds before the ReLU.
#[derive(Clone, Copy)]
pub(super) struct Dest<'a> {
    /// Channels of the output.
    pub(super) c: usize,
    /// The channel's index in the output.
    pub(super) ch: usize,
    /// Planes `[n, c_add, h, w]` and `c_add`: the input channel's plane of them is added to the
    /// normalised plane, and the ReLU applied to the sum (whatever `relu` says).
    pub(super) add: Option<(&'a [f32], usize)>,
}

/// Statistics and output of channel `ch` of `x` `[n, c, hw]`, written at `dest` through `out`:
/// `(mean, 1/√(var + ε), var, scale, shift)`.
#[inline(always)]
fn forward_channel(
    eps: f64,
    relu: bool,
    (n, c, hw): (usize, usize, usize),
    ch: usize,
    (x, w, b): (&[f32], &[f32], &[f32]),
    out: SendPtr,
    dest: Dest,
) -> ChannelStats {
    let m = (n * hw) as f64;
    let planes = || (0..n).map(move |i| &x[(i * c + ch) * hw..][..hw]);
    let sum: f64 = planes().map(|p| sum8(p, |v| v) as f64).sum();
    let mean = sum / m;
    let mf = mean as f32;
    let ss: f64 = planes()
        .map(|p| sum8(p, |v| (v - mf) * (v - mf)) as f64)
        .sum();
    let var = ss / m;
    let invstd = (1.0 / (var + eps).sqrt()) as f32;
    let (scale, shift) = (w[ch] * invstd, b[ch] - mf * w[ch] * invstd);
    for i in 0..n {
        let src = &x[(i * c + ch) * hw..][..hw];
        // SAFETY: plane (i, dest.ch) of the output is written by this task only.
        let dst = unsafe { out.slice((i * dest.c + dest.ch) * hw, hw) };
        match dest.add {
            Some((r, c_add)) => {
                let r = &r[(i * c_add + ch) * hw..][..hw];
                for ((d, &v), &rv) in dst.iter_mut().zip(src).zip(r) {
                    *d = (v * scale + shift + rv).max(0.0);
                }
            }
            None if relu => {
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = (v * scale + shift).max(0.0);
                }
            }
            None => {
                for (d, &v) in dst.iter_mut().zip(src) {
                    *d = v * scale + shift;
                }
            }
        }
    }
    (mf, invstd, var as f32, scale, shift)
}

/// Statistics of every channel of `x` `[n, c, hw]` (in parallel), each channel's normalised
/// planes written through `out` where `dest(channel)` says ([`forward_channel`]).
pub(super) fn forward<'a>(
    eps: f64,
    relu: bool,
    dims: (usize, usize, usize),
    xwb: (&[f32], &[f32], &[f32]),
    out: SendPtr,
    dest: impl Fn(usize) -> Dest<'a> + Sync,
) -> Vec<ChannelStats> {
    (0..dims.1)
        .into_par_iter()
        .map(|ch| {
            let d = dest(ch);
            simd(
                #[inline(always)]
                || forward_channel(eps, relu, dims, ch, xwb, out, d),
            )
        })
        .collect()
}

/// How the gradient reaching a channel's normalised output is read.
#[derive(Clone, Copy)]
pub(super) enum GradIn<'a> {
    /// The channel's planes of `dy` as they are (no ReLU).
    Plain,
    /// Through the fused ReLU, whose mask is recomputed from the input and the statistics.
    Relu,
    /// Through a ReLU whose output `res` is given: `dy` and `res` are `[n, c, hw]` and the
    /// channel is their channel `ch`.
    Output {
        /// The ReLU's output.
        res: &'a [f32],
        /// Channels of `dy` and `res`.
        c: usize,
        /// The channel's index in them.
        ch: usize,
    },
}

/// `(dweight, dbias)` of channel `ch` of `x` `[n, c, hw]`, writing its planes of `dx` through
/// `out`; `dy` is read as `gin` says.
#[inline(always)]
fn backward_channel(
    (n, c, hw): (usize, usize, usize),
    ch: usize,
    (x, dy): (&[f32], &[f32]),
    w: &[f32],
    (mean, invstd, scale, shift): StatsRef,
    out: SendPtr,
    gin: GradIn,
) -> (f32, f32) {
    let m = (n * hw) as f32;
    let (mu, is) = (mean[ch], invstd[ch]);
    let (sc, sh) = (scale[ch], shift[ch]);
    let masked = !matches!(gin, GradIn::Plain);
    let (mut db, mut dw) = (0f64, 0f64);
    for i in 0..n {
        let off = (i * c + ch) * hw;
        let xs = &x[off..off + hw];
        // The gradient through a ReLU goes to `dx` first (a plain select loop, which
        // vectorises; a select inside the 8-lane sums did not), then is read back from L1 for
        // the sums and the final pass.
        let (pb, pw) = match gin {
            GradIn::Plain => grad_sums(xs, &dy[off..off + hw], mu),
            GradIn::Relu => {
                // SAFETY: plane (i, ch) is written by this task only.
                let dst = unsafe { out.slice(off, hw) };
                for ((d, &g), &xv) in dst.iter_mut().zip(&dy[off..off + hw]).zip(xs) {
                    *d = pass_pos(g, xv * sc + sh);
                }
                grad_sums(xs, dst, mu)
            }
            GradIn::Output {
                res,
                c: c_out,
                ch: ch_out,
            } => {
                let o = (i * c_out + ch_out) * hw;
                // SAFETY: plane (i, ch) is written by this task only.
                let dst = unsafe { out.slice(off, hw) };
                for ((d, &g), &r) in dst.iter_mut().zip(&dy[o..o + hw]).zip(&res[o..o + hw]) {
                    *d = pass_pos(g, r);
                }
                grad_sums(xs, dst, mu)
            }
        };
        db += pb as f64;
        dw += (pw * is) as f64;
    }
    let (db, dw) = (db as f32, dw as f32);
    let k0 = w[ch] * is / m;
    // dx = k0·(m·g − db − (x − μ)·is·dw) = a·g − cx·(x − μ) − k0·db; keep x − μ
    // together (x·cx − μ·cx cancels badly when |μ| ≫ σ).
    let (a, cx, shift) = (k0 * m, k0 * is * dw, k0 * db);
    for i in 0..n {
        let off = (i * c + ch) * hw;
        // SAFETY: plane (i, ch) is written by this task only.
        let dst = unsafe { out.slice(off, hw) };
        let xs = &x[off..off + hw];
        if masked {
            for (d, &xv) in dst.iter_mut().zip(xs) {
                *d = a * *d - cx * (xv - mu) - shift;
            }
        } else {
            for ((d, &xv), &g) in dst.iter_mut().zip(xs).zip(&dy[off..off + hw]) {
                *d = a * g - cx * (xv - mu) - shift;
            }
        }
    }
    (dw, db)
}

/// `dx` of `x` `[n, c, hw]` and per-channel `(dweight, dbias)`:
/// `dx = w·invstd/m · (m·g − Σg − x̂·Σ(g·x̂))` with `g` the gradient reaching the normalised
/// output (read as `gin(channel)` says: zeroed where a ReLU's output was 0).
pub(super) fn backward<'a>(
    (n, c, hw): (usize, usize, usize),
    (x, dy): (&[f32], &[f32]),
    w: &[f32],
    stats: StatsRef,
    gin: impl Fn(usize) -> GradIn<'a> + Sync,
) -> (Vec<f32>, Vec<(f32, f32)>) {
    let mut sums: Vec<(f32, f32)> = Vec::new();
    // SAFETY: `backward_channel` writes every plane of its channel (the ReLU's masked
    // gradient before it reads it back), and every channel runs.
    let dx = unsafe {
        filled(x.len(), |dx| {
            let out = SendPtr(dx.as_mut_ptr());
            sums = (0..c)
                .into_par_iter()
                .map(|ch| {
                    let g = gin(ch);
                    simd(
                        #[inline(always)]
                        || backward_channel((n, c, hw), ch, (x, dy), w, stats, out, g),
                    )
                })
                .collect();
        })
    };
    (dx, sums)
}

/// Batch statistics of a training-mode batch-norm call: per-channel mean and biased variance.
pub struct BatchStats {
    /// Mean per channel.
    pub mean: Vec<f32>,
    /// Biased (÷ n) variance per channel.
    pub var: Vec<f32>,
}

/// Training-mode batch-norm of `x` `[n, c, h, w]` with per-channel `weight` and `bias` (both
/// `[c]`), followed by ReLU when `relu`; returns the output and the batch statistics it used.
/// f32 CPU tensors only (callers fall back to primitive ops elsewhere).
pub fn batch_norm_train(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    eps: f64,
    relu: bool,
) -> Result<(Tensor, BatchStats)> {
    let saved = Arc::new(Mutex::new(Saved::default()));
    let op = BatchNorm {
        eps,
        relu,
        saved: saved.clone(),
    };
    let y = x
        .contiguous()?
        .apply_op3(&weight.contiguous()?, &bias.contiguous()?, op)?;
    Ok((y, Saved::batch_stats(&saved)?))
}

/// Eval-mode batch-norm (+ ReLU) with fixed statistics: `y = x·scale[c] + shift[c]`, one pass
/// (candle: a broadcast multiply and add, and a ReLU mask, each a full-size temporary).
struct BatchNormEval {
    mean: Vec<f32>,
    invstd: Vec<f32>,
    relu: bool,
}

impl CustomOp3 for BatchNormEval {
    fn name(&self) -> &'static str {
        "greenbench-batch-norm-eval"
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
        let [x, w, b] = f32_slices([(s1, l1), (s2, l2), (s3, l3)], OP)?;
        let (c, hw) = eval_planes(l1.dims(), w.len(), b.len(), self.mean.len())?;
        let act = if self.relu { Act::Relu } else { Act::Identity };
        // The convolution's eval epilogue is the same computation: one definition for both.
        let epi = Epilogue::with_invstd((w, b), (&self.mean, &self.invstd), act);
        // SAFETY: each plane is copied from `x` in full before the epilogue reads it.
        let y = unsafe {
            filled(x.len(), |y| {
                if hw > 0 {
                    y.par_chunks_mut(hw)
                        .zip(x.par_chunks(hw))
                        .with_min_len(planes_per_task(hw))
                        .enumerate()
                        .for_each(|(i, (yp, xp))| {
                            simd(
                                #[inline(always)]
                                || {
                                    yp.copy_from_slice(xp);
                                    epi.plane(yp, i % c);
                                },
                            )
                        });
                }
            })
        };
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let wv = w.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        let (c, hw) = eval_planes(x.dims(), wv.len(), b.elem_count(), self.mean.len())?;
        let (xc, gc, rc) = (x.contiguous()?, dy.contiguous()?, res.contiguous()?);
        let relu = self.relu;
        // Per plane: dx = g·w·invstd, and (Σ g·x̂, Σ g), summed per channel in a fixed order.
        let (dx, sums) = read(&xc, OP, |x| {
            read(&gc, OP, |g| {
                read(&rc, OP, |r| {
                    let mut dx = vec![0f32; x.len()];
                    let sums: Vec<(f64, f64)> = if hw == 0 {
                        Vec::new()
                    } else {
                        dx.par_chunks_mut(hw)
                            .zip(x.par_chunks(hw).zip(g.par_chunks(hw)).zip(r.par_chunks(hw)))
                            .with_min_len(planes_per_task(hw))
                            .enumerate()
                            .map(|(i, (dp, ((xp, gp), rp)))| {
                                let ch = i % c;
                                let (mu, is) = (self.mean[ch], self.invstd[ch]);
                                let k = wv[ch] * is;
                                let (mut sw, mut sb) = (0f64, 0f64);
                                for (((d, &xv), &gv), &rv) in dp.iter_mut().zip(xp).zip(gp).zip(rp)
                                {
                                    let gv = if relu { pass_pos(gv, rv) } else { gv };
                                    *d = gv * k;
                                    sw += (gv * (xv - mu) * is) as f64;
                                    sb += gv as f64;
                                }
                                (sw, sb)
                            })
                            .collect()
                    };
                    let mut per_c = vec![(0f64, 0f64); c];
                    for (i, (sw, sb)) in sums.into_iter().enumerate() {
                        per_c[i % c].0 += sw;
                        per_c[i % c].1 += sb;
                    }
                    Ok((dx, per_c))
                })
            })
        })?;
        let dev = x.device();
        let dx = Tensor::from_vec(dx, x.shape(), dev)?;
        let dw = sums.iter().map(|s| s.0 as f32).collect::<Vec<_>>();
        let db = sums.iter().map(|s| s.1 as f32).collect::<Vec<_>>();
        let dw = Tensor::from_vec(dw, w.shape(), dev)?;
        let db = Tensor::from_vec(db, b.shape(), dev)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

/// Channels and elements per plane of an eval-mode batch-norm input `dims` `[n, c, …]`, checked
/// against the lengths of weight, bias and statistics.
fn eval_planes(dims: &[usize], w: usize, b: usize, stats: usize) -> Result<(usize, usize)> {
    match dims {
        [_, c, rest @ ..] if *c == w && *c == b && *c == stats => Ok((*c, rest.iter().product())),
        _ => candle_core::bail!(
            "batch-norm (eval): input {dims:?} with {w} weights, {b} biases, {stats} statistics"
        ),
    }
}

/// Eval-mode batch-norm of `x` `[n, c, …]`: `(x − mean)/√(var + ε)·weight + bias` with the given
/// (running) statistics, followed by ReLU when `relu`. f32 CPU tensors only (callers fall back to
/// primitive ops elsewhere). Gradients reach `x`, `weight` and `bias`, not the statistics.
pub fn batch_norm_eval(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    (mean, var): (Vec<f32>, Vec<f32>),
    eps: f64,
    relu: bool,
) -> Result<Tensor> {
    let op = BatchNormEval {
        invstd: inv_std(&var, eps),
        mean,
        relu,
    };
    x.contiguous()?
        .apply_op3(&weight.contiguous()?, &bias.contiguous()?, op)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{away_from_kink, rand};
    use super::*;
    use candle_core::Var;

    fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
        (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
    }

    /// Reference from primitive ops (the formulas `BatchNorm2d` used before this op).
    fn reference(x: &Tensor, w: &Tensor, b: &Tensor, relu: bool) -> Result<Tensor> {
        let c = w.dim(0)?;
        let (n_b, _, h, wd) = x.dims4()?;
        let n = (n_b * h * wd) as f64;
        let mean = (x.sum_keepdim((0, 2, 3))? / n)?;
        let xc = x.broadcast_sub(&mean)?;
        let var = (xc.sqr()?.sum_keepdim((0, 2, 3))? / n)?;
        let scale = w
            .reshape((1, c, 1, 1))?
            .broadcast_div(&(var + 1e-5)?.sqrt()?)?;
        let y = xc
            .broadcast_mul(&scale)?
            .broadcast_add(&b.reshape((1, c, 1, 1))?)?;
        if relu {
            let mask = y.gt(&y.zeros_like()?)?.to_dtype(y.dtype())?.detach();
            y * mask
        } else {
            Ok(y)
        }
    }

    /// Output, statistics and the gradients of input, weight and bias agree with the
    /// primitive-op batch-norm computed in f64 (with and without the fused ReLU) within 1e-4.
    #[test]
    fn matches_primitive_ops() -> Result<()> {
        for (shape, relu) in [
            ([4, 3, 5, 5], false),
            ([2, 5, 4, 3], true),
            ([8, 2, 1, 1], true),
            ([3, 7, 6, 6], false),
            ([8, 64, 2, 2], true),
            ([8, 16, 16, 16], true),
            ([4, 32, 9, 9], true),
        ] {
            let x = Var::from_tensor(&((rand(&shape)? * 2.0)? + 0.5)?)?;
            // One channel with a large mean and a small spread (cancellation-prone), and one
            // mostly zero (after a ReLU).
            let (n, hw) = (shape[0], (shape[2], shape[3]));
            let x = Var::from_tensor(
                &x.as_tensor()
                    .slice_assign(
                        &[0..n, 0..1, 0..hw.0, 0..hw.1],
                        &((rand(&[n, 1, hw.0, hw.1])? * 0.1)? + 10.0)?,
                    )?
                    .slice_assign(
                        &[0..n, 1..2, 0..hw.0, 0..hw.1],
                        &(rand(&[n, 1, hw.0, hw.1])? - 1.5)?.relu()?,
                    )?,
            )?;
            let w = Var::from_tensor(&rand(&[shape[1]])?)?;
            let b = Var::from_tensor(&rand(&[shape[1]])?)?;
            let (ours, stats) = batch_norm_train(&x, &w, &b, 1e-5, relu)?;
            // The primitive-op reference, in f64 (gradients flow back through the casts).
            let f64s = |t: &Var| t.as_tensor().to_dtype(DType::F64);
            let theirs =
                reference(&f64s(&x)?, &f64s(&w)?, &f64s(&b)?, relu)?.to_dtype(DType::F32)?;
            assert!(max_diff(&ours, &theirs)? < 1e-4, "{shape:?} forward");
            let mean = x.mean((0, 2, 3))?.to_vec1::<f32>()?;
            let close = |a: &f32, b: &f32| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
            assert!(stats.mean.iter().zip(&mean).all(|(a, b)| close(a, b)));
            // Away from the ReLU's kink: where the f64 pre-activation is within 1e-3 of 0, f32
            // rounding may land on the other side (seen: 7e-6 in f64, ≤ 0 in f32).
            let probe = if relu {
                let pre = reference(&f64s(&x)?, &f64s(&w)?, &f64s(&b)?, false)?;
                (rand(&shape)? * away_from_kink(&pre.to_dtype(DType::F32)?)?)?
            } else {
                rand(&shape)?
            };
            let g1 = (ours * &probe)?.sum_all()?.backward()?;
            let g2 = (theirs * &probe)?.sum_all()?.backward()?;
            for v in [x.as_tensor(), w.as_tensor(), b.as_tensor()] {
                let (Some(a), Some(e)) = (g1.get(v), g2.get(v)) else {
                    panic!("missing gradient")
                };
                // Relative to the largest gradient (sums over up to 2,048 elements in f32).
                let scale = e.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?.max(1.0);
                let d = max_diff(a, e)? / scale;
                assert!(d < 1e-4, "{shape:?} relu {relu}: gradient differs by {d}");
            }
        }
        Ok(())
    }

    /// Eval mode: output and the gradients of input, weight and bias equal the primitive-op
    /// formula with fixed statistics (with and without ReLU).
    #[test]
    fn eval_matches_primitive_ops() -> Result<()> {
        for (shape, relu) in [
            ([4, 3, 5, 5], false),
            ([2, 5, 4, 3], true),
            ([3, 8, 1, 1], true),
        ] {
            let c = shape[1];
            let x = Var::from_tensor(&((rand(&shape)? * 2.0)? + 0.5)?)?;
            let w = Var::from_tensor(&rand(&[c])?)?;
            let b = Var::from_tensor(&rand(&[c])?)?;
            let mean = rand(&[c])?;
            let var = (rand(&[c])?.abs()? + 0.1)?;
            let stats = (mean.to_vec1::<f32>()?, var.to_vec1::<f32>()?);
            let ours = batch_norm_eval(&x, &w, &b, stats, 1e-5, relu)?;
            let shape4 = (1, c, 1, 1);
            let scale = w
                .reshape(shape4)?
                .broadcast_div(&(var + 1e-5)?.sqrt()?.reshape(shape4)?)?;
            let pre = x
                .broadcast_sub(&mean.reshape(shape4)?)?
                .broadcast_mul(&scale)?
                .broadcast_add(&b.reshape(shape4)?)?;
            let theirs = if relu { pre.relu()? } else { pre.clone() };
            let kink = relu.then_some(&pre);
            let what = format!("eval {shape:?} relu {relu}");
            crate::ops::testing::assert_matches(&ours, &theirs, &[&x, &w, &b], 1e-4, kink, &what)?;
        }
        Ok(())
    }
}
