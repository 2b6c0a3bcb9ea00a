//! Dense and grouped convolutions: im2col + one `gemm` per chunk of samples, forward and both
//! gradients (`dW += dY·colsᵀ`, `dcols = Wᵀ·dY` then col2im); dense 3×3 convolutions that fit
//! go to Winograd (grouped ones too, when each group would), one input channel per group to the
//! depthwise loops.

use gemm::Parallelism;

use super::depthwise::{dw_backward_input, dw_backward_weight, dw_forward};
use super::geom::Geom;
use super::im2col::{col2im, im2col};
use super::small_map;
use crate::ops::cpu::{filled, for_chunks, matmul, simd, sum_chunks, with_scratch};
use crate::ops::epilogue::Epilogue;
use crate::ops::winograd;

/// Chunks are processed in parallel when there are enough of them for every thread; otherwise
/// sequentially, with the matrix products themselves parallel.
fn plan(g: &Geom) -> (usize, bool, Parallelism) {
    let s = g.chunk();
    let chunks = g.n.div_ceil(s);
    let threads = rayon::current_num_threads().max(1);
    if chunks >= threads || threads == 1 {
        (s, true, Parallelism::None)
    } else {
        (s, false, Parallelism::Rayon(threads))
    }
}

/// The convolution of `x` with `w`, followed by `epi` on each output plane when given.
pub(super) fn forward(g: &Geom, x: &[f32], w: &[f32], epi: Option<&Epilogue>) -> Vec<f32> {
    forward_scaled(g, x, None, w, epi)
}

/// [`forward`] of `x` with each input plane first multiplied by `scale` (`[n, c]`) when given;
/// only 1×1 convolutions with stride 1, no padding and one group take a scale ([`Geom::scalable`]).
pub(super) fn forward_scaled(
    g: &Geom,
    x: &[f32],
    scale: Option<&[f32]>,
    w: &[f32],
    epi: Option<&Epilogue>,
) -> Vec<f32> {
    if scale.is_none() {
        if let Some(s) = g.small_map() {
            return small_map::forward(&s, x, w, epi);
        }
        if let Some(s) = g.winograd() {
            return winograd::forward(&s, x, w, epi);
        }
    }
    // SAFETY: every path writes each output element: the depthwise planes are copied in full
    // from their padded runs or mat-vec sums, and each chunk's product (`accumulate` false)
    // writes all rows and columns of every group before the epilogue reads them.
    unsafe { filled(g.n * g.o * g.l(), |y| forward_into(g, x, scale, w, epi, y)) }
}

/// [`forward_scaled`] into `y`, which it writes in full.
fn forward_into(
    g: &Geom,
    x: &[f32],
    scale: Option<&[f32]>,
    w: &[f32],
    epi: Option<&Epilogue>,
    y: &mut [f32],
) {
    if g.depthwise() && scale.is_none() {
        return dw_forward(g, x, w, y, epi);
    }
    let (s, parallel, par) = plan(g);
    let (chw, l, ol) = (g.c * g.hw(), g.l(), g.o * g.l());
    let direct = g.direct();
    for_chunks(y, ol, s, parallel, |n0, yc| {
        let sc = yc.len() / ol;
        let scale = scale.map(|v| &v[n0 * g.c..][..sc * g.c]);
        if direct {
            // 1×1: the input planes are the columns; one product per sample. A scale goes
            // into the weight's columns (o·c products instead of c·l).
            let mut scaled = Vec::new();
            for (si, ys) in yc.chunks_exact_mut(ol).enumerate() {
                let xs = &x[(n0 + si) * chw..][..chw];
                let wv = match scale {
                    Some(sv) => {
                        scale_columns(w, &sv[si * g.c..][..g.c], &mut scaled);
                        scaled.as_slice()
                    }
                    None => w,
                };
                // SAFETY: sizes follow from the geometry checked in `Geom::new`.
                unsafe {
                    matmul(
                        (g.o, l, g.k()),
                        ys.as_mut_ptr(),
                        l,
                        false,
                        (wv.as_ptr(), g.k(), 1),
                        (xs.as_ptr(), l, 1),
                        par,
                    )
                };
                if let Some(e) = epi {
                    e.samples(ys, l);
                }
            }
            return;
        }
        forward_chunk(g, &x[n0 * chw..][..sc * chw], scale, w, yc, (par, epi));
    });
}

/// `out[o, c] = w[o, c]·s[c]` for a weight `[o, c]` (a 1×1 convolution's).
fn scale_columns(w: &[f32], s: &[f32], out: &mut Vec<f32>) {
    out.clear();
    out.extend(
        w.chunks_exact(s.len())
            .flat_map(|row| row.iter().zip(s).map(|(&a, &b)| a * b)),
    );
}

/// The convolution of one chunk of samples `xs` into `yc` through im2col: the columns of all
/// its samples side by side, one product per group, then (several samples) spread into `yc`.
/// `epi` is applied to each product row before the spread: one channel of every sample of the
/// chunk in one run (long enough to vectorise on 4×4 and 2×2 maps), while it is in cache.
fn forward_chunk(
    g: &Geom,
    xs: &[f32],
    scale: Option<&[f32]>,
    w: &[f32],
    yc: &mut [f32],
    (par, epi): (Parallelism, Option<&Epilogue>),
) {
    let (k, l, og, ol) = (g.k(), g.l(), g.og(), g.o * g.l());
    let sc = yc.len() / ol;
    let sl = sc * l;
    // Columns, and the product of several samples before it is spread into `yc`: both written
    // in full before they are read.
    let tmp_len = if sc > 1 { og * sl } else { 0 };
    with_scratch(k * sl + tmp_len, |buf| {
        let (cols, tmp) = buf.split_at_mut(k * sl);
        for grp in 0..g.p.groups {
            im2col(g, xs, sc, grp, cols);
            if let Some(sv) = scale {
                // 1×1, one group: row `ci` of the columns holds input channel `ci` of each
                // sample side by side.
                simd(
                    #[inline(always)]
                    || {
                        for (ci, row) in cols.chunks_exact_mut(sl).enumerate() {
                            for (si, run) in row.chunks_exact_mut(l).enumerate() {
                                let f = sv[si * g.c + ci];
                                run.iter_mut().for_each(|v| *v *= f);
                            }
                        }
                    },
                );
            }
            let wg = &w[grp * og * k..][..og * k];
            let (dst, rs) = if sc > 1 {
                (tmp.as_mut_ptr(), sl)
            } else {
                (yc[grp * og * l..].as_mut_ptr(), l)
            };
            // SAFETY: `dst` holds og × sl (or og × l) elements; a and b are in bounds.
            unsafe {
                matmul(
                    (og, sl, k),
                    dst,
                    rs,
                    false,
                    (wg.as_ptr(), k, 1),
                    (cols.as_ptr(), sl, 1),
                    par,
                )
            };
            if sc > 1 {
                if let Some(e) = epi {
                    simd(
                        #[inline(always)]
                        || {
                            for (o, row) in tmp.chunks_exact_mut(sl).enumerate() {
                                e.plane(row, grp * og + o);
                            }
                        },
                    );
                }
                for o in 0..og {
                    for si in 0..sc {
                        yc[si * ol + (grp * og + o) * l..][..l]
                            .copy_from_slice(&tmp[o * sl + si * l..][..l]);
                    }
                }
            }
        }
    });
    if sc == 1 {
        if let Some(e) = epi {
            e.samples(yc, l);
        }
    }
}

/// `dY` of group `grp` of a chunk, `[og, s·l]`.
fn gather_dy(g: &Geom, dy: &[f32], s: usize, grp: usize, out: &mut [f32]) {
    let (l, og, ol) = (g.l(), g.og(), g.o * g.l());
    for o in 0..og {
        for si in 0..s {
            out[o * s * l + si * l..][..l]
                .copy_from_slice(&dy[si * ol + (grp * og + o) * l..][..l]);
        }
    }
}

/// Both gradients, `(dx, dW)`: in one pass on the Winograd path, which shares each chunk's
/// transformed output gradient between them (`winograd::backward`), one after the other
/// otherwise.
pub(super) fn backward(g: &Geom, dy: &[f32], w: &[f32], x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    match g.winograd() {
        Some(s) => winograd::backward(&s, dy, w, x),
        None => (backward_input(g, dy, w), backward_weight(g, dy, x)),
    }
}

pub(super) fn backward_input(g: &Geom, dy: &[f32], w: &[f32]) -> Vec<f32> {
    if let Some(s) = g.small_map() {
        return small_map::backward_input(&s, dy, w);
    }
    if let Some(s) = g.winograd() {
        return winograd::backward_input(&s, dy, w);
    }
    if g.depthwise() {
        let mut dx = vec![0f32; g.n * g.c * g.hw()];
        dw_backward_input(g, dy, w, &mut dx);
        return dx;
    }
    let (s, parallel, par) = plan(g);
    let (k, l, og, ol, chw) = (g.k(), g.l(), g.og(), g.o * g.l(), g.c * g.hw());
    let direct = g.direct();
    let chunk = |n0, dxc: &mut [f32]| {
        let sc = dxc.len() / chw;
        let dys = &dy[n0 * ol..][..sc * ol];
        if direct {
            for si in 0..sc {
                // dx_n [c × l] = Wᵀ [c × o] · dy_n [o × l]
                // SAFETY: sizes follow from the geometry.
                unsafe {
                    matmul(
                        (g.c, l, g.o),
                        dxc[si * chw..].as_mut_ptr(),
                        l,
                        false,
                        (w.as_ptr(), 1, k),
                        (dys[si * ol..].as_ptr(), l, 1),
                        par,
                    )
                };
            }
            return;
        }
        // col2im adds each column's share into the chunk's part of dx.
        dxc.fill(0.0);
        let sl = sc * l;
        // Both written in full (the product does not accumulate) before they are read.
        with_scratch(k * sl + og * sl, |buf| {
            let (dcols, dyg) = buf.split_at_mut(k * sl);
            for grp in 0..g.p.groups {
                gather_dy(g, dys, sc, grp, dyg);
                let wg = &w[grp * og * k..][..og * k];
                // SAFETY: dcols is k × sl; Wgᵀ is k × og; dyg is og × sl.
                unsafe {
                    matmul(
                        (k, sl, og),
                        dcols.as_mut_ptr(),
                        sl,
                        false,
                        (wg.as_ptr(), 1, k),
                        (dyg.as_ptr(), sl, 1),
                        par,
                    )
                };
                simd(
                    #[inline(always)]
                    || col2im(g, dcols, sc, grp, dxc),
                );
            }
        });
    };
    // SAFETY: each chunk writes its samples' part of dx: the direct product writes it whole,
    // the col2im path zeroes it first; the chunks cover dx.
    unsafe { filled(g.n * chw, |dx| for_chunks(dx, chw, s, parallel, chunk)) }
}

pub(super) fn backward_weight(g: &Geom, dy: &[f32], x: &[f32]) -> Vec<f32> {
    if let Some(s) = g.small_map() {
        return small_map::backward_weight(&s, dy, x);
    }
    if let Some(s) = g.winograd() {
        return winograd::backward_weight(&s, dy, x);
    }
    let wlen = g.o * g.k();
    if g.depthwise() {
        let mut dw = vec![0f32; wlen];
        dw_backward_weight(g, dy, x, &mut dw);
        return dw;
    }
    let (s, parallel, par) = plan(g);
    let (k, l, og, ol, chw) = (g.k(), g.l(), g.og(), g.o * g.l(), g.c * g.hw());
    let add = |ch, acc: &mut [f32], first: bool, (cols, dyg): &mut (Vec<f32>, Vec<f32>)| {
        let n0 = ch * s;
        let sc = s.min(g.n - n0);
        let sl = sc * l;
        let xs = &x[n0 * chw..][..sc * chw];
        let dys = &dy[n0 * ol..][..sc * ol];
        // Both written in full before they are read.
        cols.resize(k * sl, 0.0);
        dyg.resize(og * sl, 0.0);
        for grp in 0..g.p.groups {
            im2col(g, xs, sc, grp, cols);
            gather_dy(g, dys, sc, grp, dyg);
            // dW_g [og × k] += dyg [og × sl] · colsᵀ [sl × k] (= on a task's first chunk)
            // SAFETY: acc holds o × k; the slices cover the strided matrices.
            unsafe {
                matmul(
                    (og, k, sl),
                    acc[grp * og * k..].as_mut_ptr(),
                    k,
                    !first,
                    (dyg.as_ptr(), sl, 1),
                    (cols.as_ptr(), 1, sl),
                    par,
                )
            };
        }
    };
    // SAFETY: on a task's first chunk the groups' products write all of `acc` (o × k).
    unsafe { sum_chunks(g.n.div_ceil(s), wlen, parallel, add) }
}
