//! 2-D convolution as a candle custom op with its own CPU forward and backward.
//!
//! Dense and grouped convolutions run as im2col + one `gemm` per chunk of samples (the `gemm`
//! crate candle itself uses): the columns of several samples are laid side by side so that late,
//! small feature maps (4×4 in ResNet's last stage) still give the matrix product enough columns.
//! The backward pass is two more products per chunk: `dW += dY·colsᵀ` and `dcols = Wᵀ·dY`
//! followed by col2im (a scatter-add). Convolutions with one input channel per group
//! (depthwise, with or without channel multiplier) use direct loops instead.
//!
//! Work is split over samples on rayon's pool (`RAYON_NUM_THREADS`); the weight gradient is
//! accumulated per thread and summed in a fixed order, so results are deterministic.
//! On devices other than the CPU, and for dtypes other than f32, [`conv2d`] falls back to
//! candle's own `conv2d`.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;

use super::cpu::{
    axpy, dot8, f32_slice, filled, for_chunks, matmul, planes_per_task, simd, sum_chunks,
    tap_outputs, with_scratch,
};
use super::epilogue::Epilogue;
use super::winograd::{self, Wino};

/// Names this op in error messages.
const OP: &str = "conv2d";

static WINOGRAD: AtomicBool = AtomicBool::new(true);

/// Turns the Winograd path of dense 3×3 convolutions on (the default) or off, process-wide, so
/// that the two algorithms can be timed against each other (`examples/conv_layers.rs`) or a
/// result checked with the direct im2col sums.
pub fn set_winograd(on: bool) {
    WINOGRAD.store(on, Ordering::Relaxed);
}

/// Stride, zero padding, dilation and groups of a convolution (the same on both axes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvParams {
    /// Step between output positions, in input pixels (1 keeps the size, 2 halves it).
    pub stride: usize,
    /// Zero padding on each side.
    pub pad: usize,
    /// Dilation of the kernel taps.
    pub dilation: usize,
    /// Channel groups.
    pub groups: usize,
}

/// All sizes of one convolution call.
#[derive(Clone, Copy, Debug)]
struct Geom {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    p: ConvParams,
}

impl Geom {
    fn new(x: &[usize], w: &[usize], p: ConvParams) -> Result<Self> {
        let (&[n, c, h, wd], &[o, cg, kh, kw]) = (x, w) else {
            candle_core::bail!("conv2d expects 4-D input and weight, got {x:?} and {w:?}")
        };
        let g = p.groups;
        if g == 0 || p.stride == 0 || p.dilation == 0 || c != cg * g || o % g != 0 || kh == 0 {
            candle_core::bail!("conv2d: input {x:?}, weight {w:?} and {p:?} do not fit")
        }
        let span_h = p.dilation * (kh - 1) + 1;
        let span_w = p.dilation * (kw - 1) + 1;
        if h == 0 || wd == 0 {
            candle_core::bail!("conv2d: empty input {x:?}")
        }
        if h + 2 * p.pad < span_h || wd + 2 * p.pad < span_w {
            candle_core::bail!("conv2d: kernel larger than the padded input {x:?}")
        }
        Ok(Self {
            n,
            c,
            h,
            w: wd,
            o,
            kh,
            kw,
            oh: (h + 2 * p.pad - span_h) / p.stride + 1,
            ow: (wd + 2 * p.pad - span_w) / p.stride + 1,
            p,
        })
    }
    fn cg(&self) -> usize {
        self.c / self.p.groups
    }
    fn og(&self) -> usize {
        self.o / self.p.groups
    }
    /// Rows of the column matrix of one group.
    fn k(&self) -> usize {
        self.cg() * self.kh * self.kw
    }
    fn l(&self) -> usize {
        self.oh * self.ow
    }
    fn hw(&self) -> usize {
        self.h * self.w
    }
    fn depthwise(&self) -> bool {
        self.cg() == 1
    }
    /// A 1×1 convolution whose input planes serve as the columns of its product as they are,
    /// one product per sample. Only when a sample has enough positions: with fewer (MobileNet's
    /// 4×4 and 2×2 maps) the product would get a handful of rows, which `gemm`'s 16-row AVX-512
    /// kernels mostly waste, so the chunked path lays several samples side by side instead.
    fn direct(&self) -> bool {
        let p = self.p;
        self.kh == 1
            && self.kw == 1
            && p.stride == 1
            && p.pad == 0
            && p.groups == 1
            && self.l() >= 64
    }
    /// Whether [`forward_scaled`] can scale this convolution's input planes: a 1×1
    /// convolution with stride 1, no padding or dilation and one group.
    fn scalable(&self) -> bool {
        takes_input_scale((self.kh, self.kw), self.p)
    }
    /// The Winograd sizes when this is a dense 3×3 convolution with stride 1 and padding 1 on
    /// enough channels and enough 2×2 output tiles per call ([`winograd::MIN_TILES`]), unless
    /// [`set_winograd`] turned it off. A network's first layer (3 input channels) stays on
    /// im2col, whose 27-row columns suit the product better; so do layers with fewer than 64
    /// outputs (DenseNet's 32), whose products get too few rows to pay for the transforms.
    fn winograd(&self) -> Option<Wino> {
        let p = self.p;
        let s = Wino {
            n: self.n,
            c: self.c,
            o: self.o,
            h: self.h,
            w: self.w,
        };
        let fits = (self.kh, self.kw, p.stride, p.pad, p.dilation, p.groups) == (3, 3, 1, 1, 1, 1)
            && self.c >= 16
            && self.o >= 64
            && s.call_tiles() >= winograd::MIN_TILES
            && WINOGRAD.load(Ordering::Relaxed);
        fits.then_some(s)
    }
    /// Samples per chunk: enough columns for an efficient product, a bounded column buffer.
    fn chunk(&self) -> usize {
        let l = self.l().max(1);
        let want = 256usize.div_ceil(l);
        let cap = ((1usize << 22) / (self.k() * l).max(1)).max(1);
        want.min(cap).clamp(1, self.n.max(1))
    }
    /// The valid output columns `ow` for kernel column `j`: `iw = ow·s + j·d − pad` in `[0, w)`.
    fn valid(&self, j: usize, out: usize, size: usize) -> (usize, usize) {
        let r = tap_outputs(j * self.p.dilation, (self.p.pad, self.p.stride), out, size);
        (r.start, r.end)
    }
}

/// im2col of group `grp` of `s` samples `x` (each `[c, h, w]`) into `cols` `[k, s·l]`, at the
/// CPU's vector width (its row copies were a quarter of LeNet's training step).
fn im2col(g: &Geom, x: &[f32], s: usize, grp: usize, cols: &mut [f32]) {
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
fn col2im(g: &Geom, cols: &[f32], s: usize, grp: usize, dx: &mut [f32]) {
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
fn forward(g: &Geom, x: &[f32], w: &[f32], epi: Option<&Epilogue>) -> Vec<f32> {
    forward_scaled(g, x, None, w, epi)
}

/// [`forward`] of `x` with each input plane first multiplied by `scale` (`[n, c]`) when given;
/// only 1×1 convolutions with stride 1, no padding and one group take a scale ([`Geom::scalable`]).
fn forward_scaled(
    g: &Geom,
    x: &[f32],
    scale: Option<&[f32]>,
    w: &[f32],
    epi: Option<&Epilogue>,
) -> Vec<f32> {
    if scale.is_none() {
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

fn backward_input(g: &Geom, dy: &[f32], w: &[f32]) -> Vec<f32> {
    if let Some(s) = g.winograd() {
        return winograd::backward_input(&s, dy, w);
    }
    let mut dx = vec![0f32; g.n * g.c * g.hw()];
    if g.depthwise() {
        dw_backward_input(g, dy, w, &mut dx);
        return dx;
    }
    let (s, parallel, par) = plan(g);
    let (k, l, og, ol, chw) = (g.k(), g.l(), g.og(), g.o * g.l(), g.c * g.hw());
    let direct = g.direct();
    for_chunks(&mut dx, chw, s, parallel, |n0, dxc| {
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
    });
    dx
}

fn backward_weight(g: &Geom, dy: &[f32], x: &[f32]) -> Vec<f32> {
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
    let add = |ch, acc: &mut [f32], (cols, dyg): &mut (Vec<f32>, Vec<f32>)| {
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
            // dW_g [og × k] += dyg [og × sl] · colsᵀ [sl × k]
            // SAFETY: acc holds o × k; the slices cover the strided matrices.
            unsafe {
                matmul(
                    (og, k, sl),
                    acc[grp * og * k..].as_mut_ptr(),
                    k,
                    true,
                    (dyg.as_ptr(), sl, 1),
                    (cols.as_ptr(), 1, sl),
                    par,
                )
            };
        }
    };
    sum_chunks(g.n.div_ceil(s), wlen, parallel, add)
}

/// A zero-padded copy of one input plane, split by phase modulo the stride in both directions:
/// padded pixel `(r, q)` lies in sub-plane `(r mod s, q mod s)` at row `r / s`, column `q / s`.
/// Every kernel tap then reads a contiguous run of one sub-plane: output `(oh, ow)` of tap
/// `(i, j)` sits at `tap(i, j) + oh·wq + ow` for any stride or dilation. Outputs are computed on
/// that pitch (`wq ≥ ow`), so one run of `(oh − 1)·wq + ow` elements covers the whole plane — long
/// vectorised loops even for 2×2 maps; the extra columns are dropped (forward) or kept zero
/// (backward).
struct Padded {
    /// Stride.
    s: usize,
    /// Rows and columns of a sub-plane.
    hq: usize,
    wq: usize,
    /// Elements of one run.
    run: usize,
}

impl Padded {
    fn new(g: &Geom) -> Self {
        let s = g.p.stride;
        let wq = (g.w + 2 * g.p.pad).div_ceil(s);
        Self {
            s,
            hq: (g.h + 2 * g.p.pad).div_ceil(s),
            wq,
            run: (g.oh - 1) * wq + g.ow,
        }
    }
    fn len(&self) -> usize {
        self.s * self.s * self.hq * self.wq
    }
    /// Offset of the run tap `(i, j)` reads (forward, weight gradient) or writes (input gradient).
    #[inline(always)]
    fn tap(&self, g: &Geom, i: usize, j: usize) -> usize {
        let (id, jd, s) = (i * g.p.dilation, j * g.p.dilation, self.s);
        ((id % s) * s + jd % s) * self.hq * self.wq + (id / s) * self.wq + jd / s
    }
    /// The sub-plane row slice of padded row `r`, phase `ph`: `(offset, first image column of
    /// that phase, its index in the sub-plane row)`; `None` when the phase has no image column.
    #[inline(always)]
    fn rows(&self, g: &Geom, ih: usize) -> impl Iterator<Item = (usize, usize, usize)> {
        let (s, p, w, wq, hq) = (self.s, g.p.pad, g.w, self.wq, self.hq);
        let r = ih + p;
        (0..s).filter_map(move |ph| {
            let iw0 = (ph + s - p % s) % s;
            let off = (((r % s) * s + ph) * hq + r / s) * wq;
            (iw0 < w).then_some((off, iw0, (iw0 + p) / s))
        })
    }
    /// Copies `plane` (`[h, w]`) into `buf`, zero elsewhere.
    #[inline(always)]
    fn fill(&self, g: &Geom, plane: &[f32], buf: &mut Vec<f32>) {
        buf.clear();
        buf.resize(self.len(), 0.0);
        for (ih, src) in plane.chunks_exact(g.w).enumerate() {
            for (off, iw0, k0) in self.rows(g, ih) {
                let dst = &mut buf[off + k0..off + self.wq];
                if self.s == 1 {
                    dst[..g.w].copy_from_slice(src);
                    continue;
                }
                for (d, &v) in dst.iter_mut().zip(src[iw0..].iter().step_by(self.s)) {
                    *d = v;
                }
            }
        }
    }
    /// Writes the image part of `buf` to `plane` (`[h, w]`): the inverse of [`Padded::fill`].
    #[inline(always)]
    fn crop_into(&self, g: &Geom, buf: &[f32], plane: &mut [f32]) {
        for (ih, dst) in plane.chunks_exact_mut(g.w).enumerate() {
            for (off, iw0, k0) in self.rows(g, ih) {
                let src = &buf[off + k0..off + self.wq];
                if self.s == 1 {
                    dst.copy_from_slice(&src[..g.w]);
                    continue;
                }
                for (d, &v) in dst[iw0..].iter_mut().step_by(self.s).zip(src) {
                    *d = v;
                }
            }
        }
    }
    /// Copies an output plane (`[oh, ow]`) onto the pitch `wq`, zero in the extra columns.
    #[inline(always)]
    fn spread(&self, g: &Geom, plane: &[f32], ext: &mut Vec<f32>) {
        ext.clear();
        ext.resize(self.run, 0.0);
        for (oh, row) in plane.chunks_exact(g.ow).enumerate() {
            ext[oh * self.wq..][..g.ow].copy_from_slice(row);
        }
    }
}

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

/// Depthwise convolution of small maps (at most [`SmallTaps::MAX_OUT`] inputs and outputs per
/// plane, e.g. the 4×4 and 2×2 maps that make up most of MobileNet's planes): the (output, tap,
/// input) triples with the input inside the image, listed once per call, so a plane costs a few
/// dozen multiply-adds instead of the padded copies and loop set-up of the general path. The
/// triples are listed in output order.
struct SmallTaps(Vec<[u32; 3]>);

impl SmallTaps {
    /// Output positions per plane up to which this path is used.
    const MAX_OUT: usize = 16;
    /// Planes per parallel task (tiny planes: amortise the task overhead).
    const PLANES_PER_TASK: usize = 64;

    fn new(g: &Geom) -> Option<Self> {
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
    fn forward(&self, g: &Geom, x: &[f32], w: &[f32], y: &mut [f32], epi: Option<&Epilogue>) {
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

    fn backward_input(&self, g: &Geom, dy: &[f32], w: &[f32], dx: &mut [f32]) {
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

    fn backward_weight(&self, g: &Geom, dy: &[f32], x: &[f32], dw: &mut [f32]) {
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

/// Depthwise forward: output channel `o` reads input channel `o / m` (`m = o_total / c`). One
/// task per input plane, which computes the `m` output planes that read it (adjacent in `y`).
fn dw_forward(g: &Geom, x: &[f32], w: &[f32], y: &mut [f32], epi: Option<&Epilogue>) {
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
fn dw_backward_input(g: &Geom, dy: &[f32], w: &[f32], dx: &mut [f32]) {
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
fn dw_backward_weight(g: &Geom, dy: &[f32], x: &[f32], dw: &mut [f32]) {
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

/// The forward op: `(x, weight) → y`; its backward calls [`BackwardInput`] and
/// [`BackwardWeight`]. With an epilogue, `(x, weight) → epilogue(y)` for inference, without a
/// backward pass.
struct Forward(ConvParams, Option<Epilogue>);
/// `(dy, weight) → dx` for an input of the given shape.
struct BackwardInput(ConvParams, [usize; 4]);
/// `(dy, x) → dW` for a weight of the given shape.
struct BackwardWeight(ConvParams, [usize; 4]);

impl CustomOp2 for Forward {
    fn name(&self) -> &'static str {
        "greenbench-conv2d"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = Geom::new(l1.dims(), l2.dims(), self.0)?;
        if let Some(e) = self.1.as_ref().filter(|e| e.channels() != g.o) {
            candle_core::bail!(
                "conv2d (eval): {} batch-norm channels for {} outputs",
                e.channels(),
                g.o
            )
        }
        let (x, w) = (f32_slice(s1, l1, OP)?, f32_slice(s2, l2, OP)?);
        let y = forward(&g, x, w, self.1.as_ref());
        Ok((CpuStorage::F32(y), Shape::from((g.n, g.o, g.oh, g.ow))))
    }
    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        if self.1.is_some() {
            candle_core::bail!(
                "conv2d (eval) has no backward pass: it is meant for candle_core::op::no_grad"
            )
        }
        let dy = dy.contiguous()?;
        let xd = dims4(x)?;
        let wd = dims4(w)?;
        // A network's input images track no gradient: their `dx` (an im2col-sized product
        // and col2im at the highest resolution) would be computed only to be dropped.
        let dx = x
            .track_op()
            .then(|| dy.apply_op2_no_bwd(&w.contiguous()?, &BackwardInput(self.0, xd)))
            .transpose()?;
        let dw = w
            .track_op()
            .then(|| dy.apply_op2_no_bwd(&x.contiguous()?, &BackwardWeight(self.0, wd)))
            .transpose()?;
        Ok((dx, dw))
    }
}

fn dims4(t: &Tensor) -> Result<[usize; 4]> {
    let (a, b, c, d) = t.dims4()?;
    Ok([a, b, c, d])
}

impl CustomOp2 for BackwardInput {
    fn name(&self) -> &'static str {
        "greenbench-conv2d-backward-input"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = Geom::new(&self.1, l2.dims(), self.0)?;
        if l1.dims() != [g.n, g.o, g.oh, g.ow] {
            candle_core::bail!("conv2d backward: gradient shape {:?}", l1.dims())
        }
        let dx = backward_input(&g, f32_slice(s1, l1, OP)?, f32_slice(s2, l2, OP)?);
        Ok((CpuStorage::F32(dx), Shape::from(self.1.to_vec())))
    }
}

impl CustomOp2 for BackwardWeight {
    fn name(&self) -> &'static str {
        "greenbench-conv2d-backward-weight"
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let g = Geom::new(l2.dims(), &self.1, self.0)?;
        if l1.dims() != [g.n, g.o, g.oh, g.ow] {
            candle_core::bail!("conv2d backward: gradient shape {:?}", l1.dims())
        }
        let dw = backward_weight(&g, f32_slice(s1, l1, OP)?, f32_slice(s2, l2, OP)?);
        Ok((CpuStorage::F32(dw), Shape::from(self.1.to_vec())))
    }
}

/// `epi(conv(x, weight))` in one op for inference (eval-mode batch-norm and activation applied
/// to each output plane as it is made). f32 CPU tensors only, and no backward pass: callers use
/// it only under `candle_core::op::no_grad` and fall back to separate ops otherwise.
pub fn conv2d_eval(x: &Tensor, weight: &Tensor, p: ConvParams, epi: Epilogue) -> Result<Tensor> {
    if !super::use_custom(x) {
        candle_core::bail!("conv2d (eval) runs on f32 CPU tensors only")
    }
    x.contiguous()?
        .apply_op2_no_bwd(&weight.contiguous()?, &Forward(p, Some(epi)))
}

/// `(x, scale, weight) → epi(conv(x ⊙ scale, weight))`, inference only.
struct ScaledForward(ConvParams, Epilogue);

impl CustomOp3 for ScaledForward {
    fn name(&self) -> &'static str {
        "greenbench-conv2d-scaled"
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
        let g = Geom::new(l1.dims(), l3.dims(), self.0)?;
        if !g.scalable() {
            candle_core::bail!(
                "conv2d (scaled input): only 1×1 convolutions with stride 1, no padding and one \
                 group take a per-channel input scale, got weight {:?} and {:?}",
                l3.dims(),
                self.0
            )
        }
        if l2.dims() != [g.n, g.c, 1, 1] {
            candle_core::bail!(
                "conv2d (scaled input): scale of shape {:?} for input {:?}; expected [{}, {}, 1, 1]",
                l2.dims(),
                l1.dims(),
                g.n,
                g.c
            )
        }
        if self.1.channels() != g.o {
            candle_core::bail!(
                "conv2d (scaled input): {} batch-norm channels for {} outputs",
                self.1.channels(),
                g.o
            )
        }
        let (x, sc, w) = (
            f32_slice(s1, l1, OP)?,
            f32_slice(s2, l2, OP)?,
            f32_slice(s3, l3, OP)?,
        );
        let y = forward_scaled(&g, x, Some(sc), w, Some(&self.1));
        Ok((CpuStorage::F32(y), Shape::from((g.n, g.o, g.oh, g.ow))))
    }
}

/// Whether [`conv2d_eval_scaled`] takes a convolution with this `(kh, kw)` kernel and these
/// parameters: a 1×1 kernel with stride 1, no padding and one group.
pub fn takes_input_scale(kernel: (usize, usize), p: ConvParams) -> bool {
    kernel == (1, 1) && p.stride == 1 && p.pad == 0 && p.groups == 1
}

/// `epi(conv(x ⊙ scale, weight))` in one inference-only op, for a 1×1 convolution (stride 1,
/// no padding, one group) whose input planes are first scaled per sample and channel by `scale`
/// `[n, c, 1, 1]`: the excitation of squeeze-and-excitation followed by an MBConv block's
/// projection. The scale goes into the im2col columns, or into a per-sample copy of the weight,
/// instead of a full-size scaled copy of `x`. f32 CPU tensors only, no backward pass.
pub fn conv2d_eval_scaled(
    x: &Tensor,
    scale: &Tensor,
    weight: &Tensor,
    p: ConvParams,
    epi: Epilogue,
) -> Result<Tensor> {
    if !super::use_custom(x) {
        candle_core::bail!("conv2d (scaled input) runs on f32 CPU tensors only")
    }
    x.contiguous()?.apply_op3_no_bwd(
        &scale.contiguous()?,
        &weight.contiguous()?,
        &ScaledForward(p, epi),
    )
}

/// Whether a convolution of an input of dims `x` with a weight of dims `w` runs as Winograd
/// F(2×2, 3×3) on the CPU (see `ops/winograd.rs`); false for shapes that do not fit.
pub fn uses_winograd(x: &[usize], w: &[usize], p: ConvParams) -> bool {
    Geom::new(x, w, p).is_ok_and(|g| g.winograd().is_some())
}

/// `x` `[n, c, h, w]` convolved with `weight` `[o, c/groups, kh, kw]` (PyTorch semantics, no
/// bias). f32 on the CPU runs the custom op; anything else runs candle's `conv2d`.
pub fn conv2d(x: &Tensor, weight: &Tensor, p: ConvParams) -> Result<Tensor> {
    if super::use_custom(x) {
        x.contiguous()?
            .apply_op2(&weight.contiguous()?, Forward(p, None))
    } else {
        x.conv2d(weight, p.pad, p.stride, p.dilation, p.groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::max_rel_diff;
    use crate::ops::testing::rand;
    use candle_core::Var;

    /// Outputs and both gradients equal candle's `conv2d` (within 1e-4, relative to the largest
    /// magnitude) over dense, strided, padded, dilated, grouped, depthwise and 1×1 cases.
    #[test]
    fn matches_candle_conv2d_forward_and_backward() -> Result<()> {
        // (n, c, h, w, o, k, stride, pad, dilation, groups)
        let cases = [
            (2, 3, 8, 8, 4, 3, 1, 1, 1, 1),
            (3, 4, 9, 7, 6, 3, 2, 1, 1, 1),
            (2, 4, 8, 8, 4, 3, 1, 2, 2, 1),
            (2, 6, 7, 7, 4, 3, 2, 0, 1, 2),
            (2, 8, 6, 6, 8, 3, 1, 1, 1, 4),
            (2, 5, 8, 8, 5, 3, 1, 1, 1, 5),
            (2, 4, 9, 9, 8, 5, 2, 2, 1, 4),
            (2, 3, 7, 7, 3, 3, 1, 2, 2, 3),
            (4, 6, 5, 5, 7, 1, 1, 0, 1, 1),
            (3, 6, 6, 6, 4, 1, 2, 0, 1, 1),
            (1, 2, 5, 5, 3, 5, 1, 0, 1, 1),
            // Unpadded stride 1 (LeNet's layers; im2col copies whole output rows): LeNet's
            // second layer, a non-square map, rows wider than 32, grouped, and dilated (the
            // general copy).
            (4, 6, 14, 14, 16, 5, 1, 0, 1, 1),
            (3, 3, 12, 9, 4, 5, 1, 0, 1, 1),
            (2, 2, 6, 40, 3, 3, 1, 0, 1, 1),
            (2, 4, 9, 8, 6, 3, 1, 0, 1, 2),
            (2, 3, 9, 9, 4, 3, 1, 0, 2, 1),
            (40, 8, 2, 2, 4, 1, 1, 0, 1, 1),
            (37, 5, 4, 4, 6, 3, 1, 1, 1, 1),
            (8, 32, 16, 16, 32, 3, 1, 1, 1, 32),
            (8, 64, 8, 8, 64, 3, 2, 1, 1, 64),
            (8, 256, 2, 2, 128, 1, 1, 0, 1, 1),
            // 1×1 on maps of 64 positions or more: one product per sample, no column copy.
            (3, 16, 8, 8, 8, 1, 1, 0, 1, 1),
            (2, 8, 9, 11, 12, 1, 1, 0, 1, 1),
            (8, 3, 32, 32, 32, 3, 1, 1, 1, 1),
            // Stride 1 with output rows as wide as the input's (the shifted-copy im2col): 5×5
            // with padding 2 on a non-square map, and grouped.
            (2, 6, 7, 5, 4, 5, 1, 2, 1, 1),
            (2, 8, 5, 9, 8, 5, 1, 2, 1, 2),
            // Dense 3×3, stride 1, padding 1, 64+ outputs, 256+ output tiles (Winograd
            // F(2×2, 3×3)): even, odd and non-square maps, maps of one and 2×3 pixels, chunks of
            // several samples, and a call just under the tile threshold (im2col).
            (2, 32, 32, 32, 64, 3, 1, 1, 1, 1),
            (8, 16, 15, 17, 64, 3, 1, 1, 1, 1),
            (33, 24, 5, 6, 65, 3, 1, 1, 1, 1),
            (260, 16, 1, 1, 64, 3, 1, 1, 1, 1),
            (130, 16, 2, 3, 64, 3, 1, 1, 1, 1),
            (7, 16, 8, 8, 64, 3, 1, 1, 1, 1),
            // Depthwise: odd and non-square maps, 3×3 and 5×5 at strides 1–3, multiplier 3,
            // maps smaller than the kernel (non-square maps where candle's backward, which takes
            // its output padding from the height only, is right).
            (3, 6, 9, 7, 6, 3, 2, 1, 1, 6),
            (2, 4, 11, 11, 4, 5, 2, 2, 1, 4),
            (2, 4, 8, 7, 4, 5, 1, 2, 1, 4),
            (2, 3, 10, 9, 9, 3, 1, 1, 1, 3),
            (2, 3, 10, 10, 3, 3, 3, 0, 1, 3),
            (2, 2, 7, 9, 6, 3, 2, 0, 1, 2),
            (2, 2, 2, 2, 2, 3, 1, 1, 1, 2),
            (3, 4, 1, 1, 4, 3, 1, 1, 1, 4),
            (2, 3, 5, 7, 3, 5, 2, 2, 1, 3),
            // Grouped with several channels per group: odd sizes, stride, padding.
            (3, 16, 7, 9, 24, 3, 2, 1, 1, 4),
            (2, 12, 5, 5, 12, 3, 1, 1, 1, 6),
            (5, 16, 4, 4, 16, 3, 1, 1, 1, 2),
            // Depthwise on small maps (the triple-list path), with multiplier and stride.
            (2, 3, 4, 4, 6, 3, 1, 1, 1, 3),
            (3, 4, 4, 4, 4, 3, 2, 1, 1, 4),
            (2, 6, 2, 2, 6, 5, 1, 2, 1, 6),
            (2, 4, 3, 5, 4, 3, 1, 0, 1, 4),
        ];
        let mut winograd = 0;
        for (n, c, h, w, o, k, stride, pad, dilation, groups) in cases {
            let p = ConvParams {
                stride,
                pad,
                dilation,
                groups,
            };
            winograd += usize::from(uses_winograd(&[n, c, h, w], &[o, c / groups, k, k], p));
            let x = Var::from_tensor(&rand(&[n, c, h, w])?)?;
            let wt = Var::from_tensor(&rand(&[o, c / groups, k, k])?)?;
            let ours = conv2d(&x, &wt, p)?;
            let theirs = x.conv2d(&wt, pad, stride, dilation, groups)?;
            assert_eq!(ours.dims(), theirs.dims(), "{p:?}");
            assert!(max_rel_diff(&ours, &theirs)? < 1e-4, "forward {p:?}");
            let probe = rand(ours.dims())?;
            let g1 = (ours * &probe)?.sum_all()?.backward()?;
            let g2 = (theirs * &probe)?.sum_all()?.backward()?;
            for (v, what) in [(x.as_tensor(), "input"), (wt.as_tensor(), "weight")] {
                let (Some(a), Some(b)) = (g1.get(v), g2.get(v)) else {
                    panic!("no {what} gradient for {p:?}")
                };
                let d = max_rel_diff(a, b)?;
                assert!(d < 1e-4, "{what} gradient {p:?}: {d}");
            }
        }
        assert_eq!(winograd, 5, "the Winograd cases took another path");
        Ok(())
    }

    /// An input that tracks no gradient (a batch of images) gets none, and the weight's gradient
    /// is the same as when the input is a variable.
    #[test]
    fn untracked_input_gets_no_gradient() -> Result<()> {
        let p = ConvParams {
            stride: 1,
            pad: 1,
            dilation: 1,
            groups: 1,
        };
        let (xt, w) = (
            rand(&[3, 4, 6, 6])?,
            Var::from_tensor(&rand(&[5, 4, 3, 3])?)?,
        );
        let xv = Var::from_tensor(&xt)?;
        let plain = conv2d(&xt, &w, p)?.sqr()?.sum_all()?.backward()?;
        let tracked = conv2d(&xv, &w, p)?.sqr()?.sum_all()?.backward()?;
        assert!(
            plain.get(&xt).is_none(),
            "an untracked input got a gradient"
        );
        assert!(
            tracked.get(&xv).is_some(),
            "a variable input got no gradient"
        );
        let (a, b) = (plain.get(&w), tracked.get(&w));
        let (Some(a), Some(b)) = (a, b) else {
            panic!("the weight got no gradient")
        };
        assert_eq!(max_rel_diff(a, b)?, 0.0);
        Ok(())
    }

    /// The scaled 1×1 convolution equals the eval convolution of the explicitly scaled input,
    /// on the one-product-per-sample path (8×8 maps), the chunked path (4×4 and 2×2 maps, several
    /// samples side by side) and one input channel; any other geometry or scale shape is refused.
    #[test]
    fn scaled_input_equals_scaling_first() -> Result<()> {
        let p = ConvParams {
            stride: 1,
            pad: 0,
            dilation: 1,
            groups: 1,
        };
        for (n, c, h, o) in [(3, 6, 8, 5), (37, 6, 4, 7), (40, 5, 2, 4), (9, 1, 2, 3)] {
            let (x, s, w) = (
                rand(&[n, c, h, h])?,
                rand(&[n, c, 1, 1])?,
                rand(&[o, c, 1, 1])?,
            );
            let (wt, b, mean) = (rand(&[o])?, rand(&[o])?, rand(&[o])?);
            let var = rand(&[o])?.abs()?;
            let v = |t: &Tensor| t.to_vec1::<f32>();
            let epi = || -> Result<Epilogue> {
                Ok(Epilogue::batch_norm(
                    (&v(&wt)?, &v(&b)?),
                    (&v(&mean)?, &v(&var)?),
                    1e-5,
                    super::super::epilogue::Act::Silu,
                ))
            };
            let ours = conv2d_eval_scaled(&x, &s, &w, p, epi()?)?;
            let theirs = conv2d_eval(&x.broadcast_mul(&s)?, &w, p, epi()?)?;
            let diff = max_rel_diff(&ours, &theirs)?;
            assert!(diff < 1e-5, "n={n} c={c} {h}×{h} o={o}: differs by {diff}");
        }
        let (x, s) = (rand(&[2, 4, 5, 5])?, rand(&[2, 4, 1, 1])?);
        let epi = |o: usize| {
            Epilogue::batch_norm(
                (&vec![1.0; o], &vec![0.0; o]),
                (&vec![0.0; o], &vec![1.0; o]),
                1e-5,
                super::super::epilogue::Act::Identity,
            )
        };
        let err = conv2d_eval_scaled(&x, &s, &rand(&[3, 4, 3, 3])?, p, epi(3)).unwrap_err();
        assert!(err.to_string().contains("only 1×1"), "{err}");
        let bad_scale = rand(&[2, 3, 1, 1])?;
        let err = conv2d_eval_scaled(&x, &bad_scale, &rand(&[3, 4, 1, 1])?, p, epi(3)).unwrap_err();
        assert!(err.to_string().contains("scale of shape"), "{err}");
        // The layers ask `takes_input_scale` before choosing this op: it agrees with the refusal.
        assert!(takes_input_scale((1, 1), p));
        assert!(!takes_input_scale((3, 3), p));
        assert!(!takes_input_scale((1, 1), ConvParams { stride: 2, ..p }));
        assert!(!takes_input_scale((1, 1), ConvParams { groups: 2, ..p }));
        Ok(())
    }

    #[test]
    fn bad_shapes_are_errors() -> Result<()> {
        let p = ConvParams {
            stride: 1,
            pad: 0,
            dilation: 1,
            groups: 2,
        };
        assert!(conv2d(&rand(&[1, 3, 5, 5])?, &rand(&[2, 1, 3, 3])?, p).is_err());
        let p1 = ConvParams { groups: 1, ..p };
        assert!(conv2d(&rand(&[1, 3, 2, 2])?, &rand(&[2, 3, 3, 3])?, p1).is_err());
        Ok(())
    }
}
