//! Tall matrix products (many more rows than columns or inner dimension: a transformer's
//! projections over every token of a batch) on CPUs where `gemm` runs its AVX2 kernels (no
//! AVX-512, or a build without `gemm-avx512`): the right operand packed into panels of 16
//! columns, 6×16 register tiles, tasks of 48 rows.
//!
//! `gemm`'s AVX2 kernels reached 160–200 GFLOP/s on ViT-small's products at batch 128 (8320
//! tokens against 192–768 features) on 2 threads of an Intel Xeon VM, where MKL held to AVX2
//! reached about 230 and the multiply-adds alone about 250: ViT-small's training step was 3–8 %
//! slower than PyTorch's on the AVX2 path. Here each task takes 48 rows of the product and
//! computes them against the packed right operand, panel by panel, block by block of the inner
//! dimension. Rayon's threads take tasks as they finish the last, so a thread slowed by another
//! process leaves its work to the others instead of holding up the product.
//!
//! A tile keeps 6 rows × 16 columns of sums in 12 of the 16 vector registers; per inner step it
//! loads two vectors of the packed panel and broadcasts one element of each of its 6 rows of
//! the left operand, read where they lie when its rows are contiguous, else from a copy of the
//! task's rows packed 6 at a time (a transposed operand). The loop runs four inner steps a pass.
//!
//! Packing the right operand costs a pass over it, paid back only over many rows: on products
//! of few rows (a convolution's output channels against its positions) and on square ones
//! `gemm`, which packs the smaller side and blocks the columns for the L2 cache, was up to 20 %
//! faster, so [`takes`] leaves those to it. A weight gradient's long inner dimension (each
//! thread's part of the tokens, one unthreaded product) runs one block of it at a time through
//! all the rows, so the block's panels stay in the L2 cache.

use std::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_loadu_ps,
    _mm256_setzero_ps, _mm256_storeu_ps,
};

use std::ops::Range;

use rayon::prelude::*;

use super::cpu::SendPtr;

/// Rows of a register tile.
const MR: usize = 6;
/// Columns of a register tile and of a packed panel (two vectors of 8).
const NR: usize = 16;
/// Longest block of the inner dimension: a panel's block (16 KiB) stays in the L1 cache while
/// the task's rows pass it.
const KC: usize = 256;
/// Rows per task, a multiple of [`MR`]: their block of the left operand (48 KiB) stays in the L2
/// cache, mostly in the L1, while the panels pass it. 24–48 were within 3 % of each other on
/// ViT-small's products; 96 was up to 20 % slower on the widest (768 columns), 12 on all.
const MC: usize = 48;

/// Most panels a task passes its rows along (768 columns: 768 KiB of one block of the packed
/// operand, which then stays in the L2 cache).
const MAX_PANELS: usize = 48;
/// Fewest panels a task takes when tasks are split along the columns for parallelism.
const MIN_PANELS: usize = 4;

/// Inner indices per pass of a tile's loop.
const UNROLL: usize = 4;

/// Whether [`product`] computes an `m×k · k×n` product on this CPU, on rayon's threads when
/// `parallel`: one where `gemm` runs its AVX2 kernels ([`super::gemm_width`]) and the product is
/// [`tall`], or unthreaded with a [`long_inner`] dimension (the threaded ones, a small output
/// over a long sum, were not measured against `gemm`).
pub(crate) fn takes(shape: (usize, usize, usize), parallel: bool) -> bool {
    (tall(shape) || (!parallel && long_inner(shape))) && super::gemm_width() == "avx2"
}

/// Whether an `m×k · k×n` product has an inner dimension at least twice its rows, and at least
/// as many rows as columns (16 or more): a transformer's weight gradient over every token, each
/// thread's part of it ([`super::cpu::product`] splits it). ViT-small's at batch 128 (8320
/// tokens against 576×192, 192×192 and 768×192) were 2-10 % faster than with `gemm`'s AVX2
/// kernels, its training step 2-5 %; with more columns than rows (192×768) 11 % slower.
fn long_inner((m, n, k): (usize, usize, usize)) -> bool {
    n >= NR && m >= n && k >= 2 * m
}

/// Whether an `m×k · k×n` product has at least twice as many rows as columns and as its inner
/// dimension, and an inner dimension of 32 or more. Against `gemm`'s AVX2 kernels (2 threads,
/// an Intel Xeon VM, alternated in one process): ViT-small's products at batch 32 and 128 (2080
/// and 8320 tokens) +10-25 %, convolutions as positions × (channels·9) +5 %, 8320×3072×768
/// +8 %; square products (1024, 2048) and few rows against many columns 10-20 % slower, 27 inner
/// indices 4 % slower.
fn tall((m, n, k): (usize, usize, usize)) -> bool {
    n >= 1 && k >= 32 && m >= 2 * n.max(k)
}

/// `dst[m×n] (+)= a[m×k]·b[k×n]`, matrices given by pointer, row stride and column stride (`dst`
/// row-major with row stride `dst_rs`); its tasks on rayon's pool when `parallel`.
///
/// # Safety
/// The pointers must address the full matrices with the given strides, `dst` must not alias `a`
/// or `b`, and the CPU must have AVX2 and FMA ([`takes`]).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn product(
    (m, n, k): (usize, usize, usize),
    dst: *mut f32,
    dst_rs: usize,
    accumulate: bool,
    a: (*const f32, usize, usize),
    b: (*const f32, usize, usize),
    parallel: bool,
) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let shape = Shape {
        m,
        n,
        k,
        kc: k.div_ceil(k.div_ceil(KC)),
        panels: n.div_ceil(NR),
    };
    // SAFETY: `b` addresses k×n elements (this function's contract).
    let packed = unsafe { pack_right(&shape, b, parallel) };
    let dst = SendPtr(dst);
    let a = (SendConst(a.0), a.1, a.2);
    let threads = if parallel {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    let (row_tasks, col_tasks) = shape.tasks(threads);
    let per = shape.panels.div_ceil(col_tasks);
    let blocks = shape.block_count();
    let task = |t: usize, q: Range<usize>| {
        let (rt, ct) = (t / col_tasks, t % col_tasks);
        let rows = rt * MC..((rt + 1) * MC).min(m);
        let panels = ct * per..((ct + 1) * per).min(shape.panels);
        // SAFETY: `a` and `dst` address the full matrices (this function's contract), each task
        // writes only its own rows and columns of `dst`, and the CPU has AVX2 and FMA.
        unsafe {
            block_task(
                &shape,
                (rows, panels, q),
                (a.0.ptr(), a.1, a.2),
                &packed,
                dst.ptr(),
                dst_rs,
                accumulate,
            )
        }
    };
    let tasks = row_tasks * col_tasks;
    if parallel {
        // Each task through every block of the inner dimension: the tasks need no
        // synchronisation, and the packed operand (k·n, 590 KiB for ViT-small's widest) stays in
        // each core's L2 cache.
        (0..tasks).into_par_iter().for_each(|t| task(t, 0..blocks));
    } else {
        // One block of the inner dimension at a time through every task, as BLIS orders its
        // loops: the block's panels stay in the L2 cache however long the inner dimension (a
        // weight gradient's tokens) and however wide the product.
        for q in 0..blocks {
            (0..tasks).for_each(|t| task(t, q..q + 1));
        }
    }
}

/// The product's sizes and blocking.
struct Shape {
    m: usize,
    n: usize,
    k: usize,
    /// Length of each block of the inner dimension but the last (which may be shorter): the
    /// blocks of at most [`KC`] evened out.
    kc: usize,
    /// Panels of [`NR`] columns (the last padded with zeros).
    panels: usize,
}

impl Shape {
    /// Tasks along the rows ([`MC`] each) and along the panels: at most [`MAX_PANELS`] panels
    /// each, and with few row tasks enough to give each of `threads` threads about four tasks,
    /// but at least [`MIN_PANELS`] panels each.
    fn tasks(&self, threads: usize) -> (usize, usize) {
        let rows = self.m.div_ceil(MC);
        let wanted = (4 * threads)
            .div_ceil(rows)
            .min(self.panels.div_ceil(MIN_PANELS));
        (rows, wanted.max(self.panels.div_ceil(MAX_PANELS)).max(1))
    }

    /// How many blocks the inner dimension has.
    fn block_count(&self) -> usize {
        self.k.div_ceil(self.kc)
    }

    /// Inner-dimension block `q` as (first index, length).
    fn block(&self, q: usize) -> (usize, usize) {
        let p0 = q * self.kc;
        (p0, self.kc.min(self.k - p0))
    }

    /// The inner-dimension blocks as (first index, length).
    fn blocks(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.block_count()).map(|q| self.block(q))
    }
}

/// A read-only pointer shared by the tasks of one product.
#[derive(Clone, Copy)]
struct SendConst(*const f32);
// SAFETY: the tasks only read through it, while the caller keeps the matrix alive.
unsafe impl Send for SendConst {}
unsafe impl Sync for SendConst {}

impl SendConst {
    /// The pointer (a method, so closures capture the whole wrapper).
    fn ptr(self) -> *const f32 {
        self.0
    }
}

/// `b` packed block by block of the inner dimension, each block panel by panel: panel `j` of
/// the block at `p0` (length `kq`) starts at `p0·panels·NR + j·kq·NR` and holds, for each of its
/// `kq` inner indices, the 16 elements of its columns (zeros past the last column).
///
/// # Safety
/// `b` (pointer, row stride, column stride) addresses `k×n` elements.
unsafe fn pack_right(s: &Shape, b: (*const f32, usize, usize), parallel: bool) -> Vec<f32> {
    let len = s.k * s.panels * NR;
    let mut out: Vec<f32> = Vec::with_capacity(len);
    let base = SendPtr(out.as_mut_ptr());
    let b0 = SendConst(b.0);
    for (p0, kq) in s.blocks() {
        let panel = |j: usize| {
            // SAFETY: panel j of this block lies inside `out` (len elements) and is written by
            // this call only; `b`'s rows p0..p0 + kq and columns of the panel exist.
            unsafe {
                let dst = base.slice(p0 * s.panels * NR + j * kq * NR, kq * NR);
                pack_panel(dst, (b0.ptr(), b.1, b.2), p0, j * NR, s.n);
            }
        };
        if parallel {
            (0..s.panels).into_par_iter().for_each(panel);
        } else {
            (0..s.panels).for_each(panel);
        }
    }
    // SAFETY: every panel of every block was written in full above.
    unsafe { out.set_len(len) };
    out
}

/// Writes one panel: `dst[p·NR + c] = b[p0 + p][c0 + c]` for the panel's inner indices (`dst`'s
/// length over [`NR`]), zero for the columns past `n`.
///
/// # Safety
/// `b` addresses the rows `p0..p0 + dst.len() / NR` of the `n` columns with its strides.
unsafe fn pack_panel(
    dst: &mut [f32],
    b: (*const f32, usize, usize),
    p0: usize,
    c0: usize,
    n: usize,
) {
    let (ptr, rs, cs) = b;
    let cols = NR.min(n - c0);
    let kq = dst.len() / NR;
    // SAFETY (whole body): every element read is in rows p0..p0 + kq, columns c0..c0 + cols.
    unsafe {
        if cs == 1 {
            for (p, row) in dst.chunks_exact_mut(NR).enumerate() {
                let src = std::slice::from_raw_parts(ptr.add((p0 + p) * rs + c0), cols);
                row[..cols].copy_from_slice(src);
                row[cols..].fill(0.0);
            }
        } else {
            for c in 0..cols {
                let src = ptr.add(p0 * rs + (c0 + c) * cs);
                for p in 0..kq {
                    dst[p * NR + c] = *src.add(p * rs);
                }
            }
            for row in dst.chunks_exact_mut(NR) {
                row[cols..].fill(0.0);
            }
        }
    }
}

/// Rows `rows` (at most [`MC`]) × the columns of panels `panels` of the product, summed over
/// the blocks `blocks` of the inner dimension (their index: block `q` starts at `q·kc`), one
/// after the other.
///
/// # Safety
/// As [`product`]; no other task writes these rows and columns of `dst`.
#[target_feature(enable = "avx2,fma")]
unsafe fn block_task(
    s: &Shape,
    (rows, panels, blocks): (Range<usize>, Range<usize>, Range<usize>),
    a: (*const f32, usize, usize),
    packed: &[f32],
    dst: *mut f32,
    dst_rs: usize,
    accumulate: bool,
) {
    let (ap, ars, acs) = a;
    let mm = rows.len();
    let mut copy = Vec::new();
    // Each block's left operand: its rows where they lie, or packed 6 rows at a time (panel `i`
    // at `i·kq·MR`, element `(r, p)` at `p·MR + r`).
    let direct = acs == 1;
    for q in blocks {
        let (p0, kq) = s.block(q);
        if !direct {
            copy.resize(mm.div_ceil(MR) * kq * MR, 0.0);
            // SAFETY: rows `rows` and inner indices p0..p0 + kq of `a` exist.
            unsafe { pack_left(&mut copy, (ap, ars, acs), rows.clone(), p0, kq) };
        }
        let load = accumulate || p0 > 0;
        let one = |j: usize, i: usize| {
            let bp = packed[p0 * s.panels * NR + j * kq * NR..].as_ptr();
            let c0 = j * NR;
            let cols = NR.min(s.n - c0);
            let r = MR.min(mm - i);
            // SAFETY: the tile's rows and columns exist in `a` (or the copy), the panel and
            // `dst`; the CPU has AVX2 and FMA.
            unsafe {
                let out = Tile {
                    dst: dst.add((rows.start + i) * dst_rs + c0),
                    rs: dst_rs,
                    cols,
                    load,
                };
                if direct {
                    let at = ap.add((rows.start + i) * ars + p0);
                    tile_rows::<false>(r, kq, at, ars, bp, &out);
                } else {
                    let at = copy.as_ptr().add(i * kq);
                    tile_rows::<true>(r, kq, at, MR, bp, &out);
                }
            }
        };
        for j in panels.clone() {
            for i in (0..mm).step_by(MR) {
                one(j, i);
            }
        }
    }
    debug_assert!(s.m >= rows.end);
}

/// Packs rows `rows` × inner indices `p0..p0 + kq` of `a` into `dst`, 6 rows at a time: element
/// `(i·MR + r, p)` at `i·kq·MR + p·MR + r` (the last group's missing rows left as they are).
///
/// # Safety
/// `a` addresses those rows and inner indices; `dst` holds `rows.len().div_ceil(MR)·kq·MR`.
unsafe fn pack_left(
    dst: &mut [f32],
    a: (*const f32, usize, usize),
    rows: Range<usize>,
    p0: usize,
    kq: usize,
) {
    let (ptr, rs, cs) = a;
    for (g, group) in dst.chunks_exact_mut(kq * MR).enumerate() {
        let r0 = rows.start + g * MR;
        let rn = MR.min(rows.end - r0);
        if rs == 1 && rn == MR {
            // A transposed operand's whole group: its 6 rows are contiguous at each inner index,
            // one fixed-size copy (an element at a time, the packing took a tenth of a weight
            // gradient's time).
            for (p, out) in group.chunks_exact_mut(MR).enumerate() {
                // SAFETY: rows r0..r0 + MR and inner index p0 + p of `a` exist, contiguous.
                let src = unsafe { std::slice::from_raw_parts(ptr.add(r0 + (p0 + p) * cs), MR) };
                out.copy_from_slice(src);
            }
            continue;
        }
        for p in 0..kq {
            // SAFETY: rows r0..r0 + rn and inner index p0 + p of `a` exist.
            let src = unsafe { ptr.add(r0 * rs + (p0 + p) * cs) };
            for r in 0..rn {
                group[p * MR + r] = unsafe { *src.add(r * rs) };
            }
        }
    }
}

/// Where a tile's sums go: `dst` (its first element, row stride `rs`), its first `cols` of 16
/// columns, added to what is there when `load`.
struct Tile {
    dst: *mut f32,
    rs: usize,
    cols: usize,
    load: bool,
}

/// [`tile`] for `r` (1 to 6) rows.
///
/// # Safety
/// As [`tile`].
#[target_feature(enable = "avx2,fma")]
unsafe fn tile_rows<const PACKED: bool>(
    r: usize,
    kq: usize,
    a: *const f32,
    a_step: usize,
    b: *const f32,
    out: &Tile,
) {
    // SAFETY: as this function's contract.
    unsafe {
        match r {
            6 => tile::<6, PACKED>(kq, a, a_step, b, out),
            5 => tile::<5, PACKED>(kq, a, a_step, b, out),
            4 => tile::<4, PACKED>(kq, a, a_step, b, out),
            3 => tile::<3, PACKED>(kq, a, a_step, b, out),
            2 => tile::<2, PACKED>(kq, a, a_step, b, out),
            _ => tile::<1, PACKED>(kq, a, a_step, b, out),
        }
    }
}

/// One tile: `R` rows × 16 columns, summed over `kq` inner indices. The left operand's element
/// `(r, p)` is at `a + r·a_step + p` (rows where they lie) or, when `PACKED`, at `a + p·MR + r`;
/// the panel's at `b + p·NR + c`.
///
/// # Safety
/// Those elements exist, the tile's `R × out.cols` outputs lie in `out.dst` and belong to the
/// calling task, and the CPU has AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn tile<const R: usize, const PACKED: bool>(
    kq: usize,
    a: *const f32,
    a_step: usize,
    b: *const f32,
    out: &Tile,
) {
    // SAFETY (whole body): the reads and writes are the tile's (this function's contract).
    unsafe {
        let rows: [*const f32; R] =
            std::array::from_fn(|r| if PACKED { a.add(r) } else { a.add(r * a_step) });
        let mut acc: [[__m256; 2]; R] = [[_mm256_setzero_ps(); 2]; R];
        // Inner index `p`'s multiply-adds into every sum of the tile.
        let mut step = |p: usize| {
            let b0 = _mm256_loadu_ps(b.add(p * NR));
            let b1 = _mm256_loadu_ps(b.add(p * NR + 8));
            for r in 0..R {
                let at = if PACKED { p * MR } else { p };
                let v = _mm256_broadcast_ss(&*rows[r].add(at));
                acc[r][0] = _mm256_fmadd_ps(v, b0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(v, b1, acc[r][1]);
            }
        };
        // Four inner indices per loop pass: their addresses then differ by constants, where
        // one index a pass cost as many address and loop instructions as multiply-adds.
        let whole = kq / UNROLL * UNROLL;
        for p in (0..whole).step_by(UNROLL) {
            for u in 0..UNROLL {
                step(p + u);
            }
        }
        for p in whole..kq {
            step(p);
        }
        for (r, sums) in acc.iter().enumerate() {
            let d = out.dst.add(r * out.rs);
            if out.cols == NR {
                for (h, &v) in sums.iter().enumerate() {
                    let d = d.add(h * 8);
                    let v = if out.load {
                        _mm256_add_ps(_mm256_loadu_ps(d), v)
                    } else {
                        v
                    };
                    _mm256_storeu_ps(d, v);
                }
            } else {
                let mut t = [0f32; NR];
                _mm256_storeu_ps(t.as_mut_ptr(), sums[0]);
                _mm256_storeu_ps(t.as_mut_ptr().add(8), sums[1]);
                for (c, &v) in t[..out.cols].iter().enumerate() {
                    let d = d.add(c);
                    *d = if out.load { *d + v } else { v };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic, irregular test matrix of `len` elements.
    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7919 + seed * 104_729) % 1009) as f32 / 1009.0 - 0.5)
            .collect()
    }

    /// The product through [`product`] against a sum in f64, for operands stored row-major or
    /// transposed, written or accumulated into a destination wider than the product.
    fn check(
        (m, n, k): (usize, usize, usize),
        a_t: bool,
        b_t: bool,
        accumulate: bool,
        parallel: bool,
    ) {
        let (a, b) = (values(m * k, 1), values(k * n, 2));
        // (row stride, column stride) of a row-major or transposed matrix of `rows × cols`.
        let strides = |t: bool, rows: usize, cols: usize| if t { (1, rows) } else { (cols, 1) };
        let (ars, acs) = strides(a_t, m, k);
        let (brs, bcs) = strides(b_t, k, n);
        let dst_rs = n + 3;
        let mut dst = values(m * dst_rs, 3);
        let before = dst.clone();
        // SAFETY: the operands hold m×k and k×n elements with these strides, `dst` m rows of
        // `dst_rs`; the test runs only where the CPU has AVX2 and FMA.
        unsafe {
            product(
                (m, n, k),
                dst.as_mut_ptr(),
                dst_rs,
                accumulate,
                (a.as_ptr(), ars, acs),
                (b.as_ptr(), brs, bcs),
                parallel,
            )
        };
        for i in 0..m {
            for j in 0..dst_rs {
                let got = dst[i * dst_rs + j];
                if j >= n {
                    assert_eq!(
                        got,
                        before[i * dst_rs + j],
                        "column {j} past the product written"
                    );
                    continue;
                }
                let mut want: f64 = (0..k)
                    .map(|p| a[i * ars + p * acs] as f64 * b[p * brs + j * bcs] as f64)
                    .sum();
                if accumulate {
                    want += before[i * dst_rs + j] as f64;
                }
                assert!(
                    (got as f64 - want).abs() < 1e-4 * (1.0 + want.abs()),
                    "{m}×{n}×{k} (a transposed {a_t}, b {b_t}, accumulate {accumulate}): \
                     ({i}, {j}) is {got}, want {want}"
                );
            }
        }
    }

    #[test]
    fn only_tall_products_and_long_inner_ones_are_taken() {
        // ViT-small's projections at batch 128 and 32, a convolution as positions × taps.
        for shape in [
            (8320, 576, 192),
            (8320, 192, 768),
            (2080, 768, 192),
            (8192, 64, 576),
        ] {
            assert!(tall(shape), "{shape:?}");
        }
        // Square, few rows against many columns (a convolution as channels × positions), a
        // weight gradient's long inner dimension, a 3-channel first layer's 27 taps.
        for shape in [
            (1024, 1024, 1024),
            (64, 8192, 576),
            (576, 192, 4160),
            (32768, 32, 27),
        ] {
            assert!(!tall(shape), "{shape:?}");
        }
    }

    #[test]
    fn products_match_a_wide_sum_in_every_layout_and_edge() {
        if !super::super::cpu::has_avx2_fma() {
            return;
        }
        // Whole tiles and tasks; left-over rows (1–5) and columns; several inner blocks, the
        // last shorter; more than one task.
        for &(m, n, k) in &[(24, 16, 16), (97, 33, 300), (103, 50, 513), (200, 17, 20)] {
            for (a_t, b_t) in [(false, false), (true, false), (false, true), (true, true)] {
                check((m, n, k), a_t, b_t, false, true);
            }
            check((m, n, k), false, false, true, false);
            check((m, n, k), true, false, false, false);
            check((m, n, k), true, true, true, true);
        }
    }
}
