//! The column matrix of dense and grouped convolutions: im2col (forward, weight gradient) and
//! its scatter-add inverse col2im (input gradient).

use super::geom::Geom;
use crate::ops::cpu::simd;

/// im2col of group `grp` of `s` samples `x` (each `[c, h, w]`) into `cols` `[k, s·l]`, at the
/// CPU's vector width (its row copies were a quarter of LeNet's training step).
pub(super) fn im2col(g: &Geom, x: &[f32], s: usize, grp: usize, cols: &mut [f32]) {
    simd(
        #[inline(always)]
        || im2col_rows(g, x, s, grp, cols),
    )
}

/// The body of [`im2col`].
#[inline(always)]
fn im2col_rows(g: &Geom, x: &[f32], s: usize, grp: usize, cols: &mut [f32]) {
    let (l, sl, hw, d, st) = (g.l(), s * g.l(), g.hw(), g.p.dilation, g.p.stride);
    for ci in 0..g.cg() {
        for i in 0..g.kh {
            let (oh_lo, oh_hi) = g.valid(i, g.oh, g.h);
            for j in 0..g.kw {
                let (ow_lo, ow_hi) = g.valid(j, g.ow, g.w);
                let row = (ci * g.kh + i) * g.kw + j;
                for si in 0..s {
                    let plane = &x[si * g.c * hw + (grp * g.cg() + ci) * hw..][..hw];
                    let dst = &mut cols[row * sl + si * l..][..l];
                    if st == 1 && g.ow == g.w {
                        shifted_copy(g, plane, (i, j), (oh_lo, oh_hi), (ow_lo, ow_hi), dst);
                        continue;
                    }
                    if st == 1 && d == 1 && g.p.pad == 0 {
                        valid_rows(&plane[i * g.w + j..], g.w, g.ow, dst);
                        continue;
                    }
                    for oh in 0..g.oh {
                        let out = &mut dst[oh * g.ow..(oh + 1) * g.ow];
                        if oh < oh_lo || oh >= oh_hi {
                            out.fill(0.0);
                            continue;
                        }
                        let ih = oh * st + i * d - g.p.pad;
                        let src = &plane[ih * g.w..(ih + 1) * g.w];
                        out[..ow_lo].fill(0.0);
                        out[ow_hi..].fill(0.0);
                        let base = j * d;
                        if st == 1 {
                            let a = ow_lo + base - g.p.pad;
                            copy_row(&mut out[ow_lo..ow_hi], &src[a..a + ow_hi - ow_lo]);
                        } else {
                            for (ow, o) in out.iter_mut().enumerate().take(ow_hi).skip(ow_lo) {
                                *o = src[ow * st + base - g.p.pad];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `match width { 1 => f::<1>(args), …, 32 => f::<32>(args), _ => other }`: the short rows of
/// im2col (LeNet's 28 and 10) copied with a length known at compile time, i.e. a few inline
/// vector moves instead of a `memmove` call.
macro_rules! by_width {
    ($width:expr, $f:ident $args:tt, $other:expr) => {
        by_width!(@ $width, $f $args, $other;
            1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32)
    };
    (@ $width:expr, $f:ident $args:tt, $other:expr; $($n:literal)*) => {
        match $width {
            $($n => $f::<$n> $args,)*
            _ => $other,
        }
    };
}

/// One im2col row of an unpadded stride-1 convolution (LeNet's 5×5 layers): output row `oh`
/// (`ow` wide) is `src[oh·w..][..ow]`, `src` starting at the tap's offset. Rows of up to 32
/// elements are copied with a width known at compile time, chosen once per plane rather than
/// once per row (the per-row dispatch and bounds checks cost more than the copies).
#[inline(always)]
fn valid_rows(src: &[f32], w: usize, ow: usize, dst: &mut [f32]) {
    #[inline(always)]
    fn rows<const OW: usize>(src: &[f32], w: usize, dst: &mut [f32]) {
        for (row, from) in dst.as_chunks_mut::<OW>().0.iter_mut().zip(src.chunks(w)) {
            if let Some(from) = from.first_chunk::<OW>() {
                *row = *from;
            }
        }
    }
    by_width!(ow, rows(src, w, dst), {
        for (row, from) in dst.chunks_exact_mut(ow).zip(src.chunks(w)) {
            row.copy_from_slice(&from[..ow]);
        }
    })
}

/// `dst.copy_from_slice(src)` for one row of im2col's general path, by `by_width!` (a
/// `memmove` call per row was 11 % of LeNet's training, before [`valid_rows`] took its layers).
#[inline(always)]
fn copy_row(dst: &mut [f32], src: &[f32]) {
    #[inline(always)]
    fn copy<const N: usize>(dst: &mut [f32], src: &[f32]) {
        dst[..N].copy_from_slice(&src[..N]);
    }
    by_width!(dst.len(), copy(dst, src), dst.copy_from_slice(src))
}

/// One im2col row of a stride-1 convolution whose output rows are as wide as its input rows
/// (3×3 with padding 1, …): the tap's shifted plane, copied as one run — output `e` reads input
/// `e + off` — then the rows `[oh_lo, oh_hi)` keep only their valid columns `[ow_lo, ow_hi)`.
/// One copy per plane instead of one per row (4 elements a row on a 4×4 map).
fn shifted_copy(
    g: &Geom,
    plane: &[f32],
    (i, j): (usize, usize),
    (oh_lo, oh_hi): (usize, usize),
    (ow_lo, ow_hi): (usize, usize),
    dst: &mut [f32],
) {
    let (ow, d, pad) = (g.ow, g.p.dilation, g.p.pad as isize);
    let (e0, e1) = (oh_lo * ow, oh_hi.max(oh_lo) * ow);
    dst[..e0].fill(0.0);
    dst[e1..].fill(0.0);
    let off = ((i * d) as isize - pad) * g.w as isize + (j * d) as isize - pad;
    // The outputs whose input lies inside the plane; the others are invalid columns.
    let lo = (e0 as isize).max(-off).clamp(e0 as isize, e1 as isize) as usize;
    let hi = (e1 as isize)
        .min(plane.len() as isize - off)
        .clamp(lo as isize, e1 as isize) as usize;
    dst[lo..hi].copy_from_slice(&plane[(lo as isize + off) as usize..(hi as isize + off) as usize]);
    if ow_lo > 0 || ow_hi < ow {
        // Also covers the ends outside `[lo, hi)`: their inputs lie in invalid columns.
        for row in dst[e0..e1].chunks_exact_mut(ow) {
            row[..ow_lo].fill(0.0);
            row[ow_hi..].fill(0.0);
        }
    }
}

/// col2im: adds `cols` `[k, s·l]` of group `grp` into `dx` (`s` samples of `[c, h, w]`).
#[inline(always)]
pub(super) fn col2im(g: &Geom, cols: &[f32], s: usize, grp: usize, dx: &mut [f32]) {
    let (l, sl, hw, d, st) = (g.l(), s * g.l(), g.hw(), g.p.dilation, g.p.stride);
    for ci in 0..g.cg() {
        for i in 0..g.kh {
            let (oh_lo, oh_hi) = g.valid(i, g.oh, g.h);
            for j in 0..g.kw {
                let (ow_lo, ow_hi) = g.valid(j, g.ow, g.w);
                let row = (ci * g.kh + i) * g.kw + j;
                for si in 0..s {
                    let plane = &mut dx[si * g.c * hw + (grp * g.cg() + ci) * hw..][..hw];
                    let src = &cols[row * sl + si * l..][..l];
                    for oh in oh_lo..oh_hi {
                        let ih = oh * st + i * d - g.p.pad;
                        let dst = &mut plane[ih * g.w..(ih + 1) * g.w];
                        let inp = &src[oh * g.ow..(oh + 1) * g.ow];
                        let base = j * d;
                        if st == 1 {
                            let a = ow_lo + base - g.p.pad;
                            for (t, v) in
                                dst[a..a + ow_hi - ow_lo].iter_mut().zip(&inp[ow_lo..ow_hi])
                            {
                                *t += v;
                            }
                        } else {
                            for ow in ow_lo..ow_hi {
                                dst[ow * st + base - g.p.pad] += inp[ow];
                            }
                        }
                    }
                }
            }
        }
    }
}
