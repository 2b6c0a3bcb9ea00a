//! In-place CPU kernels for the optimizer updates: one pass over each parameter, no temporaries.

use candle_core::{CpuStorage, InplaceOp2, InplaceOp3, Layout};
use rayon::prelude::*;

use crate::ops::cpu::simd;

fn slice<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        _ => candle_core::bail!("optimizer kernel needs contiguous f32 tensors"),
    }
}

fn slice_mut<'a>(s: &'a mut CpuStorage, l: &Layout) -> candle_core::Result<&'a mut [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&mut v[a..b]),
        _ => candle_core::bail!("optimizer kernel needs contiguous f32 tensors"),
    }
}

/// Elements per parallel task of the updates (64 KiB of f32 per stream).
const CHUNK: usize = 16384;

/// Runs `f(dst, src)` over the elements of a destination tensor updated in place and one source,
/// in parallel blocks on rayon's pool and with the CPU's vector width (the update of VGG16's 15 M
/// parameters, memory-bound, had left one of two cores idle for 4 % of a step).
fn update2(
    (s1, l1): (&mut CpuStorage, &Layout),
    (s2, l2): (&CpuStorage, &Layout),
    f: impl Fn(&mut f32, f32) + Sync,
) -> candle_core::Result<()> {
    let (d, a) = (slice_mut(s1, l1)?, slice(s2, l2)?);
    d.par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK))
        .for_each(|(d, a)| {
            simd(
                #[inline(always)]
                || d.iter_mut().zip(a).for_each(|(d, &a)| f(d, a)),
            )
        });
    Ok(())
}

/// Runs `f(dst, src1, src2)` over the elements of a destination tensor updated in place and two
/// sources, in parallel blocks like [`update2`].
fn update3(
    (s1, l1): (&mut CpuStorage, &Layout),
    (s2, l2): (&CpuStorage, &Layout),
    (s3, l3): (&CpuStorage, &Layout),
    f: impl Fn(&mut f32, f32, f32) + Sync,
) -> candle_core::Result<()> {
    let (d, a, b) = (slice_mut(s1, l1)?, slice(s2, l2)?, slice(s3, l3)?);
    d.par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
        .for_each(|(d, (a, b))| {
            simd(
                #[inline(always)]
                || {
                    d.iter_mut()
                        .zip(a)
                        .zip(b)
                        .for_each(|((d, &a), &b)| f(d, a, b))
                },
            )
        });
    Ok(())
}

/// Plain SGD on `p` with gradient `g`: `p -= lr·(g + wd·p)`.
pub struct SgdPlain {
    /// Learning rate.
    pub lr: f32,
    /// Coupled weight decay.
    pub wd: f32,
}

impl InplaceOp2 for SgdPlain {
    fn name(&self) -> &'static str {
        "sgd-plain"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        update2((s1, l1), (s2, l2), |p, g| {
            *p -= self.lr * (g + self.wd * *p)
        })
    }
}

/// SGD with momentum, applied to `p` given gradient `g` and buffer `buf` (both updated):
/// `d = g + wd·p; buf = μ·buf + d; p -= lr·(nesterov ? d + μ·buf : buf)`.
pub struct SgdMomentum {
    /// Learning rate.
    pub lr: f32,
    /// Momentum μ.
    pub mu: f32,
    /// Coupled weight decay.
    pub wd: f32,
    /// Nesterov momentum.
    pub nesterov: bool,
}

/// Updates the momentum buffer in place (dst = buf; srcs g, p), run before [`SgdMomentumParam`].
pub struct SgdMomentumBuf(pub SgdMomentum);
/// Updates the parameter in place from the already updated buffer (dst = p; srcs g, buf).
pub struct SgdMomentumParam(pub SgdMomentum);

impl InplaceOp3 for SgdMomentumBuf {
    fn name(&self) -> &'static str {
        "sgd-momentum-buf"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<()> {
        let o = &self.0;
        update3((s1, l1), (s2, l2), (s3, l3), |b, g, p| {
            *b = o.mu * *b + g + o.wd * p
        })
    }
}

impl InplaceOp3 for SgdMomentumParam {
    fn name(&self) -> &'static str {
        "sgd-momentum-param"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<()> {
        let o = &self.0;
        update3((s1, l1), (s2, l2), (s3, l3), |p, g, b| {
            let step = if o.nesterov {
                g + o.wd * *p + o.mu * b
            } else {
                b
            };
            *p -= o.lr * step;
        })
    }
}

/// Exponential moving average of the gradient (or its square) into a moment buffer (dst).
pub struct Ema {
    /// Decay β.
    pub beta: f32,
    /// Average g² instead of g.
    pub square: bool,
}

impl InplaceOp2 for Ema {
    fn name(&self) -> &'static str {
        "adam-moment"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<()> {
        let (b, c) = (self.beta, 1.0 - self.beta);
        if self.square {
            update2((s1, l1), (s2, l2), |m, g| *m = b * *m + c * g * g)
        } else {
            update2((s1, l1), (s2, l2), |m, g| *m = b * *m + c * g)
        }
    }
}

/// AdamW parameter update (dst = p; srcs m, v):
/// `p = p·(1 − lr·wd) − lr·(m/bc1) / (√(v/bc2) + ε)`.
pub struct AdamWParam {
    /// Learning rate.
    pub lr: f32,
    /// Decoupled weight decay.
    pub wd: f32,
    /// 1 − β₁ᵗ.
    pub bc1: f32,
    /// 1 − β₂ᵗ.
    pub bc2: f32,
    /// ε.
    pub eps: f32,
}

impl InplaceOp3 for AdamWParam {
    fn name(&self) -> &'static str {
        "adamw-param"
    }
    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<()> {
        let decay = 1.0 - self.lr * self.wd;
        update3((s1, l1), (s2, l2), (s3, l3), |p, m, v| {
            *p = *p * decay - self.lr * (m / self.bc1) / ((v / self.bc2).sqrt() + self.eps)
        })
    }
}
