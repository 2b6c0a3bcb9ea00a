//! Layer norm over the last axis and softmax over the last axis as candle custom ops with their
//! own CPU forward and backward passes.
//!
//! candle 0.11's fused `layer_norm` / `softmax_last_dim` lose their gradients on the CPU, so the
//! models used `layer_norm_slow` and `ops::softmax`, built from 8–10 primitive ops each (one
//! full-size temporary per op, more in the backward pass). These ops make one pass per row
//! forward and two backward, rows in parallel. Other devices and dtypes fall back to the
//! primitive-op versions.

use std::sync::{Arc, Mutex};

use super::cpu::{f32_slice, f32_slices, filled, map_new, read, simd};
use candle_core::{CpuStorage, CustomOp1, CustomOp3, DType, Layout, Result, Shape, Tensor, D};
use rayon::prelude::*;

/// Names this op in error messages.
const OP: &str = "norm";

/// Rows per parallel task: about 16 KiB of data each.
fn rows_per_task(d: usize) -> usize {
    (4096 / d.max(1)).max(1)
}

fn poisoned() -> candle_core::Error {
    candle_core::Error::Msg("layer-norm statistics poisoned".into())
}

struct LayerNormOp {
    eps: f32,
    /// Per-row mean and 1/σ of the last forward pass.
    saved: Arc<Mutex<(Vec<f32>, Vec<f32>)>>,
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        "greenbench-layer-norm"
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
        let d = w.len();
        if d == 0 || b.len() != d || x.len() % d != 0 || l1.dims().last() != Some(&d) {
            candle_core::bail!("layer norm: input {:?} with weight of {d}", l1.dims())
        }
        let rows = x.len() / d;
        let mut mean = vec![0f32; rows];
        let mut rstd = vec![0f32; rows];
        let rpt = rows_per_task(d);
        // SAFETY: every row of `y` is written from its row of `x` (`d` elements each).
        let y = unsafe {
            filled(x.len(), |y| {
                y.par_chunks_mut(d * rpt)
                    .zip(mean.par_chunks_mut(rpt))
                    .zip(rstd.par_chunks_mut(rpt))
                    .enumerate()
                    .for_each(|(t, ((yc, mc), rc))| {
                        for (r, (yr, (m, s))) in yc
                            .chunks_mut(d)
                            .zip(mc.iter_mut().zip(rc.iter_mut()))
                            .enumerate()
                        {
                            let xr = &x[(t * rpt + r) * d..][..d];
                            let mu = xr.iter().sum::<f32>() / d as f32;
                            let var =
                                xr.iter().map(|v| (v - mu) * (v - mu)).sum::<f32>() / d as f32;
                            let is = 1.0 / (var + self.eps).sqrt();
                            for (((o, &v), &wv), &bv) in yr.iter_mut().zip(xr).zip(w).zip(b) {
                                *o = (v - mu) * is * wv + bv;
                            }
                            (*m, *s) = (mu, is);
                        }
                    });
            })
        };
        *self.saved.lock().map_err(|_| poisoned())? = (mean, rstd);
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
        let (mean, rstd) = self.saved.lock().map_err(|_| poisoned())?.clone();
        let d = w.elem_count();
        let w = w.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
        let (xc, dyc) = (x.contiguous()?, dy.contiguous()?);
        let (dx, dw, db) = read(&xc, OP, |x| {
            read(&dyc, OP, |dy| {
                Ok(layer_norm_backward(x, dy, &w, &mean, &rstd, d))
            })
        })?;
        let dev = b.device();
        Ok((
            Some(Tensor::from_vec(dx, x.shape(), dev)?),
            Some(Tensor::from_vec(dw, d, dev)?),
            Some(Tensor::from_vec(db, d, dev)?),
        ))
    }
}

/// `dx` per row: `rstd/D · (D·ĝ − Σĝ − x̂·Σ(ĝ·x̂))` with `ĝ = dy·w`; `dw = Σ dy·x̂`, `db = Σ dy`
/// over rows (accumulated per task, summed in task order).
fn layer_norm_backward(
    x: &[f32],
    dy: &[f32],
    w: &[f32],
    mean: &[f32],
    rstd: &[f32],
    d: usize,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let rpt = rows_per_task(d);
    let mut dx = vec![0f32; x.len()];
    let partial: Vec<(Vec<f32>, Vec<f32>)> = dx
        .par_chunks_mut(d * rpt)
        .enumerate()
        .map(|(t, dxc)| {
            let (mut dw, mut db) = (vec![0f32; d], vec![0f32; d]);
            for (r, dxr) in dxc.chunks_mut(d).enumerate() {
                let row = t * rpt + r;
                let (xr, gr) = (&x[row * d..][..d], &dy[row * d..][..d]);
                let (mu, is) = (mean[row], rstd[row]);
                let (mut s1, mut s2) = (0f32, 0f32);
                for j in 0..d {
                    let xh = (xr[j] - mu) * is;
                    let g = gr[j] * w[j];
                    s1 += g;
                    s2 += g * xh;
                    dw[j] += gr[j] * xh;
                    db[j] += gr[j];
                }
                let k = is / d as f32;
                for j in 0..d {
                    let xh = (xr[j] - mu) * is;
                    dxr[j] = k * (d as f32 * gr[j] * w[j] - s1 - xh * s2);
                }
            }
            (dw, db)
        })
        .collect();
    let (mut dw, mut db) = (vec![0f32; d], vec![0f32; d]);
    for (pw, pb) in partial {
        dw.iter_mut().zip(&pw).for_each(|(a, b)| *a += b);
        db.iter_mut().zip(&pb).for_each(|(a, b)| *a += b);
    }
    (dx, dw, db)
}

/// Layer norm of `x` over its last axis (width `weight.len()`), scale `weight`, shift `bias`.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    if super::use_custom(x) {
        let op = LayerNormOp {
            eps: eps as f32,
            saved: Arc::new(Mutex::new((Vec::new(), Vec::new()))),
        };
        x.contiguous()?
            .apply_op3(&weight.contiguous()?, &bias.contiguous()?, op)
    } else {
        candle_nn::ops::layer_norm_slow(x, weight, bias, eps as f32)
    }
}

/// `softmax(scale·x)` over the last axis; with `causal`, position `j > i` of row `i` (the
/// second-to-last index) is masked out (exactly 0, as an additive −∞ mask).
struct SoftmaxOp {
    scale: f32,
    causal: bool,
}

impl CustomOp1 for SoftmaxOp {
    fn name(&self) -> &'static str {
        "greenbench-softmax-last-dim"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, OP)?;
        let dims = l.dims();
        let d = dims.last().copied().unwrap_or(1).max(1);
        let t = if dims.len() >= 2 {
            dims[dims.len() - 2]
        } else {
            1
        };
        if self.causal && t != d {
            candle_core::bail!("causal softmax needs square [.., t, t] scores, got {dims:?}")
        }
        let mut y = vec![0f32; x.len()];
        let rpt = rows_per_task(d);
        y.par_chunks_mut(d * rpt)
            .zip(x.par_chunks(d * rpt))
            .enumerate()
            .for_each(|(task, (yc, xc))| {
                for (r, (yr, xr)) in yc.chunks_mut(d).zip(xc.chunks(d)).enumerate() {
                    // Causal: row i sees positions 0..=i; the rest stay exactly 0.
                    let len = if self.causal {
                        (task * rpt + r) % t + 1
                    } else {
                        d
                    };
                    let (yr, xr) = (&mut yr[..len], &xr[..len]);
                    let max = xr.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                    let mut sum = 0f32;
                    for (o, &v) in yr.iter_mut().zip(xr) {
                        *o = ((v - max) * self.scale).exp();
                        sum += *o;
                    }
                    let inv = 1.0 / sum;
                    yr.iter_mut().for_each(|o| *o *= inv);
                }
            });
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        let d = res.dim(D::Minus1)?.max(1);
        let scale = self.scale;
        let (yc, gc) = (res.contiguous()?, dy.contiguous()?);
        let dx = read(&yc, OP, |y| {
            read(&gc, OP, |g| {
                let mut dx = vec![0f32; y.len()];
                let rpt = d * rows_per_task(d);
                dx.par_chunks_mut(rpt)
                    .zip(y.par_chunks(rpt).zip(g.par_chunks(rpt)))
                    .for_each(|(dc, (ycs, gcs))| {
                        for ((dr, yr), gr) in dc.chunks_mut(d).zip(ycs.chunks(d)).zip(gcs.chunks(d))
                        {
                            let dot: f32 = yr.iter().zip(gr).map(|(a, b)| a * b).sum();
                            for ((o, &yv), &gv) in dr.iter_mut().zip(yr).zip(gr) {
                                *o = scale * yv * (gv - dot);
                            }
                        }
                    });
                Ok(dx)
            })
        })?;
        Ok(Some(Tensor::from_vec(dx, res.shape(), res.device())?))
    }
}

/// Softmax over the last axis of `x`, with a backward pass (`dx = y·(dy − Σ dy·y)`).
#[cfg(test)]
pub fn softmax_last_dim(x: &Tensor) -> Result<Tensor> {
    scaled_softmax(x, 1.0, false)
}

/// `softmax(scale·x)` over the last axis; with `causal`, `x` is `[.., t, t]` attention scores and
/// row `i` attends to positions `0..=i` only (the others get exactly 0, like an additive −∞
/// mask). One op forward and backward (`dx = scale·y·(dy − Σ dy·y)`) instead of scale, mask add
/// and softmax.
pub fn scaled_softmax(x: &Tensor, scale: f64, causal: bool) -> Result<Tensor> {
    if super::use_custom(x) && scale > 0.0 {
        return x.contiguous()?.apply_op1(SoftmaxOp {
            scale: scale as f32,
            causal,
        });
    }
    scaled_softmax_reference(x, scale, causal)
}

/// [`scaled_softmax`] from candle's primitive ops.
fn scaled_softmax_reference(x: &Tensor, scale: f64, causal: bool) -> Result<Tensor> {
    let mut z = (x * scale)?;
    if causal {
        let t = x.dim(D::Minus1)?;
        let m: Vec<f32> = (0..t)
            .flat_map(|i| (0..t).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
            .collect();
        let mask = Tensor::from_vec(m, (t, t), x.device())?.to_dtype(x.dtype())?;
        z = z.broadcast_add(&mask)?;
    }
    candle_nn::ops::softmax(&z, D::Minus1)
}

/// GELU (tanh approximation); keeps `tanh(u)` of the forward pass for the backward pass.
struct Gelu {
    saved: Arc<Mutex<Vec<f32>>>,
}

const GELU_C: f32 = 0.797_884_6; // √(2/π)
const GELU_A: f32 = 0.044_715;
const CHUNK: usize = 16384;

/// `tanh(u)` as Eigen's rational approximation (odd degree-13 over even degree-6 polynomial,
/// a few ulp on the clamped range, where `tanh` is 1 to f32 precision beyond): no libm call, so
/// the loops vectorise.
#[inline(always)]
fn tanh(u: f32) -> f32 {
    const A: [f32; 7] = [
        4.893_524_6e-3,
        6.372_619_3e-4,
        1.485_722_4e-5,
        5.122_297e-8,
        -8.604_672e-11,
        2.000_188e-13,
        -2.760_768_5e-16,
    ];
    const B: [f32; 4] = [4.893_525e-3, 2.268_434_6e-3, 1.185_347e-4, 1.198_258_4e-6];
    let x = u.clamp(-7.905_311, 7.905_311);
    let x2 = x * x;
    let mut p = A[6];
    for a in A[..6].iter().rev() {
        p = p * x2 + a;
    }
    let q = ((B[3] * x2 + B[2]) * x2 + B[1]) * x2 + B[0];
    x * p / q
}

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "greenbench-gelu-tanh"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, OP)?;
        let gelu = |v: f32, t: &mut f32| {
            *t = tanh(GELU_C * (v + GELU_A * v * v * v));
            0.5 * v * (1.0 + *t)
        };
        // The tanh values are kept for the backward pass only when one can follow (not under
        // `no_grad`, i.e. in training): inference writes the output alone.
        let keep = candle_core::op::grad_enabled();
        if !keep {
            return Ok((
                CpuStorage::F32(map_new(x, |v| gelu(v, &mut 0.0))),
                l.shape().clone(),
            ));
        }
        let mut th = Vec::new();
        // SAFETY: every chunk of `y` and of `th` is written element by element from the
        // matching chunk of `x` before anything reads it.
        let y = unsafe {
            filled(x.len(), |y| {
                th = filled(x.len(), |th| {
                    y.par_chunks_mut(CHUNK)
                        .zip(th.par_chunks_mut(CHUNK))
                        .zip(x.par_chunks(CHUNK))
                        .for_each(|((yc, tc), xc)| {
                            simd(
                                #[inline(always)]
                                || {
                                    for ((o, t), &v) in yc.iter_mut().zip(tc).zip(xc) {
                                        *o = gelu(v, t);
                                    }
                                },
                            )
                        })
                });
            })
        };
        *self
            .saved
            .lock()
            .map_err(|_| candle_core::Error::Msg("gelu state poisoned".into()))? = th;
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        let saved = self
            .saved
            .lock()
            .map_err(|_| candle_core::Error::Msg("gelu state poisoned".into()))?;
        let th: &[f32] = &saved;
        let (xc, gc) = (x.contiguous()?, dy.contiguous()?);
        let dx = read(&xc, OP, |x| {
            read(&gc, OP, |g| {
                if th.len() != x.len() {
                    candle_core::bail!("gelu backward without its forward pass")
                }
                // SAFETY: every chunk of `dx` is written element by element.
                let dx = unsafe {
                    filled(x.len(), |dx| {
                        dx.par_chunks_mut(CHUNK)
                            .zip(x.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)))
                            .zip(th.par_chunks(CHUNK))
                            .for_each(|((dc, (xs, gs)), ts)| {
                                simd(
                                    #[inline(always)]
                                    || {
                                        let it = dc.iter_mut().zip(xs).zip(gs).zip(ts);
                                        for (((o, &v), &gv), &t) in it {
                                            let du = GELU_C * (1.0 + 3.0 * GELU_A * v * v);
                                            *o = gv
                                                * (0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * du);
                                        }
                                    },
                                )
                            })
                    })
                };
                Ok(dx)
            })
        })?;
        Ok(Some(Tensor::from_vec(dx, x.shape(), x.device())?))
    }
}

/// GELU, tanh approximation (candle's `gelu`), as one op forward and one backward.
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if super::use_custom(x) {
        x.contiguous()?.apply_op1(Gelu {
            saved: Arc::new(Mutex::new(Vec::new())),
        })
    } else {
        x.gelu()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::max_diff;
    use crate::ops::testing::rand;
    use candle_core::Var;

    /// Layer norm output and the gradients of input, weight and bias equal candle's
    /// `layer_norm_slow` within 1e-4, for several shapes.
    #[test]
    fn layer_norm_matches_candle() -> Result<()> {
        for shape in [vec![3, 8], vec![2, 5, 16], vec![4, 65, 64], vec![1, 1, 7]] {
            let d = *shape.last().unwrap_or(&1);
            let x = Var::from_tensor(&((rand(&shape)? * 3.0)? + 1.0)?)?;
            let w = Var::from_tensor(&rand(&[d])?)?;
            let b = Var::from_tensor(&rand(&[d])?)?;
            let ours = layer_norm(&x, &w, &b, 1e-5)?;
            let theirs = candle_nn::ops::layer_norm_slow(&x, &w, &b, 1e-5)?;
            assert!(max_diff(&ours, &theirs)? < 1e-4, "{shape:?} forward");
            let probe = rand(&shape)?;
            let g1 = (ours * &probe)?.sum_all()?.backward()?;
            let g2 = (theirs * &probe)?.sum_all()?.backward()?;
            for v in [x.as_tensor(), w.as_tensor(), b.as_tensor()] {
                let (Some(a), Some(e)) = (g1.get(v), g2.get(v)) else {
                    panic!("missing gradient")
                };
                let diff = max_diff(a, e)?;
                assert!(diff < 1e-4, "{shape:?}: gradient differs by {diff}");
            }
        }
        Ok(())
    }

    /// Scaled, causal softmax equals scale + additive mask + candle's softmax within 1e-4, and
    /// GELU equals candle's `gelu` (forward with and without gradient tracking, and gradient).
    #[test]
    fn scaled_causal_softmax_and_gelu_match_candle() -> Result<()> {
        for (shape, scale, causal) in [
            (vec![2, 3, 7, 7], 0.25, true),
            (vec![4, 65, 65], 0.125, false),
            (vec![1, 2, 64, 64], 0.177, true),
        ] {
            let x = Var::from_tensor(&(rand(&shape)? * 4.0)?)?;
            let ours = scaled_softmax(&x, scale, causal)?;
            let theirs = scaled_softmax_reference(&x, scale, causal)?;
            assert!(max_diff(&ours, &theirs)? < 1e-5, "{shape:?} forward");
            let probe = rand(&shape)?;
            let g1 = (ours * &probe)?.sum_all()?.backward()?;
            let g2 = (theirs * &probe)?.sum_all()?.backward()?;
            let (Some(a), Some(e)) = (g1.get(x.as_tensor()), g2.get(x.as_tensor())) else {
                panic!("missing gradient")
            };
            assert!(max_diff(a, e)? < 1e-4, "{shape:?} gradient");
        }
        for shape in [vec![5, 7], vec![3, 64, 512]] {
            let x = Var::from_tensor(&(rand(&shape)? * 3.0)?)?;
            let ours = gelu(&x)?;
            let theirs = x.gelu()?;
            assert!(max_diff(&ours, &theirs)? < 1e-5, "gelu {shape:?}");
            // Under no_grad (inference) the op keeps no tanh values and writes the output alone.
            let inference = candle_core::op::no_grad(|| gelu(&x))?;
            assert!(
                max_diff(&inference, &theirs)? < 1e-5,
                "gelu {shape:?} under no_grad"
            );
            let probe = rand(&shape)?;
            let g1 = (ours * &probe)?.sum_all()?.backward()?;
            let g2 = (theirs * &probe)?.sum_all()?.backward()?;
            let (Some(a), Some(e)) = (g1.get(x.as_tensor()), g2.get(x.as_tensor())) else {
                panic!("missing gradient")
            };
            assert!(max_diff(a, e)? < 1e-4, "gelu {shape:?} gradient");
        }
        Ok(())
    }

    /// The rational `tanh` is within 2e-6 of libm's everywhere.
    #[test]
    fn fast_tanh_is_accurate() {
        let worst = (-20_000..=20_000)
            .map(|i| i as f32 * 1e-3)
            .map(|u| (tanh(u) - u.tanh()).abs())
            .fold(0f32, f32::max);
        assert!(worst < 2e-6, "{worst}");
    }

    /// Softmax output and input gradient equal candle's `ops::softmax` within 1e-4.
    #[test]
    fn softmax_matches_candle() -> Result<()> {
        for shape in [vec![3, 8], vec![2, 4, 9, 9], vec![2, 3, 65, 65]] {
            let x = Var::from_tensor(&(rand(&shape)? * 4.0)?)?;
            let ours = softmax_last_dim(&x)?;
            let theirs = candle_nn::ops::softmax(&x, D::Minus1)?;
            assert!(max_diff(&ours, &theirs)? < 1e-5, "{shape:?} forward");
            let probe = rand(&shape)?;
            let g1 = (ours * &probe)?.sum_all()?.backward()?;
            let g2 = (theirs * &probe)?.sum_all()?.backward()?;
            let (Some(a), Some(e)) = (g1.get(x.as_tensor()), g2.get(x.as_tensor())) else {
                panic!("missing gradient")
            };
            assert!(max_diff(a, e)? < 1e-4, "{shape:?} gradient");
        }
        Ok(())
    }
}
