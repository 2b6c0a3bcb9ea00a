//! Multi-head scaled dot-product attention as one custom op over the fused QKV projection.
//!
//! candle would run it as a permute, three copies, a transposed copy of K, a batched matmul, the
//! softmax op, a second batched matmul and a transposed copy of the output, and its CPU batched
//! matmul calls a multi-threaded `gemm` once per (sample, head) on matrices as small as 65×16 —
//! thread hand-offs dominated ViT-tiny's attention. Here every (sample, head) pair is one task on
//! rayon's pool, running single-threaded `gemm`s that read Q, K and V in place from the `[n, t,
//! 3·dim]` projection (strides instead of copies). The softmax probabilities are kept for the
//! backward pass: `dV = Pᵀ·dO`, `dP = dO·Vᵀ`, `dS = scale·P∘(dP − Σ dP∘P)`, `dQ = dS·K`,
//! `dK = dSᵀ·Q`.

use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;

use super::cpu::{f32_slice, filled, matmul, read, simd, sum8, SendPtr};
use super::elementwise::exp_f32;

/// Names this op in error messages.
const OP: &str = "attention";

/// Attention over `[n, t, 3·dim]` (Q, K, V side by side, each split into `heads`).
struct Attention {
    heads: usize,
    scale: f32,
    causal: bool,
    /// Softmax probabilities of the forward pass, `[n·heads, t, t]`.
    probs: Arc<Mutex<Vec<f32>>>,
}

/// Sizes of one call: samples, positions, width, heads and head width.
#[derive(Clone, Copy)]
struct Dims {
    n: usize,
    t: usize,
    dim: usize,
    heads: usize,
    hd: usize,
}

impl Dims {
    fn of(dims: &[usize], heads: usize) -> Result<Self> {
        let &[n, t, three_dim] = dims else {
            candle_core::bail!("attention needs [batch, positions, 3·dim], got {dims:?}")
        };
        let dim = three_dim / 3;
        if three_dim % 3 != 0 || heads == 0 || dim % heads != 0 {
            candle_core::bail!(
                "attention: last dimension {three_dim} is not 3 × a multiple of {heads} heads"
            )
        }
        Ok(Self {
            n,
            t,
            dim,
            heads,
            hd: dim / heads,
        })
    }

    /// Offset of head `h`'s Q (`which` = 0), K (1) or V (2) for sample `b` in the projection.
    fn qkv(&self, b: usize, h: usize, which: usize) -> usize {
        b * self.t * 3 * self.dim + which * self.dim + h * self.hd
    }
}

fn poisoned() -> candle_core::Error {
    candle_core::Error::Msg("attention probabilities poisoned".into())
}

impl Attention {
    /// Row-wise softmax of `s` (`t`×`t`, already scaled) in place, masking `j > i` when causal.
    /// Vectorised: the exponentials are `exp_f32` (libm's `expf` is a call per element, which
    /// made the softmax half of ViT-tiny's inference), the sums run in 8 lanes.
    #[inline(always)]
    fn softmax_rows(&self, s: &mut [f32], t: usize) {
        for (i, row) in s.chunks_mut(t).enumerate() {
            let live = if self.causal { i + 1 } else { t };
            let max = row[..live]
                .iter()
                .copied()
                .fold(f32::NEG_INFINITY, f32::max);
            row[..live].iter_mut().for_each(|v| *v = exp_f32(*v - max));
            let inv = 1.0 / sum8(&row[..live], |v| v);
            row[..live].iter_mut().for_each(|v| *v *= inv);
            row[live..].iter_mut().for_each(|v| *v = 0.0);
        }
    }
}

impl CustomOp1 for Attention {
    fn name(&self) -> &'static str {
        "greenbench-attention"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let qkv = f32_slice(s, l, OP)?;
        let d = Dims::of(l.dims(), self.heads)?;
        let (t, hd, rs) = (d.t, d.hd, 3 * d.dim);
        // Each (sample, head) task writes its whole t×t block of `probs` (a product that does
        // not accumulate) and its t×hd block of `y`; the heads' blocks tile `y`.
        let attend = |y: &mut [f32], probs: &mut [f32]| {
            let out = SendPtr(y.as_mut_ptr());
            probs
                .par_chunks_mut((t * t).max(1))
                .enumerate()
                .for_each(|(bh, p)| {
                    let (b, h) = (bh / d.heads, bh % d.heads);
                    let (q, k, v) = (d.qkv(b, h, 0), d.qkv(b, h, 1), d.qkv(b, h, 2));
                    // SAFETY: Q, K, V are t×hd blocks of `qkv` at row stride 3·dim; P is t×t; the
                    // output block (sample b, head h) is written by this task only.
                    unsafe {
                        let qk = (t, t, hd);
                        let kt = (qkv.as_ptr().add(k), 1, rs);
                        matmul(
                            qk,
                            p.as_mut_ptr(),
                            t,
                            false,
                            (qkv.as_ptr().add(q), rs, 1),
                            kt,
                            Parallelism::None,
                        );
                        simd(
                            #[inline(always)]
                            || {
                                p.iter_mut().for_each(|v| *v *= self.scale);
                                self.softmax_rows(p, t);
                            },
                        );
                        let o = out.ptr().add(b * t * d.dim + h * hd);
                        let vv = (qkv.as_ptr().add(v), rs, 1);
                        matmul(
                            (t, hd, t),
                            o,
                            d.dim,
                            false,
                            (p.as_ptr(), t, 1),
                            vv,
                            Parallelism::None,
                        );
                    }
                });
        };
        let mut probs = Vec::new();
        // SAFETY: `attend` writes every element of both (above) before any is read.
        let y = unsafe {
            filled(d.n * t * d.dim, |y| {
                probs = filled(d.n * d.heads * t * t, |p| attend(y, p));
            })
        };
        *self.probs.lock().map_err(|_| poisoned())? = probs;
        Ok((CpuStorage::F32(y), Shape::from((d.n, t, d.dim))))
    }

    fn bwd(&self, qkv: &Tensor, _res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        let d = Dims::of(qkv.dims(), self.heads)?;
        let (t, hd, rs) = (d.t, d.hd, 3 * d.dim);
        let probs = self.probs.lock().map_err(|_| poisoned())?;
        if probs.len() != d.n * d.heads * t * t {
            candle_core::bail!("attention backward without its forward pass")
        }
        let (x, g) = (qkv.contiguous()?, dy.contiguous()?);
        let dqkv = read(&x, OP, |x| {
            read(&g, OP, |g| {
                let mut dqkv = vec![0f32; x.len()];
                let out = SendPtr(dqkv.as_mut_ptr());
                (0..d.n * d.heads).into_par_iter().for_each(|bh| {
                    let (b, h) = (bh / d.heads, bh % d.heads);
                    let p = &probs[bh * t * t..][..t * t];
                    let (q, k, v) = (d.qkv(b, h, 0), d.qkv(b, h, 1), d.qkv(b, h, 2));
                    let go = b * t * d.dim + h * hd;
                    let mut ds = vec![0f32; t * t];
                    // SAFETY: blocks as in the forward pass; this task writes only the Q, K and
                    // V columns of head h for sample b in `dqkv`, and its own `ds`.
                    unsafe {
                        let (x, g, none) = (x.as_ptr(), g.as_ptr(), Parallelism::None);
                        // dV = Pᵀ·dO
                        matmul(
                            (t, hd, t),
                            out.ptr().add(v),
                            rs,
                            false,
                            (p.as_ptr(), 1, t),
                            (g.add(go), d.dim, 1),
                            none,
                        );
                        // dP = dO·Vᵀ
                        matmul(
                            (t, t, hd),
                            ds.as_mut_ptr(),
                            t,
                            false,
                            (g.add(go), d.dim, 1),
                            (x.add(v), 1, rs),
                            none,
                        );
                        for (drow, prow) in ds.chunks_mut(t).zip(p.chunks(t)) {
                            let dot: f32 = drow.iter().zip(prow).map(|(a, b)| a * b).sum();
                            for (dv, &pv) in drow.iter_mut().zip(prow) {
                                *dv = self.scale * pv * (*dv - dot);
                            }
                        }
                        // dQ = dS·K, dK = dSᵀ·Q
                        matmul(
                            (t, hd, t),
                            out.ptr().add(q),
                            rs,
                            false,
                            (ds.as_ptr(), t, 1),
                            (x.add(k), rs, 1),
                            none,
                        );
                        matmul(
                            (t, hd, t),
                            out.ptr().add(k),
                            rs,
                            false,
                            (ds.as_ptr(), 1, t),
                            (x.add(q), rs, 1),
                            none,
                        );
                    }
                });
                Ok(dqkv)
            })
        })?;
        Ok(Some(Tensor::from_vec(dqkv, qkv.shape(), qkv.device())?))
    }
}

/// Multi-head attention of the projection `qkv` `[n, t, 3·dim]` (Q, K, V each `[heads, hd]`
/// per position): `softmax(scale·Q·Kᵀ (causally masked)) · V`, heads concatenated, `[n, t, dim]`.
/// On devices other than the CPU or dtypes other than f32, runs `fallback`.
pub fn attention(
    qkv: &Tensor,
    heads: usize,
    scale: f64,
    causal: bool,
    fallback: impl FnOnce() -> Result<Tensor>,
) -> Result<Tensor> {
    if super::use_custom(qkv) && scale > 0.0 {
        qkv.contiguous()?.apply_op1(Attention {
            heads,
            scale: scale as f32,
            causal,
            probs: Arc::new(Mutex::new(Vec::new())),
        })
    } else {
        fallback()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_matches;
    use super::*;
    use candle_core::{Device, Var};

    /// candle's primitive ops: permute, batched matmuls, masked softmax.
    fn reference(qkv: &Tensor, heads: usize, causal: bool) -> Result<Tensor> {
        let (n, t, three) = qkv.dims3()?;
        let dim = three / 3;
        let hd = dim / heads;
        let x = qkv
            .reshape((n, t, 3, heads, hd))?
            .permute((2, 0, 3, 1, 4))?;
        let (q, k, v) = (
            x.get(0)?.contiguous()?,
            x.get(1)?.contiguous()?,
            x.get(2)?.contiguous()?,
        );
        let mut s = (q.matmul(&k.t()?.contiguous()?)? / (hd as f64).sqrt())?;
        if causal {
            let m: Vec<f32> = (0..t)
                .flat_map(|i| (0..t).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
                .collect();
            s = s.broadcast_add(&Tensor::from_vec(m, (t, t), qkv.device())?)?;
        }
        let p = candle_nn::ops::softmax(&s, candle_core::D::Minus1)?;
        p.matmul(&v)?.transpose(1, 2)?.reshape((n, t, dim))
    }

    /// Output and the projection's gradient equal candle's ops within 1e-4, causal or not.
    #[test]
    fn matches_candle_attention() -> Result<()> {
        for (n, t, dim, heads, causal) in [
            (2, 5, 8, 2, false),
            (3, 17, 64, 4, true),
            (1, 65, 48, 3, false),
        ] {
            let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, (n, t, 3 * dim), &Device::Cpu)?)?;
            let scale = 1.0 / ((dim / heads) as f64).sqrt();
            let ours = attention(&x, heads, scale, causal, || unreachable!())?;
            let theirs = reference(&x, heads, causal)?;
            let what = format!("({n},{t},{dim},{heads},{causal})");
            assert_matches(&ours, &theirs, &[&x], 1e-4, None, &what)?;
        }
        Ok(())
    }
}
