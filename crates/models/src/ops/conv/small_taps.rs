//! Depthwise convolution of small maps (4×4, 2×2) from a list of (output, tap, input) triples.

use rayon::prelude::*;

use super::geom::Geom;
use crate::ops::cpu::simd;
use crate::ops::epilogue::Epilogue;

/// Depthwise convolution of small maps (at most [`SmallTaps::MAX_OUT`] inputs and outputs per
/// plane, e.g. the 4×4 and 2×2 maps that make up most of MobileNet's planes): the (output, tap,
/// input) triples with the input inside the image, listed once per call, so a plane costs a few
/// dozen multiply-adds instead of the padded copies and loop set-up of the general path. The
/// triples are listed in output order.
pub(super) struct SmallTaps(Vec<[u32; 3]>);

impl SmallTaps {
    /// Output positions per plane up to which this path is used.
    const MAX_OUT: usize = 16;
    /// Planes per parallel task (tiny planes: amortise the task overhead).
    const PLANES_PER_TASK: usize = 64;

    pub(super) fn new(g: &Geom) -> Option<Self> {
        // Input planes up to the same size: MobileNet's 8×8 → 4×4 stride-2 layer through this
        // path (its results within 2e-7 of the general path's, which sums in another order)
        // tipped a ReLU/batch-norm decision downstream and moved MobileNet's gradient 0.4 away
        // from the f64 reference in `tests/reference_ops.rs`; it stays on the general path.
        if g.l() > Self::MAX_OUT || g.hw() > Self::MAX_OUT {
            return None;
        }
        let (s, d, pad) = (g.p.stride, g.p.dilation, g.p.pad);
        let mut v = Vec::new();
        for oh in 0..g.oh {
            for ow in 0..g.ow {
                for i in 0..g.kh {
                    let Some(ih) = (oh * s + i * d).checked_sub(pad).filter(|&r| r < g.h) else {
                        continue;
                    };
                    for j in 0..g.kw {
                        let Some(iw) = (ow * s + j * d).checked_sub(pad).filter(|&q| q < g.w)
                        else {
                            continue;
                        };
                        let (p, t, q) = (oh * g.ow + ow, i * g.kw + j, ih * g.w + iw);
                        v.push([p as u32, t as u32, q as u32]);
                    }
                }
            }
        }
        Some(Self(v))
    }

    /// Per output channel, the plane's convolution as a dense `hw × l` matrix stored by input
    /// position (`mats[o][q][p]` = the weight tap linking input `q` to output `p`, else 0).
    fn matrices(&self, g: &Geom, w: &[f32]) -> Vec<f32> {
        let (l, hw, kk) = (g.l(), g.hw(), g.kh * g.kw);
        let mut mats = vec![0f32; g.o * hw * l];
        mats.par_chunks_mut((hw * l).max(1))
            .enumerate()
            .for_each(|(o, mat)| {
                let wo = &w[o * kk..][..kk];
                // Each (output, input) pair has at most one tap.
                for &[p, t, q] in &self.0 {
                    mat[q as usize * l + p as usize] = wo[t as usize];
                }
            });
        mats
    }

    /// Each output plane as the product of its channel's matrix and the input plane, vectorised
    /// over the outputs. For each output the terms are added in the order of the taps (inputs
    /// ascending), with exact zeros in between: the same sums as tap by tap.
    pub(super) fn forward(
        &self,
        g: &Geom,
        x: &[f32],
        w: &[f32],
        y: &mut [f32],
        epi: Option<&Epilogue>,
    ) {
        let (l, hw, m) = (g.l(), g.hw(), g.og());
        let per = Self::PLANES_PER_TASK;
        let mats = self.matrices(g, w);
        y.par_chunks_mut(per * m * l)
            .enumerate()
            .for_each(|(task, block)| {
                simd(
                    #[inline(always)]
                    || {
                        for (j, outs) in block.chunks_exact_mut(m * l).enumerate() {
                            let idx = task * per + j;
                            let plane = &x[idx * hw..][..hw];
                            for (k, out) in outs.chunks_exact_mut(l).enumerate() {
                                let o = (idx % g.c) * m + k;
                                let mat = &mats[o * hw * l..][..hw * l];
                                // MobileNet's and EfficientNet's 2×2 and 4×4 maps with a
                                // constant width, so the sums live in registers.
                                match l {
                                    4 => mat_vec::<4>(mat, plane, out),
                                    16 => mat_vec::<16>(mat, plane, out),
                                    _ => mat_vec_any(mat, plane, out),
                                }
                                if let Some(e) = epi {
                                    e.affine(out, o);
                                }
                            }
                        }
                        // The activation over the whole block: long enough to vectorise.
                        if let Some(e) = epi {
                            e.activate(block);
                        }
                    },
                )
            });
    }

    pub(super) fn backward_input(&self, g: &Geom, dy: &[f32], w: &[f32], dx: &mut [f32]) {
        let (l, hw, m, kk) = (g.l(), g.hw(), g.og(), g.kh * g.kw);
        dx.par_chunks_mut(hw)
            .enumerate()
            .with_min_len(Self::PLANES_PER_TASK)
            .for_each(|(idx, plane)| {
                let dys = &dy[idx * m * l..][..m * l];
                for (k, src) in dys.chunks_exact(l).enumerate() {
                    let wo = &w[((idx % g.c) * m + k) * kk..][..kk];
                    for &[p, t, q] in &self.0 {
                        plane[q as usize] += wo[t as usize] * src[p as usize];
                    }
                }
            });
    }

    pub(super) fn backward_weight(&self, g: &Geom, dy: &[f32], x: &[f32], dw: &mut [f32]) {
        let (l, hw, m, kk) = (g.l(), g.hw(), g.og(), g.kh * g.kw);
        dw.par_chunks_mut(kk).enumerate().for_each(|(o, wo)| {
            let mut sums = vec![0f64; kk];
            let mut acc = vec![0f32; kk];
            for n in 0..g.n {
                let plane = &x[(n * g.c + o / m) * hw..][..hw];
                let src = &dy[(n * g.o + o) * l..][..l];
                acc.fill(0.0);
                for &[p, t, q] in &self.0 {
                    acc[t as usize] += src[p as usize] * plane[q as usize];
                }
                for (s, &a) in sums.iter_mut().zip(&acc) {
                    *s += a as f64;
                }
            }
            for (v, &s) in wo.iter_mut().zip(&sums) {
                *v = s as f32;
            }
        });
    }
}

/// `out = matᵀ·plane` for a `plane.len() × L` matrix stored by rows (see
/// [`SmallTaps::matrices`]), the terms of each output added in row order.
#[inline(always)]
fn mat_vec<const L: usize>(mat: &[f32], plane: &[f32], out: &mut [f32]) {
    let mut acc = [0f32; L];
    for (col, &xq) in mat.chunks_exact(L).zip(plane) {
        for (d, &mv) in acc.iter_mut().zip(col) {
            *d += mv * xq;
        }
    }
    out[..L].copy_from_slice(&acc);
}

/// [`mat_vec`] for any width `out.len()`.
#[inline(always)]
fn mat_vec_any(mat: &[f32], plane: &[f32], out: &mut [f32]) {
    out.fill(0.0);
    for (col, &xq) in mat.chunks_exact(out.len()).zip(plane) {
        for (d, &mv) in out.iter_mut().zip(col) {
            *d += mv * xq;
        }
    }
}
