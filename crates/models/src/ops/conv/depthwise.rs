//! Depthwise convolutions (one input channel per group, with or without channel multiplier):
//! direct loops over padded runs ([`Padded`]), or over tap lists for small maps ([`SmallTaps`]),
//! forward and both gradients.

use rayon::prelude::*;

use super::geom::Geom;
use super::padded::Padded;
use super::small_taps::SmallTaps;
use crate::ops::cpu::{axpy, dot8, planes_per_task, simd};
use crate::ops::epilogue::Epilogue;

/// `dst[t] += Σ_k w_k·buf[off_k + t]` over the kernel taps (three per pass over `dst`).
#[inline(always)]
fn dw_taps_into(g: &Geom, pd: &Padded, buf: &[f32], wo: &[f32], dst: &mut [f32]) {
    let n = dst.len();
    let taps = || (0..g.kh).flat_map(|i| (0..g.kw).map(move |j| (i, j)));
    let mut it = taps().zip(wo.iter().copied());
    loop {
        match (it.next(), it.next(), it.next()) {
            (Some(((i0, j0), w0)), Some(((i1, j1), w1)), Some(((i2, j2), w2))) => {
                let a = &buf[pd.tap(g, i0, j0)..][..n];
                let b = &buf[pd.tap(g, i1, j1)..][..n];
                let c = &buf[pd.tap(g, i2, j2)..][..n];
                for (((d, &x0), &x1), &x2) in dst.iter_mut().zip(a).zip(b).zip(c) {
                    *d += w0 * x0 + w1 * x1 + w2 * x2;
                }
            }
            (first, second, _) => {
                for ((i, j), wv) in first.into_iter().chain(second) {
                    axpy(dst, wv, &buf[pd.tap(g, i, j)..][..n]);
                }
                break;
            }
        }
    }
}

/// Depthwise forward: output channel `o` reads input channel `o / m` (`m = o_total / c`). One
/// task per input plane, which computes the `m` output planes that read it (adjacent in `y`).
pub(super) fn dw_forward(g: &Geom, x: &[f32], w: &[f32], y: &mut [f32], epi: Option<&Epilogue>) {
    if let Some(taps) = SmallTaps::new(g) {
        return taps.forward(g, x, w, y, epi);
    }
    let (l, hw, m) = (g.l(), g.hw(), g.og());
    let pd = Padded::new(g);
    y.par_chunks_mut(m * l)
        .with_min_len(planes_per_task(m * l))
        .enumerate()
        .for_each_init(
            || (Vec::new(), Vec::new()),
            |(buf, ext), (idx, outs)| {
                let plane = &x[idx * hw..][..hw];
                simd(
                    #[inline(always)]
                    || {
                        dw_forward_plane(g, &pd, plane, w, idx % g.c, (buf, ext), outs);
                        if let Some(e) = epi {
                            for (k, out) in outs.chunks_exact_mut(l).enumerate() {
                                e.plane(out, (idx % g.c) * m + k);
                            }
                        }
                    },
                )
            },
        );
}

/// [`dw_forward`] of input plane `plane` (channel `c`) into its `m` output planes `outs`.
#[inline(always)]
fn dw_forward_plane(
    g: &Geom,
    pd: &Padded,
    plane: &[f32],
    w: &[f32],
    c: usize,
    (buf, ext): (&mut Vec<f32>, &mut Vec<f32>),
    outs: &mut [f32],
) {
    let (l, m, kk) = (g.l(), g.og(), g.kh * g.kw);
    pd.fill(g, plane, buf);
    for (k, out) in outs.chunks_exact_mut(l).enumerate() {
        let wo = &w[(c * m + k) * kk..][..kk];
        ext.clear();
        ext.resize(pd.run, 0.0);
        dw_taps_into(g, pd, buf, wo, ext);
        for (oh, row) in out.chunks_exact_mut(g.ow).enumerate() {
            row.copy_from_slice(&ext[oh * pd.wq..][..g.ow]);
        }
    }
}

/// Depthwise input gradient: one task per input plane, scattering the `m` output gradients that
/// read it into a padded buffer (one contiguous run per tap), then cropping it into `dx`.
pub(super) fn dw_backward_input(g: &Geom, dy: &[f32], w: &[f32], dx: &mut [f32]) {
    if let Some(taps) = SmallTaps::new(g) {
        return taps.backward_input(g, dy, w, dx);
    }
    let (l, hw, m) = (g.l(), g.hw(), g.og());
    let pd = Padded::new(g);
    dx.par_chunks_mut(hw)
        .with_min_len(planes_per_task(hw))
        .enumerate()
        .for_each_init(
            || (Vec::new(), Vec::new()),
            |(buf, ext), (idx, plane)| {
                let dys = &dy[idx * m * l..][..m * l];
                simd(
                    #[inline(always)]
                    || dw_input_plane(g, &pd, dys, w, idx % g.c, (buf, ext), plane),
                )
            },
        );
}

/// [`dw_backward_input`] of the input plane `plane` (channel `c`) from its `m` output gradients.
#[inline(always)]
fn dw_input_plane(
    g: &Geom,
    pd: &Padded,
    dys: &[f32],
    w: &[f32],
    c: usize,
    (buf, ext): (&mut Vec<f32>, &mut Vec<f32>),
    plane: &mut [f32],
) {
    let (l, m, kk) = (g.l(), g.og(), g.kh * g.kw);
    buf.clear();
    buf.resize(pd.len(), 0.0);
    for (k, src) in dys.chunks_exact(l).enumerate() {
        let wo = &w[(c * m + k) * kk..][..kk];
        pd.spread(g, src, ext);
        for i in 0..g.kh {
            for j in 0..g.kw {
                let off = pd.tap(g, i, j);
                axpy(&mut buf[off..off + pd.run], wo[i * g.kw + j], ext);
            }
        }
    }
    pd.crop_into(g, buf, plane);
}

/// Depthwise weight gradient: one task per output channel, over all samples; per sample and tap
/// one dot product of two contiguous runs (8 lanes).
pub(super) fn dw_backward_weight(g: &Geom, dy: &[f32], x: &[f32], dw: &mut [f32]) {
    if let Some(taps) = SmallTaps::new(g) {
        return taps.backward_weight(g, dy, x, dw);
    }
    let kk = g.kh * g.kw;
    let pd = Padded::new(g);
    dw.par_chunks_mut(kk).enumerate().for_each_init(
        || (Vec::new(), Vec::new()),
        |(buf, ext), (o, wo)| {
            simd(
                #[inline(always)]
                || dw_weight_channel(g, &pd, (dy, x), o, (buf, ext), wo),
            )
        },
    );
}

/// [`dw_backward_weight`] of output channel `o` into `wo` (`[kh·kw]`).
#[inline(always)]
fn dw_weight_channel(
    g: &Geom,
    pd: &Padded,
    (dy, x): (&[f32], &[f32]),
    o: usize,
    (buf, ext): (&mut Vec<f32>, &mut Vec<f32>),
    wo: &mut [f32],
) {
    let (l, hw, m) = (g.l(), g.hw(), g.og());
    let mut sums = vec![0f64; wo.len()];
    for n in 0..g.n {
        pd.fill(g, &x[(n * g.c + o / m) * hw..][..hw], buf);
        pd.spread(g, &dy[(n * g.o + o) * l..][..l], ext);
        for (t, sum) in sums.iter_mut().enumerate() {
            let xs = &buf[pd.tap(g, t / g.kw, t % g.kw)..][..pd.run];
            *sum += dot8(ext, xs) as f64;
        }
    }
    for (v, s) in wo.iter_mut().zip(sums.iter()) {
        *v = *s as f32;
    }
}
