//! Training-mode batch normalisation whose output is joined with a residual before a ReLU, as
//! one candle custom op: a residual block's end, `relu(bn(x) + r)`, and a dual-path block's,
//! `relu(cat[bn(x)[:d] + r[:d], r[d:], bn(x)[d:]])`.
//!
//! As separate ops, the batch-norm's output is an input of the addition (and of DPN's slices
//! and concatenation) and candle's graph keeps it alive until the backward pass has gone past it:
//! one more activation per block than PyTorch keeps, whose in-place `+=` and ReLU save only the
//! block's output (700 MB of ResNeXt29's training step at batch 128). Joined, the op's backward
//! pass needs only its input `x` (which the convolution before it produced and the batch-norm
//! needs anyway), the statistics, and its own output (the ReLU's mask).

use std::sync::{Arc, Mutex};

use super::batch_norm::{
    backward, channel_sums, forward, train_planes, BatchStats, Dest, GradIn, Saved,
};
use super::cpu::{f32_slices, filled, pass_pos, planes_per_task, read, simd, SendPtr};
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Names this op in error messages.
const OP: &str = "batch-norm join";

/// The channel layout of a join: `x` (normalised) has `c` channels, the residual `r` has `c_r`,
/// and the first `added` of each are added; the output has `c_r + c − added` channels: the sums,
/// then the rest of `r`, then the rest of the normalised `x`.
#[derive(Clone, Copy)]
struct JoinShape {
    n: usize,
    c: usize,
    c_r: usize,
    added: usize,
    hw: usize,
}

impl JoinShape {
    /// Checks the shapes of `x` `[n, c, h, w]`, `r` `[n, c_r, h, w]` and the packed weight and
    /// bias (`2c` elements).
    fn new(x: &[usize], r: &[usize], wb: usize, added: usize) -> Result<Self> {
        let (n, c, hw) = train_planes(x, wb / 2, wb - wb / 2, OP)?;
        let &[rn, c_r, rh, rw] = r else {
            candle_core::bail!("{OP}: the residual must be [n, c, h, w], got {r:?}")
        };
        if rn != n || rh * rw != hw || x[2..] != r[2..] {
            candle_core::bail!("{OP}: residual {r:?} does not match the input {x:?}")
        }
        if added > c || added > c_r {
            candle_core::bail!(
                "{OP}: {added} added channels, but the input has {c} and the residual {c_r}"
            )
        }
        Ok(Self {
            n,
            c,
            c_r,
            added,
            hw,
        })
    }

    /// Channels of the output.
    fn c_out(&self) -> usize {
        self.c_r + self.c - self.added
    }

    /// The residual's gradient `[n, c_r, hw]`: the output gradient `dy` through the ReLU (whose
    /// output is `res`), on the output channels that hold the residual's.
    fn residual_grad(&self, dy: &[f32], res: &[f32]) -> Vec<f32> {
        let (hw, c_r, c_out) = (self.hw, self.c_r, self.c_out());
        if hw == 0 {
            return Vec::new();
        }
        // SAFETY: every plane of the result is written from the same plane of `dy`.
        unsafe {
            filled(self.n * c_r * hw, |dr| {
                dr.par_chunks_mut(hw)
                    .with_min_len(planes_per_task(hw))
                    .enumerate()
                    .for_each(|(p, d)| {
                        let o = ((p / c_r) * c_out + p % c_r) * hw;
                        let (gs, rs) = (&dy[o..o + hw], &res[o..o + hw]);
                        simd(
                            #[inline(always)]
                            || {
                                for ((d, &gv), &rv) in d.iter_mut().zip(gs).zip(rs) {
                                    *d = pass_pos(gv, rv);
                                }
                            },
                        )
                    });
            })
        }
    }

    /// The output channel of the input's channel `ch`.
    fn out_channel(&self, ch: usize) -> usize {
        if ch < self.added {
            ch
        } else {
            self.c_r + ch - self.added
        }
    }
}

struct BatchNormJoin {
    eps: f64,
    added: usize,
    saved: Arc<Mutex<Saved>>,
}

impl CustomOp3 for BatchNormJoin {
    fn name(&self) -> &'static str {
        "greenbench-batch-norm-join"
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
        let [x, r, wb] = f32_slices([(s1, l1), (s2, l2), (s3, l3)], OP)?;
        let g = JoinShape::new(l1.dims(), l2.dims(), wb.len(), self.added)?;
        let (n, c, hw) = (g.n, g.c, g.hw);
        let (w, b) = wb.split_at(c);
        let c_out = g.c_out();
        let mut stats = Vec::new();
        // SAFETY: every channel of `x` writes its output channel's planes, and every channel of
        // `r` past the added ones its own (copied); together they are all the output's planes.
        let y = unsafe {
            filled(n * c_out * hw, |y| {
                let out = SendPtr(y.as_mut_ptr());
                let dest = |ch| Dest {
                    c: c_out,
                    ch: g.out_channel(ch),
                    add: (ch < g.added).then_some((r, g.c_r)),
                };
                stats = forward(self.eps, true, (n, c, hw), (x, w, b), out, dest);
                let rest = g.c_r - g.added;
                (0..n * rest)
                    .into_par_iter()
                    .with_min_len(planes_per_task(hw))
                    .for_each(|p| {
                        let (i, j) = (p / rest, g.added + p % rest);
                        let src = &r[(i * g.c_r + j) * hw..][..hw];
                        // SAFETY: plane (i, j) of the output is written by this task only.
                        let dst = out.slice((i * c_out + j) * hw, hw);
                        simd(
                            #[inline(always)]
                            || {
                                for (d, &v) in dst.iter_mut().zip(src) {
                                    *d = v.max(0.0);
                                }
                            },
                        )
                    });
            })
        };
        Saved::store(&self.saved, &stats)?;
        let shape = Shape::from((n, c_out, l1.dims()[2], l1.dims()[3]));
        Ok((CpuStorage::F32(y), shape))
    }

    fn bwd(
        &self,
        x: &Tensor,
        r: &Tensor,
        wb: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let g = JoinShape::new(x.dims(), r.dims(), wb.elem_count(), self.added)?;
        let (n, c, hw, c_out) = (g.n, g.c, g.hw, g.c_out());
        let wb = wb.to_vec1::<f32>()?;
        let (x, dy, res) = (x.contiguous()?, dy.contiguous()?, res.contiguous()?);
        let (dx, sums) = read(&x, OP, |x| {
            read(&dy, OP, |dy| {
                read(&res, OP, |res| {
                    Saved::with(&self.saved, |stats| {
                        let gin = |ch| GradIn::Output {
                            res,
                            c: c_out,
                            ch: g.out_channel(ch),
                        };
                        backward((n, c, hw), (x, dy), &wb[..c], stats, gin)
                    })
                })
            })
        })?;
        let dr = read(&dy, OP, |dy| {
            read(&res, OP, |res| Ok(g.residual_grad(dy, res)))
        })?;
        let dev = res.device();
        let dx = Tensor::from_vec(dx, x.shape(), dev)?;
        let dr = Tensor::from_vec(dr, r.shape(), dev)?;
        let (dw, db) = channel_sums(sums, dev)?;
        Ok((Some(dx), Some(dr), Some(Tensor::cat(&[dw, db], 0)?)))
    }
}

/// Training-mode batch-norm of `x` `[n, c, h, w]` (per-channel `weight` and `bias`, `[c]`)
/// joined with `r` `[n, c_r, h, w]` and followed by ReLU: the first `added` channels of the
/// normalised `x` and of `r` are added, then come the rest of `r` and the rest of the normalised
/// `x`, so the output has `c_r + c − added` channels (`added = c = c_r`: `relu(bn(x) + r)`).
/// Returns the output and the batch statistics it used. f32 CPU tensors only (callers fall back
/// to primitive ops elsewhere). Gradients reach `x`, `r`, `weight` and `bias`; the ReLU passes
/// none where its output is 0 (PyTorch's convention).
pub fn batch_norm_join_train(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    r: &Tensor,
    added: usize,
    eps: f64,
) -> Result<(Tensor, BatchStats)> {
    let saved = Arc::new(Mutex::new(Saved::default()));
    let op = BatchNormJoin {
        eps,
        added,
        saved: saved.clone(),
    };
    let wb = Tensor::cat(&[weight, bias], 0)?;
    let y = x.contiguous()?.apply_op3(&r.contiguous()?, &wb, op)?;
    Ok((y, Saved::batch_stats(&saved)?))
}

/// `relu(cat[z[:d] + r[:d], r[d:], z[d:]])` along the channels (`d = added`) from primitive
/// ops (with `added` equal to both channel counts, `relu(z + r)`): the join of
/// [`batch_norm_join_train`] for a `z` already normalised. Where gradients are tracked the ReLU
/// passes none where its output is 0, as the fused op.
pub fn join_relu(z: &Tensor, r: &Tensor, added: usize) -> Result<Tensor> {
    let (c, c_r) = (z.dim(1)?, r.dim(1)?);
    if added > c || added > c_r {
        candle_core::bail!(
            "join: {added} added channels, but the input has {c} and the residual {c_r}"
        )
    }
    if added == c && added == c_r {
        return super::elementwise::add_relu(z, r);
    }
    let sum = (z.narrow(1, 0, added)? + r.narrow(1, 0, added)?)?;
    let parts = [
        &sum,
        &r.narrow(1, added, c_r - added)?,
        &z.narrow(1, added, c - added)?,
    ];
    let y = Tensor::cat(&parts, 1)?;
    if candle_core::op::grad_enabled() {
        let mask = y.gt(&y.zeros_like()?)?.to_dtype(y.dtype())?.detach();
        y * mask
    } else {
        y.relu()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_matches, rand};
    use super::*;
    use candle_core::{DType, Var};

    /// Batch-norm in f64 from primitive ops (batch statistics, biased variance).
    fn normalised(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
        let c = w.dim(0)?;
        let (n_b, _, h, wd) = x.dims4()?;
        let n = (n_b * h * wd) as f64;
        let mean = (x.sum_keepdim((0, 2, 3))? / n)?;
        let xc = x.broadcast_sub(&mean)?;
        let var = (xc.sqr()?.sum_keepdim((0, 2, 3))? / n)?;
        let scale = w
            .reshape((1, c, 1, 1))?
            .broadcast_div(&(var + 1e-5)?.sqrt()?)?;
        xc.broadcast_mul(&scale)?
            .broadcast_add(&b.reshape((1, c, 1, 1))?)
    }

    /// Output, batch statistics and the gradients of input, residual, weight and bias agree
    /// with batch-norm, slices, addition, concatenation and ReLU from primitive ops in f64,
    /// for a residual block's join (all channels added) and dual-path ones (some added, the
    /// rest of each side concatenated), including one residual with more channels than the
    /// input and one with fewer.
    #[test]
    fn matches_primitive_ops() -> Result<()> {
        for (n, c, c_r, added, h) in [
            (4, 3, 3, 3, 5),
            (2, 8, 8, 8, 4),
            (3, 6, 9, 4, 3),
            (2, 10, 5, 4, 6),
            (8, 16, 16, 16, 1),
        ] {
            let x = Var::from_tensor(&((rand(&[n, c, h, h])? * 2.0)? + 0.5)?)?;
            let r = Var::from_tensor(&rand(&[n, c_r, h, h])?)?;
            let w = Var::from_tensor(&rand(&[c])?)?;
            let b = Var::from_tensor(&rand(&[c])?)?;
            let (ours, stats) = batch_norm_join_train(&x, &w, &b, &r, added, 1e-5)?;
            let f64s = |t: &Var| t.as_tensor().to_dtype(DType::F64);
            let z = normalised(&f64s(&x)?, &f64s(&w)?, &f64s(&b)?)?;
            let rr = f64s(&r)?;
            let sum = (z.narrow(1, 0, added)? + rr.narrow(1, 0, added)?)?;
            let pre = Tensor::cat(
                &[
                    &sum,
                    &rr.narrow(1, added, c_r - added)?,
                    &z.narrow(1, added, c - added)?,
                ],
                1,
            )?
            .to_dtype(DType::F32)?;
            let theirs = pre.relu()?;
            let what = format!("join n{n} c{c} c_r{c_r} added{added} {h}×{h}");
            let wrt = [x.as_tensor(), r.as_tensor(), w.as_tensor(), b.as_tensor()];
            assert_matches(&ours, &theirs, &wrt, 1e-4, Some(&pre), &what)?;
            let mean = x.mean((0, 2, 3))?.to_vec1::<f32>()?;
            let close = |a: &f32, b: &f32| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
            assert!(
                stats.mean.iter().zip(&mean).all(|(a, b)| close(a, b)),
                "{what}"
            );
            // The primitive-op join over the same normalised values gives the same output.
            let z32 = z.to_dtype(DType::F32)?;
            let prim = join_relu(&z32, r.as_tensor(), added)?;
            assert!(
                super::super::testing::max_diff(&prim, &theirs)? < 1e-5,
                "{what}: join_relu"
            );
        }
        Ok(())
    }

    /// Mismatched shapes are errors that name the op and the shapes, not panics.
    #[test]
    fn rejects_mismatched_shapes() -> Result<()> {
        let (w, b) = (rand(&[4])?, rand(&[4])?);
        let x = rand(&[2, 4, 3, 3])?;
        for (r, added) in [
            (rand(&[2, 4, 2, 2])?, 4),
            (rand(&[1, 4, 3, 3])?, 4),
            (rand(&[2, 3, 3, 3])?, 4),
        ] {
            let err = batch_norm_join_train(&x, &w, &b, &r, added, 1e-5)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(OP), "{err}");
        }
        Ok(())
    }
}
