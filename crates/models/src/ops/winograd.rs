//! Winograd F(2×2, 3×3) for dense 3×3 convolutions with stride 1 and padding 1 (the bulk of
//! VGG, the ResNets, DLA, SENet, and group by group ResNeXt): each 2×2 block of outputs is
//! computed from a 4×4 input tile with 16 products per channel pair instead of 36, so the
//! matrix products do 2.25× fewer multiply-adds than im2col. The same transforms give the two
//! gradients exactly (each pass is the adjoint of a linear map), so training uses it in all
//! three passes:
//!
//! - forward: `V = Bᵀ·x·B` per tile, `M[ξ] = U[ξ]·V[ξ]` for the 16 tile positions `ξ`, with
//!   `U = G·w·Gᵀ`, then `y = Aᵀ·M·A`;
//! - input gradient: `dM = A·dy·Aᵀ`, `dV[ξ] = U[ξ]ᵀ·dM[ξ]`, `dx += B·dV·Bᵀ` (overlapping tiles add);
//! - weight gradient: `dU[ξ] = Σ dM[ξ]·V[ξ]ᵀ` over all tiles, `dw = Gᵀ·dU·G`.
//!
//! The transforms' coefficients are 0, ±1 and ±½, so the rounding error stays at the level of
//! the direct sum (the tests hold it to candle's `conv2d` within 1e-4). Work is split over chunks
//! of whole samples on rayon's pool, as in the im2col path.

use gemm::Parallelism;
use rayon::prelude::*;

use super::cpu::{
    filled, for_chunks, matmul, simd, sum_chunks, sum_chunks_writing, with_scratch, SendPtr,
};
use super::epilogue::Epilogue;

/// Positions of a transformed 4×4 tile.
const XI: usize = 16;

/// Tiles per call below which im2col is as fast: with few tiles (VGG's 2×2 maps at batch 32, 32
/// tiles) each transformed weight `U` (16/9 the weight's size, rebuilt every call) is used for too
/// few columns, and the products become memory-bound. Measured per layer shape on 2 threads
/// (`examples/conv_layers.rs`, docs/performance.md) with the transforms at the CPU's vector
/// width: 4×4 maps at batch 32 (128 tiles) 1.09–1.18× im2col's speed, 2×2 maps at batch 32
/// 0.88×, 8×8 maps at batch 32 (512 tiles) 1.2–1.4×.
pub(super) const MIN_TILES: usize = 128;

/// Tiles a chunk aims at: the column count of its 16 products (512 was no faster for the weight
/// gradient's, whose inner dimension it is).
const CHUNK_TILES: usize = 128;

/// Sizes of one Winograd convolution: `n` samples of `c` channels on an `h×w` map into `o`
/// channels of the same size, in `groups` groups (each group's `o / groups` outputs see only
/// its `c / groups` inputs: the weight is `[o, c / groups, 3, 3]`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Wino {
    pub(super) n: usize,
    pub(super) c: usize,
    pub(super) o: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) groups: usize,
}

impl Wino {
    /// Input channels per group.
    fn cg(&self) -> usize {
        self.c / self.groups
    }
    /// Output channels per group.
    fn og(&self) -> usize {
        self.o / self.groups
    }
    /// Tile rows (2×2 outputs each; the last row is cropped on maps of odd height).
    fn th(&self) -> usize {
        self.h.div_ceil(2)
    }
    /// Tile columns (the last column is cropped on maps of odd width).
    fn tw(&self) -> usize {
        self.w.div_ceil(2)
    }
    /// Tiles per sample.
    fn tiles(&self) -> usize {
        self.th() * self.tw()
    }
    /// Tiles of the whole call.
    pub(super) fn call_tiles(&self) -> usize {
        self.n * self.tiles()
    }
    /// Samples per chunk: about [`CHUNK_TILES`] tiles for the products' columns, at most 4 Mi
    /// f32 of transformed tiles, and at least one chunk per thread.
    fn chunk(&self) -> usize {
        let t = self.tiles().max(1);
        let want = CHUNK_TILES.div_ceil(t);
        let cap = ((1usize << 22) / (XI * self.c.max(self.o) * t)).max(1);
        let threads = rayon::current_num_threads().max(1);
        want.min(cap).min(self.n.div_ceil(threads)).max(1)
    }
    /// Chunks in parallel (one thread each) when there are enough for every thread; otherwise
    /// one after another, each product on all threads.
    fn plan(&self) -> (usize, bool, Parallelism) {
        let s = self.chunk();
        let threads = rayon::current_num_threads().max(1);
        if self.n.div_ceil(s) >= threads || threads == 1 {
            (s, true, Parallelism::None)
        } else {
            (s, false, Parallelism::Rayon(threads))
        }
    }
}

/// A 1-D transform: `R` outputs, each a combination of `C` inputs.
type Mat<const R: usize, const C: usize> = [[f32; C]; R];

/// B, the adjoint of Bᵀ (the input transform, [`input_tiles`]): transformed gradient → input
/// tile gradient.
const B: Mat<4, 4> = [
    [1.0, 0.0, 0.0, 0.0],
    [0.0, 1.0, -1.0, 1.0],
    [-1.0, 1.0, 1.0, 0.0],
    [0.0, 0.0, 0.0, -1.0],
];
/// Aᵀ: product tile → 2×2 outputs.
const AT: Mat<2, 4> = [[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]];
/// A, the adjoint of [`AT`] (output gradient → product tile gradient).
const A: Mat<4, 2> = [[1.0, 0.0], [1.0, 1.0], [1.0, -1.0], [0.0, -1.0]];
/// G: 3×3 kernel → transformed kernel.
const G: Mat<4, 3> = [
    [1.0, 0.0, 0.0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0.0, 0.0, 1.0],
];
/// Gᵀ, the adjoint of [`G`] (transformed kernel gradient → kernel gradient).
const GT: Mat<3, 4> = [
    [1.0, 0.5, 0.5, 0.0],
    [0.0, 0.5, -0.5, 0.0],
    [0.0, 0.5, 0.5, 1.0],
];

/// `o = Σ c·x` over `terms` with non-zero `c`, element by element: the first three in one
/// vectorised pass (every row of the transforms here has two or three), any more added after.
#[inline(always)]
fn combine<'a>(o: &mut [f32], terms: impl Iterator<Item = (f32, &'a [f32])>) {
    let n = o.len();
    let mut rest = terms.filter(|t| t.0 != 0.0);
    match [rest.next(), rest.next(), rest.next()] {
        [None, ..] => o.fill(0.0),
        [Some((a, x)), None, _] => o.iter_mut().zip(&x[..n]).for_each(|(d, &u)| *d = a * u),
        [Some((a, x)), Some((b, y)), None] => {
            let xy = x[..n].iter().zip(&y[..n]);
            o.iter_mut()
                .zip(xy)
                .for_each(|(d, (&u, &v))| *d = a * u + b * v)
        }
        [Some((a, x)), Some((b, y)), Some((c, z))] => {
            let xyz = x[..n].iter().zip(&y[..n]).zip(&z[..n]);
            o.iter_mut()
                .zip(xyz)
                .for_each(|(d, ((&u, &v), &w))| *d = a * u + b * v + c * w)
        }
    }
    for (c, x) in rest {
        o.iter_mut().zip(&x[..n]).for_each(|(d, &u)| *d += c * u);
    }
}

/// `out[i][j] = Σ_p Σ_q l[i][p]·x[p][q]·r[j][q]` on `n` lanes at once: the 2-D transform of `n`
/// tiles (or kernels), each matrix element a run of `n` lanes. Run `(p, q)` of `x` starts at
/// `x_at(p·Q + q)`, run `(i, j)` of `out` at `out_at(i·J + j)`; `tmp` holds `I·Q·n`.
#[inline(always)]
fn sandwich<const I: usize, const P: usize, const J: usize, const Q: usize>(
    (l, r): (&Mat<I, P>, &Mat<J, Q>),
    n: usize,
    (x, x_at): (&[f32], impl Fn(usize) -> usize),
    tmp: &mut [f32],
    (out, out_at): (&mut [f32], impl Fn(usize) -> usize),
) {
    for (i, li) in l.iter().enumerate() {
        for q in 0..Q {
            let terms = li.iter().enumerate();
            let t = &mut tmp[(i * Q + q) * n..][..n];
            combine(t, terms.map(|(p, &c)| (c, &x[x_at(p * Q + q)..][..n])));
        }
    }
    for i in 0..I {
        for (j, rj) in r.iter().enumerate() {
            let terms = rj.iter().enumerate();
            let o = &mut out[out_at(i * J + j)..][..n];
            combine(o, terms.map(|(q, &c)| (c, &tmp[(i * Q + q) * n..][..n])));
        }
    }
}

/// Kernels per block of the weight transforms.
const KB: usize = 256;

/// `U = G·g·Gᵀ` for every kernel of the `[o, c / groups, 3, 3]` weight, laid out
/// `[ξ][o][c / groups]`; blocks of [`KB`] kernels in parallel (the largest weights, 512×512, give
/// 4 Mi transformed values).
fn weight_tiles(s: &Wino, w: &[f32]) -> Vec<f32> {
    let oc = s.o * s.cg();
    let buffers = || (vec![0f32; 9 * KB], vec![0f32; 12 * KB], vec![0f32; XI * KB]);
    let fill = |u: &mut [f32]| {
        let dst = SendPtr(u.as_mut_ptr());
        w.par_chunks(9 * KB)
            .enumerate()
            .for_each_init(buffers, |(taps, tmp, out), (bi, blk)| {
                let (p0, n) = (bi * KB, blk.len() / 9);
                simd(
                    #[inline(always)]
                    || {
                        // Tap `t` of every kernel into run `t` (run by run: the tap-by-tap
                        // scatter reloaded `n` and checked bounds at every store).
                        for (t, run) in taps[..9 * n].chunks_exact_mut(n).enumerate() {
                            for (d, &v) in run.iter_mut().zip(blk[t..].iter().step_by(9)) {
                                *d = v;
                            }
                        }
                        let io = (&mut out[..], |x: usize| x * n);
                        sandwich((&G, &G), n, (&taps[..], |t| t * n), tmp, io);
                    },
                );
                assert!(p0 + n <= oc, "weight block outside the weight");
                for (x, run) in out[..XI * n].chunks_exact(n).enumerate() {
                    // SAFETY: run `x < 16` of this block is `[x·oc + p0, +n)` of `u` (p0 + n ≤
                    // oc, checked above): inside it, and written by no other block.
                    unsafe { dst.slice(x * oc + p0, n) }.copy_from_slice(run);
                }
            });
    };
    // SAFETY: the blocks cover every kernel `p0 … p0 + n` of `0 … oc` and each writes its 16
    // runs, so every element is written before the products read it.
    unsafe { filled(XI * oc, fill) }
}

/// `dw = Gᵀ·dU·G` for every kernel: the adjoint of [`weight_tiles`], blocks in parallel.
fn weight_grad(s: &Wino, du: &[f32]) -> Vec<f32> {
    let oc = s.o * s.cg();
    let buffers = || (vec![0f32; 9 * KB], vec![0f32; 12 * KB]);
    let fill = |dw: &mut [f32]| {
        dw.par_chunks_mut(9 * KB)
            .enumerate()
            .for_each_init(buffers, |(taps, tmp), (bi, blk)| {
                let (p0, n) = (bi * KB, blk.len() / 9);
                simd(
                    #[inline(always)]
                    || {
                        let io = (&mut taps[..], |t: usize| t * n);
                        sandwich((&GT, &GT), n, (du, |x| x * oc + p0), tmp, io);
                        for (t, run) in taps[..9 * n].chunks_exact(n).enumerate() {
                            for (d, &v) in blk[t..].iter_mut().step_by(9).zip(run) {
                                *d = v;
                            }
                        }
                    },
                );
            });
    };
    // SAFETY: each block writes all 9 taps of each of its kernels, and the blocks cover `dw`.
    unsafe { filled(9 * oc, fill) }
}

/// Every row of tiles of a block of `chans` channels × `sc` samples, as `(plane, ty, lane)`: the
/// plane `(sample, channel)` it lies in (`si·channels + first + k`, for a layer of `channels`
/// channels whose block starts at `first`), its tile row, and the first of its `tw` lanes (the
/// lanes of block channel `k` start at `k·sc·tiles`, those of sample `si` `si·tiles` after).
fn tile_rows(
    s: &Wino,
    (sc, chans): (usize, usize),
    (channels, first): (usize, usize),
) -> impl Iterator<Item = (usize, usize, usize)> {
    let (th, tw, tiles) = (s.th(), s.tw(), s.tiles());
    (0..chans).flat_map(move |k| {
        (0..sc).flat_map(move |si| {
            let plane = si * channels + first + k;
            (0..th).map(move |ty| (plane, ty, (k * sc + si) * tiles + ty * tw))
        })
    })
}

/// Lanes the transforms work on at once: the tiles of a chunk for as many channels as make
/// about this many (a late layer's chunk has only 16–64 tiles per channel).
const LANES: usize = 1024;

/// Channels per block of the transforms for `tc` tiles per channel.
fn block(tc: usize) -> usize {
    (LANES / tc.max(1)).max(1)
}

/// `(first channel, channels)` of each block of `ch` channels.
fn blocks(ch: usize, tc: usize) -> impl Iterator<Item = (usize, usize)> {
    let b = block(tc);
    (0..ch).step_by(b).map(move |c0| (c0, b.min(ch - c0)))
}

/// Scratch for the transforms of one block of channels of a chunk of `tc` tiles.
fn scratch_len(s: &Wino, tc: usize) -> usize {
    let blocked = 32 * block(tc).min(s.c.max(s.o)) * tc + 2 * (s.tw() + 1);
    blocked.max(even_map_scratch(s, tc))
}

/// `V = Bᵀ·d·B` of every 4×4 input tile of `sc` samples `xs` into `v` `[ξ][c][sc·tiles]`. Input
/// tile `(ty, tx)` covers rows `2ty−1 … 2ty+2` and columns `2tx−1 … 2tx+2`, zero outside the map.
///
/// Both halves of the transform are fused into one pass per row of tiles, straight from the
/// input rows into `v`: `Bᵀ` combines the four input rows into four padded rows `t` (a row minus
/// or plus another: the rows of `Bᵀ`), and `B` takes each tile's four columns of `t` at
/// `2tx … 2tx+3` (`t[2tx] − t[2tx+2]`, `t[2tx+1] + t[2tx+2]`, `t[2tx+2] − t[2tx+1]`,
/// `t[2tx+1] − t[2tx+3]`). The same sums in the same order as the rows-then-columns transform
/// of each gathered tile (a test holds them to its bits), without gathering the tiles into a
/// buffer and passing over it twice first, which cost 5-10 % more time in VGG16's training
/// and inference steps at batch 32.
#[inline(always)]
fn input_tiles(s: &Wino, xs: &[f32], sc: usize, v: &mut [f32], scratch: &mut [f32]) {
    if s.h.is_multiple_of(2) && s.w.is_multiple_of(2) {
        input_tiles_even(s, xs, sc, v, scratch)
    } else {
        input_tiles_by_row(s, xs, sc, v, scratch)
    }
}

/// The rows of Bᵀ applied to four values (input rows, or a tile's columns after them):
/// `x0 − x2`, `x1 + x2`, `x2 − x1`, `x1 − x3`.
#[inline(always)]
fn bt(x0: f32, x1: f32, x2: f32, x3: f32) -> [f32; 4] {
    [x0 - x2, x1 + x2, x2 - x1, x1 - x3]
}

/// Scratch of [`input_tiles_even`] for `tc` lanes: the input's columns split by parity (`4·tc`),
/// its four quarter planes with a row of padding on each side (`4·(tc + 2·tw)`), and the eight
/// rows of `Bᵀ·d` with one lane of padding on each side (`8·(tc + 2)`).
fn even_map_scratch(s: &Wino, tc: usize) -> usize {
    4 * tc + 4 * (tc + 2 * s.tw()) + 8 * (tc + 2)
}

/// [`input_tiles`] of an even map, all tiles of a channel (its samples one after another) at
/// once, so every loop runs over `tc` lanes however small the map (a row of tiles of an 8×8
/// map is 4 lanes, too few for a vector). Each sample's plane is split by column parity, then by
/// row parity into quarter planes `q[rp][cp][ty][tx]` (pixel `(2ty + rp, 2tx + cp)`), which puts
/// a tile's rows and columns at fixed lane offsets: tile `(ty, tx)`'s input rows `2ty − 1 …
/// 2ty + 2` are quarter rows `(1, ty − 1)`, `(0, ty)`, `(1, ty)`, `(0, ty + 1)`, and its columns
/// `2tx − 1 … 2tx + 2` quarter columns `(1, tx − 1)`, `(0, tx)`, `(1, tx)`, `(0, tx + 1)`; the
/// ones outside the map are zero (a per-lane choice, not a read). The same sums in the same
/// order as [`input_tiles_by_row`].
#[inline(always)]
fn input_tiles_even(s: &Wino, xs: &[f32], sc: usize, v: &mut [f32], scratch: &mut [f32]) {
    let (c, hw, tw, tiles) = (s.c, s.h * s.w, s.tw(), s.tiles());
    let tc = sc * tiles;
    let (split, rest) = scratch.split_at_mut(4 * tc);
    let (quarters, rest) = rest.split_at_mut(4 * (tc + 2 * tw));
    let t = &mut rest[..8 * (tc + 2)];
    // Lanes on the map's edges: first or last row of tiles, first or last column.
    let edge = |f: fn(usize, usize, usize) -> bool| -> Vec<bool> {
        (0..tc).map(|l| f(l % tiles, tw, tiles)).collect()
    };
    let top = edge(|l, tw, _| l < tw);
    let bottom = edge(|l, tw, tiles| l + tw >= tiles);
    let left = edge(|l, tw, _| l % tw == 0);
    let right = edge(|l, tw, _| l % tw == tw - 1);
    for ch in 0..c {
        // Columns by parity: sample `si`'s `[h][tw]` halves at `si·2·tiles` of each.
        let (ev, od) = split.split_at_mut(2 * tc);
        for si in 0..sc {
            let plane = &xs[(si * c + ch) * hw..][..hw];
            let (e, o) = (
                &mut ev[si * 2 * tiles..][..hw / 2],
                &mut od[si * 2 * tiles..][..hw / 2],
            );
            for ((e, o), px) in e.iter_mut().zip(o.iter_mut()).zip(plane.chunks_exact(2)) {
                *e = px[0];
                *o = px[1];
            }
        }
        // Rows by parity: quarter `(rp, cp)` at `(2·rp + cp)·(tc + 2·tw) + tw`.
        let ql = tc + 2 * tw;
        for (half, cp) in [(&*ev, 0), (&*od, 1)] {
            for (pair, lanes) in half.chunks_exact(2 * tw).zip((0..tc).step_by(tw)) {
                for rp in 0..2 {
                    let q = &mut quarters[(2 * rp + cp) * ql + tw + lanes..][..tw];
                    q.copy_from_slice(&pair[rp * tw..][..tw]);
                }
            }
        }
        let quarter = |rp: usize, cp: usize| &quarters[(2 * rp + cp) * ql..][..ql];
        // t = Bᵀ·d for the even (cp = 0) and odd (cp = 1) columns: rows 0 − 2, 1 + 2, 2 − 1,
        // 1 − 3, row 0 the odd quarter row above, row 3 the even one below. Lane `l` of row
        // `(cp, i)` at `(4·cp + i)·(tc + 2) + 1 + l`.
        for cp in 0..2 {
            let (q0, q1) = (quarter(0, cp), quarter(1, cp));
            let (above, even, odd, below) = (
                &q1[..tc],
                &q0[tw..][..tc],
                &q1[tw..][..tc],
                &q0[2 * tw..][..tc],
            );
            let rows = &mut t[4 * cp * (tc + 2)..][..4 * (tc + 2)];
            let (t0, rest) = rows.split_at_mut(tc + 2);
            let (t1, rest) = rest.split_at_mut(tc + 2);
            let (t2, t3) = rest.split_at_mut(tc + 2);
            let outs = t0[1..=tc].iter_mut().zip(t1[1..=tc].iter_mut());
            let outs = outs.zip(t2[1..=tc].iter_mut().zip(t3[1..=tc].iter_mut()));
            let ins = above.iter().zip(even).zip(odd.iter().zip(below));
            let edges = top.iter().zip(&bottom);
            for (((a, b), (c2, d)), (((&x0, &x1), (&x2, &x3)), (&tp, &bm))) in
                outs.zip(ins.zip(edges))
            {
                let x0 = if tp { 0.0 } else { x0 };
                let x3 = if bm { 0.0 } else { x3 };
                [*a, *b, *c2, *d] = bt(x0, x1, x2, x3);
            }
        }
        // ·B for each row i: columns 0 − 2, 1 + 2, 2 − 1, 1 − 3, column 0 the odd quarter
        // column left of the tile, column 3 the even one right of it.
        for i in 0..4 {
            let te = &t[i * (tc + 2)..][..tc + 2];
            let to = &t[(4 + i) * (tc + 2)..][..tc + 2];
            let (left_odd, even, odd, right_even) = (&to[..tc], &te[1..=tc], &to[1..=tc], &te[2..]);
            let (o0, rest) = v[(4 * i * c + ch) * tc..].split_at_mut(c * tc);
            let (o1, rest) = rest.split_at_mut(c * tc);
            let (o2, o3) = rest.split_at_mut(c * tc);
            let outs = o0[..tc].iter_mut().zip(o1[..tc].iter_mut());
            let outs = outs.zip(o2[..tc].iter_mut().zip(o3[..tc].iter_mut()));
            let ins = left_odd.iter().zip(even).zip(odd.iter().zip(right_even));
            let edges = left.iter().zip(&right);
            for (((y0, y1), (y2, y3)), (((&a, &b), (&cc, &d)), (&lf, &rt))) in
                outs.zip(ins.zip(edges))
            {
                let a = if lf { 0.0 } else { a };
                let d = if rt { 0.0 } else { d };
                [*y0, *y1, *y2, *y3] = bt(a, b, cc, d);
            }
        }
    }
}

/// [`input_tiles`] row of tiles by row of tiles, for maps of odd height or width.
#[inline(always)]
fn input_tiles_by_row(s: &Wino, xs: &[f32], sc: usize, v: &mut [f32], scratch: &mut [f32]) {
    let (c, h, w, th, tw, tiles) = (s.c, s.h, s.w, s.th(), s.tw(), s.tiles());
    let (tc, hw) = (sc * tiles, h * w);
    // Padded rows: position `k` holds column `k − 1`; `2·tw + 2` covers the last tile's columns.
    let wp = 2 * tw + 2;
    let (t, rest) = scratch.split_at_mut(4 * wp);
    let zero = &mut rest[..w];
    zero.fill(0.0);
    let zero = &*zero;
    for tk in t.chunks_exact_mut(wp) {
        // The padding columns stay zero: only positions 1 … w are written below.
        tk[0] = 0.0;
        tk[w + 1..].fill(0.0);
    }
    let dst =
        |xi: usize, ch: usize, si: usize, ty: usize| (xi * c + ch) * tc + si * tiles + ty * tw;
    // Channel by channel, its samples one after another: each of the 16 output runs of a
    // channel (`tc` lanes) is then written front to back.
    for ch in 0..c {
        for si in 0..sc {
            let plane = &xs[(si * c + ch) * hw..][..hw];
            let row = |ih: usize| if ih < h { &plane[ih * w..][..w] } else { zero };
            for ty in 0..th {
                let r: [&[f32]; 4] = std::array::from_fn(|p| row((2 * ty + p).wrapping_sub(1)));
                let (t0, rest) = t.split_at_mut(wp);
                let (t1, rest) = rest.split_at_mut(wp);
                let (t2, t3) = rest.split_at_mut(wp);
                // t = Bᵀ·r: rows 0 − 2, 1 + 2, 2 − 1, 1 − 3 (positions 1 … w).
                let ts = (
                    &mut t0[1..=w],
                    &mut t1[1..=w],
                    &mut t2[1..=w],
                    &mut t3[1..=w],
                );
                let rows = r[0].iter().zip(r[1]).zip(r[2]).zip(r[3]);
                let outs = ts.0.iter_mut().zip(ts.1.iter_mut()).zip(ts.2.iter_mut());
                for (((a, b), c2), ((((&x0, &x1), &x2), &x3), d)) in
                    outs.zip(rows.zip(ts.3.iter_mut()))
                {
                    [*a, *b, *c2, *d] = bt(x0, x1, x2, x3);
                }
                for (i, ti) in [&*t0, &*t1, &*t2, &*t3].into_iter().enumerate() {
                    let (o0, rest) = v[dst(4 * i, ch, si, ty)..].split_at_mut(c * tc);
                    let (o1, rest) = rest.split_at_mut(c * tc);
                    let (o2, o3) = rest.split_at_mut(c * tc);
                    // ·B: columns 0 − 2, 1 + 2, 2 − 1, 1 − 3 of each tile (`t[2tx …]`).
                    let ti = &ti[..2 * tw + 2];
                    let (o0, o1, o2, o3) =
                        (&mut o0[..tw], &mut o1[..tw], &mut o2[..tw], &mut o3[..tw]);
                    for j in 0..tw {
                        let (a, b, cc, d) =
                            (ti[2 * j], ti[2 * j + 1], ti[2 * j + 2], ti[2 * j + 3]);
                        [o0[j], o1[j], o2[j], o3[j]] = bt(a, b, cc, d);
                    }
                }
            }
        }
    }
}

/// `dM = A·g·Aᵀ` of every 2×2 block `g` of the output gradient (`sc` samples `dys`, zero past
/// the edge of an odd map) into `dm` `[ξ][o][sc·tiles]`.
#[inline(always)]
fn grad_tiles(s: &Wino, dys: &[f32], sc: usize, dm: &mut [f32], scratch: &mut [f32]) {
    let (o, h, w, tw) = (s.o, s.h, s.w, s.tw());
    let (tc, hw) = (sc * s.tiles(), h * w);
    let nb = block(tc).min(o) * tc;
    let (g, rest) = scratch.split_at_mut(4 * nb);
    let tmp = &mut rest[..8 * nb];
    for (o0, on) in blocks(o, tc) {
        let n = on * tc;
        for (pl, ty, t0) in tile_rows(s, (sc, on), (o, o0)) {
            let plane = &dys[pl * hw..][..hw];
            for i in 0..2 {
                let oh = 2 * ty + i;
                for j in 0..2 {
                    let run = &mut g[(2 * i + j) * n + t0..][..tw];
                    run.fill(0.0);
                    if oh < h {
                        let row = plane[oh * w..][..w].iter().skip(j).step_by(2);
                        run.iter_mut().zip(row).for_each(|(d, &v)| *d = v);
                    }
                }
            }
        }
        let io = (&mut *dm, |x: usize| x * o * tc + o0 * tc);
        sandwich((&A, &A), n, (&*g, |x| x * n), tmp, io);
    }
}

/// `y = Aᵀ·M·A` of every tile of `m` `[ξ][o][sc·tiles]` into `yc` (`sc` samples `[o, h, w]`),
/// cropping the last row/column of tiles on odd maps.
#[inline(always)]
fn output_tiles(s: &Wino, m: &[f32], sc: usize, yc: &mut [f32], scratch: &mut [f32]) {
    let (o, h, w, tw) = (s.o, s.h, s.w, s.tw());
    let (tc, hw) = (sc * s.tiles(), h * w);
    let nb = block(tc).min(o) * tc;
    let (y, rest) = scratch.split_at_mut(4 * nb);
    let tmp = &mut rest[..8 * nb];
    for (o0, on) in blocks(o, tc) {
        let n = on * tc;
        let io = (&mut *y, |x: usize| x * n);
        sandwich((&AT, &AT), n, (m, |x| x * o * tc + o0 * tc), tmp, io);
        for (pl, ty, t0) in tile_rows(s, (sc, on), (o, o0)) {
            let plane = &mut yc[pl * hw..][..hw];
            for i in 0..2 {
                let oh = 2 * ty + i;
                if oh >= h {
                    continue;
                }
                let row = &mut plane[oh * w..][..w];
                let (a, b) = (&y[2 * i * n + t0..][..tw], &y[(2 * i + 1) * n + t0..][..tw]);
                for (pair, (&u, &v)) in row.chunks_exact_mut(2).zip(a.iter().zip(b)) {
                    pair[0] = u;
                    pair[1] = v;
                }
                if w % 2 == 1 {
                    row[w - 1] = a[tw - 1];
                }
            }
        }
    }
}

/// `dx += B·dV·Bᵀ` of every tile of `dv` `[ξ][c][sc·tiles]` into `dxc` (`sc` samples
/// `[c, h, w]`), the adjoint of [`input_tiles`]: neighbouring tiles overlap by two rows and
/// columns, and parts outside the map are dropped.
#[inline(always)]
fn input_grad(s: &Wino, dv: &[f32], sc: usize, dxc: &mut [f32], scratch: &mut [f32]) {
    let (c, h, w, tw) = (s.c, s.h, s.w, s.tw());
    let (tc, hw) = (sc * s.tiles(), h * w);
    let nb = block(tc).min(c) * tc;
    let (dd, rest) = scratch.split_at_mut(16 * nb);
    let (tmp, rest) = rest.split_at_mut(16 * nb);
    let (ev, od) = rest[..2 * (tw + 1)].split_at_mut(tw + 1);
    for (c0, cn) in blocks(c, tc) {
        let n = cn * tc;
        let io = (&mut *dd, |x: usize| x * n);
        sandwich((&B, &B), n, (dv, |x| x * c * tc + c0 * tc), tmp, io);
        for (pl, ty, t0) in tile_rows(s, (sc, cn), (c, c0)) {
            let plane = &mut dxc[pl * hw..][..hw];
            for p in 0..4 {
                let ih = (2 * ty + p).wrapping_sub(1);
                if ih >= h {
                    continue;
                }
                // Padded columns by parity (`ev[j]` is column 2j − 1, `od[j]` column 2j),
                // neighbouring tiles overlapping by one.
                let run = |q: usize| &dd[(4 * p + q) * n + t0..][..tw];
                ev[..tw].copy_from_slice(run(0));
                od[..tw].copy_from_slice(run(1));
                (ev[tw], od[tw]) = (0.0, 0.0);
                ev[1..].iter_mut().zip(run(2)).for_each(|(d, &v)| *d += v);
                od[1..].iter_mut().zip(run(3)).for_each(|(d, &v)| *d += v);
                let row = &mut plane[ih * w..][..w];
                for (pair, (&a, &b)) in row.chunks_exact_mut(2).zip(od.iter().zip(&ev[1..])) {
                    pair[0] += a;
                    pair[1] += b;
                }
                if w % 2 == 1 {
                    row[w - 1] += od[tw - 1];
                }
            }
        }
    }
}

/// The 16 products `dst[ξ] (+)= a[ξ]·b[ξ]` of sizes `(m, n, k)` per group, one per tile
/// position: each buffer holds its 16 matrices one after another (`len / 16` apart); `a` and
/// `b` are given as (buffer, row stride, column stride), `dst` is row-major. With `groups`
/// groups, each matrix is `groups` products side by side along the diagonal: group `g`'s blocks
/// start `g·m·n` into `dst`, `g·m·k` into `a` and `g·k·n` into `b` (in every pass here a
/// group's rows of `dst`, its rows or columns of `a` and its rows or columns of `b` follow the
/// previous group's).
fn products(
    (m, n, k): (usize, usize, usize),
    groups: usize,
    dst: &mut [f32],
    accumulate: bool,
    a: (&[f32], usize, usize),
    b: (&[f32], usize, usize),
    par: Parallelism,
) {
    let (dl, al, bl) = (dst.len() / XI, a.0.len() / XI, b.0.len() / XI);
    let last = groups.saturating_sub(1);
    let fits = |len: usize, rows: usize, cols: usize, (rs, cs): (usize, usize)| {
        rows == 0 || cols == 0 || last * rows * cols + (rows - 1) * rs + (cols - 1) * cs < len
    };
    assert!(
        fits(dl, m, n, (n, 1)) && fits(al, m, k, (a.1, a.2)) && fits(bl, k, n, (b.1, b.2)),
        "Winograd products outside their buffers"
    );
    for xi in 0..XI {
        for g in 0..groups {
            // SAFETY: each group's matrix lies inside its own 16th of its buffer (checked
            // above for the last group); `dst` is a separate mutable buffer, so it aliases
            // neither operand.
            unsafe {
                matmul(
                    (m, n, k),
                    dst[xi * dl + g * m * n..].as_mut_ptr(),
                    n,
                    accumulate,
                    (a.0[xi * al + g * m * k..].as_ptr(), a.1, a.2),
                    (b.0[xi * bl + g * k * n..].as_ptr(), b.1, b.2),
                    par,
                )
            };
        }
    }
}

/// The convolution of `x` `[n, c, h, w]` with `w` `[o, c, 3, 3]` (stride 1, padding 1), then
/// `epi` on each output plane when given.
pub(super) fn forward(s: &Wino, x: &[f32], w: &[f32], epi: Option<&Epilogue>) -> Vec<f32> {
    let u = weight_tiles(s, w);
    let (hw, chw, ol) = (s.h * s.w, s.c * s.h * s.w, s.o * s.h * s.w);
    let (spc, parallel, par) = s.plan();
    let fill = |y: &mut [f32]| {
        for_chunks(y, ol, spc, parallel, |n0, yc| {
            let sc = yc.len() / ol;
            let tc = sc * s.tiles();
            let (vl, ml) = (XI * s.c * tc, XI * s.o * tc);
            with_scratch(vl + ml + scratch_len(s, tc), |buf| {
                let (v, rest) = buf.split_at_mut(vl);
                let (m, scratch) = rest.split_at_mut(ml);
                simd(
                    #[inline(always)]
                    || input_tiles(s, &x[n0 * chw..][..sc * chw], sc, v, scratch),
                );
                products(
                    (s.og(), tc, s.cg()),
                    s.groups,
                    m,
                    false,
                    (&u, s.cg(), 1),
                    (v, tc, 1),
                    par,
                );
                simd(
                    #[inline(always)]
                    || output_tiles(s, m, sc, yc, scratch),
                );
            });
            if let Some(e) = epi {
                e.samples(yc, hw);
            }
        });
    };
    // SAFETY: `output_tiles` writes every output position of each chunk's samples (the last
    // row and column of odd maps included) before the epilogue reads them.
    unsafe { filled(s.n * ol, fill) }
}

/// The input gradient of one chunk, added into `dxc` (its samples' part of `dx`): its output
/// gradient `dys` transformed into `dm` (`dM = A·dy·Aᵀ`), `dV[ξ] = U[ξ]ᵀ·dM[ξ]` into `dv`, and
/// `dV` scattered back through `B`. `dm` keeps `dM` for a weight gradient to use.
#[inline(always)]
fn chunk_input_grad(
    s: &Wino,
    u: &[f32],
    dys: &[f32],
    dxc: &mut [f32],
    (dv, dm, scratch): (&mut [f32], &mut [f32], &mut [f32]),
    par: Parallelism,
) {
    let sc = dxc.len() / (s.c * s.h * s.w);
    let tc = sc * s.tiles();
    simd(
        #[inline(always)]
        || grad_tiles(s, dys, sc, dm, scratch),
    );
    // dV[ξ] = U[ξ]ᵀ·dM[ξ]: each group's block of U[ξ] (o/groups × c/groups) read transposed.
    let (cg, og) = (s.cg(), s.og());
    products(
        (cg, tc, og),
        s.groups,
        dv,
        false,
        (u, 1, cg),
        (dm, tc, 1),
        par,
    );
    simd(
        #[inline(always)]
        || input_grad(s, dv, sc, dxc, scratch),
    );
}

/// The gradient with respect to the input, from `dy` `[n, o, h, w]` and the weight `w`.
pub(super) fn backward_input(s: &Wino, dy: &[f32], w: &[f32]) -> Vec<f32> {
    let u = weight_tiles(s, w);
    let (chw, ol) = (s.c * s.h * s.w, s.o * s.h * s.w);
    let (spc, parallel, par) = s.plan();
    let fill = |dx: &mut [f32]| {
        for_chunks(dx, chw, spc, parallel, |n0, dxc| {
            dxc.fill(0.0);
            let sc = dxc.len() / chw;
            let tc = sc * s.tiles();
            let (vl, ml) = (XI * s.c * tc, XI * s.o * tc);
            with_scratch(vl + ml + scratch_len(s, tc), |buf| {
                let (dv, rest) = buf.split_at_mut(vl);
                let (dm, scratch) = rest.split_at_mut(ml);
                let dys = &dy[n0 * ol..][..sc * ol];
                chunk_input_grad(s, &u, dys, dxc, (dv, dm, scratch), par);
            });
        });
    };
    // SAFETY: every chunk zeroes its samples' part of `dx` before adding into it.
    unsafe { filled(s.n * chw, fill) }
}

/// The gradient with respect to the weight, from `dy` `[n, o, h, w]` and the input `x`:
/// accumulated per thread in the transformed domain, summed in a fixed order, transformed back.
pub(super) fn backward_weight(s: &Wino, dy: &[f32], x: &[f32]) -> Vec<f32> {
    let (chw, ol, ul) = (s.c * s.h * s.w, s.o * s.h * s.w, XI * s.o * s.cg());
    let (spc, parallel, par) = s.plan();
    let add = |ch, acc: &mut [f32], first: bool, buf: &mut Vec<f32>| {
        let n0 = ch * spc;
        let sc = spc.min(s.n - n0);
        let tc = sc * s.tiles();
        let (vl, ml) = (XI * s.c * tc, XI * s.o * tc);
        buf.resize(vl + ml + scratch_len(s, tc), 0.0);
        let (v, rest) = buf.split_at_mut(vl);
        let (dm, scratch) = rest.split_at_mut(ml);
        simd(
            #[inline(always)]
            || input_tiles(s, &x[n0 * chw..][..sc * chw], sc, v, scratch),
        );
        simd(
            #[inline(always)]
            || grad_tiles(s, &dy[n0 * ol..][..sc * ol], sc, dm, scratch),
        );
        // dU[ξ] += dM[ξ]·V[ξ]ᵀ (= on a task's first chunk): V[ξ] (c × tc) read transposed.
        let sizes = (s.og(), s.cg(), tc);
        products(sizes, s.groups, acc, !first, (dm, tc, 1), (v, 1, tc), par);
    };
    // SAFETY: on a task's first chunk the 16 products write all of `acc` (16 × o × c/groups).
    let du = unsafe { sum_chunks(s.n.div_ceil(spc), ul, parallel, add) };
    weight_grad(s, &du)
}

/// Both gradients, `(dx, dw)`, in one pass over the chunks: each chunk's transformed output
/// gradient `dM` serves the input gradient (`dV[ξ] = U[ξ]ᵀ·dM[ξ]`) and the weight gradient
/// (`dU[ξ] += dM[ξ]·V[ξ]ᵀ`), so it is made once instead of once per gradient, and one buffer
/// holds `dV`, then `V`. The same sums as [`backward_input`] and [`backward_weight`].
pub(super) fn backward(s: &Wino, dy: &[f32], w: &[f32], x: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let u = weight_tiles(s, w);
    let (chw, ol, ul) = (s.c * s.h * s.w, s.o * s.h * s.w, XI * s.o * s.cg());
    let (spc, parallel, par) = s.plan();
    let add = |ch, dxc: &mut [f32], acc: &mut [f32], first: bool, buf: &mut Vec<f32>| {
        dxc.fill(0.0);
        let n0 = ch * spc;
        let sc = dxc.len() / chw;
        let tc = sc * s.tiles();
        let (vl, ml) = (XI * s.c * tc, XI * s.o * tc);
        buf.resize(vl + ml + scratch_len(s, tc), 0.0);
        let (v, rest) = buf.split_at_mut(vl);
        let (dm, scratch) = rest.split_at_mut(ml);
        // `v` holds dV first, then V.
        let dys = &dy[n0 * ol..][..sc * ol];
        chunk_input_grad(s, &u, dys, dxc, (&mut *v, &mut *dm, &mut *scratch), par);
        // Then V into `v`, and dU[ξ] += dM[ξ]·V[ξ]ᵀ (V[ξ], c × tc, read transposed).
        let sizes = (s.og(), s.cg(), tc);
        simd(
            #[inline(always)]
            || input_tiles(s, &x[n0 * chw..][..sc * chw], sc, v, scratch),
        );
        products(sizes, s.groups, acc, !first, (dm, tc, 1), (v, 1, tc), par);
    };
    let mut du = Vec::new();
    // SAFETY: each chunk zeroes its part of `dx` before adding into it, and the chunks cover
    // `dx`; on a task's first chunk the 16 products write all of `acc` (16 × o × c/groups).
    let dx = unsafe {
        filled(s.n * chw, |dx| {
            du = sum_chunks_writing(dx, spc * chw, ul, parallel, add);
        })
    };
    (dx, weight_grad(s, &du))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Element `[a][b][c][d]` of a 4-D array of the given dimensions, zero outside rows/columns.
    fn at(v: &[f32], d: [usize; 4], idx: [usize; 2], (i, j): (isize, isize)) -> f64 {
        if i < 0 || j < 0 || i >= d[2] as isize || j >= d[3] as isize {
            return 0.0;
        }
        v[((idx[0] * d[1] + idx[1]) * d[2] + i as usize) * d[3] + j as usize] as f64
    }

    /// The sizes `(n, c, o, h, w, groups)` of a test case.
    fn wino((n, c, o, h, w, groups): (usize, usize, usize, usize, usize, usize)) -> Wino {
        Wino {
            n,
            c,
            o,
            h,
            w,
            groups,
        }
    }

    fn fill(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (((i * 37 + seed * 11) % 23) as f32 - 11.0) / 7.0)
            .collect()
    }

    /// Bᵀ: input tile → transformed tile.
    const BT: Mat<4, 4> = [
        [1.0, 0.0, -1.0, 0.0],
        [0.0, 1.0, 1.0, 0.0],
        [0.0, -1.0, 1.0, 0.0],
        [0.0, 1.0, 0.0, -1.0],
    ];

    /// The fused input transform gives the bits of the textbook one: each 4×4 tile gathered
    /// (zero outside the map), `Bᵀ` applied to its rows, then `B` to its columns, each sum
    /// over its non-zero coefficients in order, on odd, even, one-pixel and wide maps, for a
    /// chunk of samples inside a larger input.
    #[test]
    fn the_fused_input_transform_equals_the_textbook_one() {
        for (n, c, h, w, first, sc) in [
            (3, 2, 5, 7, 1, 2),
            (2, 3, 4, 4, 0, 2),
            (1, 1, 1, 1, 0, 1),
            (2, 2, 2, 3, 1, 1),
            (1, 2, 8, 34, 0, 1),
        ] {
            let s = wino((n, c, 1, h, w, 1));
            let (chw, tiles, tw) = (c * h * w, s.tiles(), s.tw());
            let x = fill(n * chw, 7);
            let tc = sc * tiles;
            let mut v = vec![f32::NAN; XI * c * tc];
            let mut scratch = vec![f32::NAN; scratch_len(&s, tc)];
            input_tiles(&s, &x[first * chw..][..sc * chw], sc, &mut v, &mut scratch);
            let sum = |terms: &mut dyn Iterator<Item = (f32, f32)>| {
                let mut nz = terms.filter(|t| t.0 != 0.0).map(|(a, u)| a * u);
                let first = nz.next().unwrap_or(0.0);
                nz.fold(first, |acc, t| acc + t)
            };
            for (ch, si, ty, tx) in (0..c).flat_map(|ch| {
                (0..sc).flat_map(move |si| {
                    (0..s.th()).flat_map(move |ty| (0..tw).map(move |tx| (ch, si, ty, tx)))
                })
            }) {
                let d = |p: usize, q: usize| {
                    let (i, j) = ((2 * ty + p) as isize - 1, (2 * tx + q) as isize - 1);
                    at(&x, [n, c, h, w], [first + si, ch], (i, j)) as f32
                };
                let t: Vec<[f32; 4]> = (0..4)
                    .map(|i| std::array::from_fn(|q| sum(&mut (0..4).map(|p| (BT[i][p], d(p, q))))))
                    .collect();
                for (i, j) in (0..4).flat_map(|i| (0..4).map(move |j| (i, j))) {
                    let want = sum(&mut (0..4).map(|q| (BT[j][q], t[i][q])));
                    let lane = ch * tc + si * tiles + ty * tw + tx;
                    let got = v[(4 * i + j) * c * tc + lane];
                    assert_eq!(
                        got.to_bits(),
                        want.to_bits(),
                        "ξ {i},{j} of tile {lane} of {s:?}"
                    );
                }
            }
        }
    }

    fn close(got: &[f32], want: &[f64], what: &str) {
        let scale = want.iter().fold(1e-6f64, |m, v| m.max(v.abs()));
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (*g as f64 - w).abs() / scale < 1e-5,
                "{what}[{k}]: {g} vs {w}"
            );
        }
    }

    /// The three passes equal the direct sums (in f64) on odd, even, non-square and one-pixel
    /// maps, in one group and several, whatever the tile threshold of the convolution op: the
    /// forward convolution, the input gradient and the weight gradient for a probe output
    /// gradient.
    #[test]
    fn all_three_passes_equal_the_direct_sums() {
        for (n, c, o, h, w, groups) in [
            (3, 2, 3, 5, 7, 1),
            (2, 3, 2, 4, 4, 1),
            (4, 1, 2, 1, 1, 1),
            (2, 2, 2, 2, 3, 1),
            (3, 4, 6, 5, 7, 2),
            (2, 6, 3, 4, 4, 3),
        ] {
            let s = wino((n, c, o, h, w, groups));
            let xd = [n, c, h, w];
            let (cg, og) = (c / groups, o / groups);
            let (x, wt, dy) = (
                fill(n * c * h * w, 1),
                fill(o * cg * 9, 2),
                fill(n * o * h * w, 3),
            );
            let tap = |a: usize| a as isize - 1;
            let (mut y, mut dx, mut dw) = (
                vec![0f64; dy.len()],
                vec![0f64; x.len()],
                vec![0f64; wt.len()],
            );
            for (ni, oi, k, i, j, a, b) in (0..n).flat_map(|ni| {
                (0..o).flat_map(move |oi| {
                    (0..cg).flat_map(move |k| {
                        (0..h).flat_map(move |i| {
                            (0..w).flat_map(move |j| {
                                (0..3)
                                    .flat_map(move |a| (0..3).map(move |b| (ni, oi, k, i, j, a, b)))
                            })
                        })
                    })
                })
            }) {
                // Input channel `ci`, the group's `k`th; `wi`, its kernel's tap.
                let (ii, jj) = (i as isize + tap(a), j as isize + tap(b));
                let (ci, wi) = (oi / og * cg + k, ((oi * cg + k) * 3 + a) * 3 + b);
                let wv = wt[wi] as f64;
                let yi = ((ni * o + oi) * h + i) * w + j;
                y[yi] += at(&x, xd, [ni, ci], (ii, jj)) * wv;
                dw[wi] += dy[yi] as f64 * at(&x, xd, [ni, ci], (ii, jj));
                if ii >= 0 && jj >= 0 && ii < h as isize && jj < w as isize {
                    dx[((ni * c + ci) * h + ii as usize) * w + jj as usize] += dy[yi] as f64 * wv;
                }
            }
            close(&forward(&s, &x, &wt, None), &y, "y");
            close(&backward_input(&s, &dy, &wt), &dx, "dx");
            close(&backward_weight(&s, &dy, &x), &dw, "dw");
        }
    }

    /// The one-pass backward gives exactly the bits of the two separate gradients, with one
    /// chunk per thread and more, on one and on two threads (where chunks run in parallel and
    /// where the products do).
    #[test]
    fn both_gradients_at_once_equal_each_one_alone() {
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a test thread pool");
            pool.install(|| {
                for (n, c, o, h, w, groups) in [
                    (1, 3, 4, 6, 6, 1),
                    (5, 4, 3, 5, 7, 1),
                    (9, 2, 5, 4, 4, 1),
                    (5, 4, 6, 5, 7, 2),
                ] {
                    let s = wino((n, c, o, h, w, groups));
                    let (x, wt, dy) = (
                        fill(n * c * h * w, 4),
                        fill(o * c / groups * 9, 5),
                        fill(n * o * h * w, 6),
                    );
                    let (dx, dw) = backward(&s, &dy, &wt, &x);
                    assert_eq!(dx, backward_input(&s, &dy, &wt), "dx of {s:?}");
                    assert_eq!(dw, backward_weight(&s, &dy, &x), "dw of {s:?}");
                }
            });
        }
    }
}
