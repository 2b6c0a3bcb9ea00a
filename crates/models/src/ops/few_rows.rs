//! A linear layer's forward product for few rows (a batch of up to [`MAX_ROWS`] samples):
//! `y = x·Wᵀ (+ b) (then ReLU)` as register-blocked dot products of `x`'s rows with the weight's
//! rows, both read where they lie.
//!
//! `gemm` first packs the right operand, here the whole weight, into panels; with 32 rows each
//! weight element then takes part in only 32 multiply-adds, so the packing (plus the copy that
//! avoids cache aliasing when the inputs are a multiple of 256) cost as much as the products:
//! 30 % of mlp-medium's batch-32 inference in `gemm`'s packing, 29 % in its kernel. Here a tile
//! of 4 rows of `x` and 6 rows of `W` (3 and 4 with AVX2) keeps its `R·C` sums in vector
//! registers over the inputs, so each weight row is read once per `R` rows of `x` from the L1
//! cache and never copied. A tile row's `C` sums are reduced together by horizontal adds and
//! stored as one vector with the bias and ReLU applied (reducing and storing each sum alone cost
//! about a fifth of the kernel's time: MLP inference at batch 32 +6-25 % with AVX-512, +6-10 %
//! with AVX2); the inputs past the last whole vector are a masked load, not a scalar loop.

use rayon::prelude::*;

use super::cpu::{filled, SendPtr};

/// Rows up to which [`forward`] computes the product (MLPs at batch 128 and below). At 128 rows
/// it was level with `gemm` or up to 18 % faster beside `gemm`'s AVX2 kernels; beside its
/// AVX-512 kernels it was faster for a weight of 1 MiB or more (or one `gemm` copies first for
/// cache aliasing) but 5-10 % slower on mlp-small's 256×784 weight, which therefore stayed on
/// `gemm` from 65 rows until the rows and columns left over from the whole tiles ran as tiles
/// too: then mlp-small's b128 inference +5-12 % and training +10 % with it (an Intel Xeon VM,
/// three rounds alternated).
pub(crate) const MAX_ROWS: usize = 128;

/// `x[m×k]·w[n×k]ᵀ (+ b)`, ReLU applied when `relu`, for `m` up to [`MAX_ROWS`] on a CPU with
/// AVX2 and FMA (AVX-512 where [`super::cpu::simd`] uses it); `None` otherwise (the caller uses
/// `gemm`). Rayon's pool threads take blocks of output columns.
pub(crate) fn forward(
    (m, n, k): (usize, usize, usize),
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    relu: bool,
) -> Option<Vec<f32>> {
    if m > MAX_ROWS || m == 0 || n == 0 || k == 0 {
        return None;
    }
    Some(forward_with(Isa::detect()?, (m, n, k), x, w, b, relu))
}

/// [`forward`] with the instruction set `isa` (which the CPU must have).
fn forward_with(
    isa: Isa,
    (m, n, k): (usize, usize, usize),
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    relu: bool,
) -> Vec<f32> {
    assert!(
        x.len() >= m * k && w.len() >= n * k && b.is_none_or(|b| b.len() >= n),
        "few-rows product operands out of bounds"
    );
    let threads = rayon::current_num_threads().max(1);
    // About four tasks a thread (at least 24 columns, whole tiles): a thread that is slow to
    // wake between two steps then finds the others already through most of the work, instead
    // of holding up the step with its half (MLP inference at batch 32: +7-18 % against one
    // task a thread).
    let c = isa.tile_columns();
    let block = n.div_ceil(threads * 4).max(24).div_ceil(c) * c;
    let run = |cols: std::ops::Range<usize>, y: SendPtr| {
        // SAFETY: the operands were checked to hold m×k, n×k and n elements; `y` holds m×n, and
        // each task writes only its own columns `cols` of every row.
        unsafe { isa.run((m, k), x.as_ptr(), w.as_ptr(), b, relu, cols, y.ptr(), n) }
    };
    // SAFETY: the tasks below write every element of `y` (each its own columns of every row).
    unsafe {
        filled(m * n, |y| {
            let y = SendPtr(y.as_mut_ptr());
            (0..n.div_ceil(block))
                .into_par_iter()
                .for_each(|i| run(i * block..((i + 1) * block).min(n), y));
        })
    }
}

/// The vector instructions the kernel runs with.
#[derive(Clone, Copy, Debug)]
enum Isa {
    /// 16 lanes, 32 registers: 4 × 6 tiles.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// 8 lanes, 16 registers: 3 × 4 tiles.
    #[cfg(target_arch = "x86_64")]
    Avx2,
}

impl Isa {
    /// The widest this CPU has (AVX-512 as [`super::cpu::simd`] decides), or `None` without AVX2
    /// and FMA.
    fn detect() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            if super::cpu::wide_vectors() {
                return Some(Self::Avx512);
            }
            if super::cpu::has_avx2_fma() {
                return Some(Self::Avx2);
            }
        }
        None
    }

    /// Weight rows a tile holds, so a task's block is whole tiles.
    fn tile_columns(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => x86::AVX512_COLUMNS,
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => x86::AVX2_COLUMNS,
        }
    }

    /// Columns `cols` of `y[m×n] = x[m×k]·w[n×k]ᵀ (+ b)` (ReLU when `relu`).
    ///
    /// # Safety
    /// `x`, `w` and `b` hold m×k, n×k and n elements, `y` m×n, and no other thread writes
    /// columns `cols` of `y`; the CPU has the instructions of `self` (as [`Isa::detect`] found).
    #[allow(clippy::too_many_arguments)]
    unsafe fn run(
        self,
        (m, k): (usize, usize),
        x: *const f32,
        w: *const f32,
        b: Option<&[f32]>,
        relu: bool,
        cols: std::ops::Range<usize>,
        y: *mut f32,
        n: usize,
    ) {
        let out = Out { y, n, b, relu };
        // SAFETY: as this function's contract.
        unsafe {
            match self {
                #[cfg(target_arch = "x86_64")]
                Self::Avx512 => x86::avx512((m, k), x, w, cols, &out),
                #[cfg(target_arch = "x86_64")]
                Self::Avx2 => x86::avx2((m, k), x, w, cols, &out),
            }
        }
    }
}

/// Where a finished sum goes: `y[r·n + c] = sum (+ b[c])`, then ReLU when `relu`.
struct Out<'a> {
    y: *mut f32,
    n: usize,
    b: Option<&'a [f32]>,
    relu: bool,
}

impl Out<'_> {
    /// Stores the dot product of row `r` and weight row `c`.
    ///
    /// # Safety
    /// `(r, c)` lies inside `y` and belongs to the calling task.
    #[inline(always)]
    unsafe fn store(&self, r: usize, c: usize, sum: f32) {
        let mut v = sum + self.b.map_or(0.0, |b| b[c]);
        if self.relu {
            v = v.max(0.0);
        }
        // SAFETY: as this function's contract.
        unsafe { *self.y.add(r * self.n + c) = v };
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::Out;

    /// One kernel per instruction set: tiles of up to `$r` rows × `$c` weight rows over the
    /// inputs (the last part vector loaded with zeros past `k`). A whole tile row's `$c` sums are
    /// reduced together and stored as one vector by `$finish`; the rows and columns left over take
    /// smaller tiles of the same kernel (`tile::<R, C>`), so their sums too run as independent
    /// chains rather than one dot product at a time (two rows left over by the AVX2 tile's three
    /// were a third of mlp-small's batch-32 inference as single dot products).
    macro_rules! kernel {
        // The tile for `rh` rows (one of `$rs`) and `cw` columns.
        (@rows $rh:expr, $cw:expr, [$($rs:literal)*], $cs:tt, $args:tt) => {
            match $rh {
                $($rs => kernel!(@cols $rs, $cw, $cs, $args),)*
                _ => unreachable!("a tile of at most the kernel's rows"),
            }
        };
        (@cols $r:literal, $cw:expr, [$($cs:literal)*], $args:tt) => {
            match $cw {
                $($cs => tile::<$r, $cs> $args,)*
                _ => unreachable!("a tile of at most the kernel's columns"),
            }
        };
        ($name:ident, $feat:literal, $v:ty, $lanes:literal, $r:literal, [$($rs:literal)*],
         [$($cs:literal)*], $c:expr, $row_starts:literal, $load:ident, $loadn:ident,
         $fma:ident, $zero:ident, $sum:ident, $finish:ident) => {
            /// Columns `cols` of the product (see [`super::Isa::run`]).
            ///
            /// # Safety
            /// As [`super::Isa::run`].
            #[target_feature(enable = $feat)]
            pub(super) unsafe fn $name(
                (m, k): (usize, usize),
                x: *const f32,
                w: *const f32,
                cols: std::ops::Range<usize>,
                out: &Out<'_>,
            ) {
                let mut c0 = cols.start;
                while c0 < cols.end {
                    let cw = (cols.end - c0).min($c);
                    let mut r0 = 0;
                    while r0 < m {
                        let rh = (m - r0).min($r);
                        // SAFETY: rows r0..r0 + rh of x and c0..c0 + cw of w exist, and the
                        // columns belong to this task (this function's contract).
                        unsafe {
                            kernel!(@rows rh, cw, [$($rs)*], [$($cs)*], (k, x, w, out, r0, c0))
                        };
                        r0 += rh;
                    }
                    c0 += cw;
                }

                /// One tile: rows `r0..r0 + R` of `x` with weight rows `c0..c0 + C`.
                ///
                /// # Safety
                /// Those rows exist (k elements each), the tile's outputs lie inside `y` and
                /// belong to the calling task; the CPU has the kernel's instructions.
                #[target_feature(enable = $feat)]
                unsafe fn tile<const R: usize, const C: usize>(
                    k: usize,
                    x: *const f32,
                    w: *const f32,
                    out: &Out<'_>,
                    r0: usize,
                    c0: usize,
                ) {
                    let kv = k / $lanes * $lanes;
                    let rest = k - kv;
                    // SAFETY (whole body): every row read is one of the tile's, k elements each
                    // (the last vector loaded only up to k); every store is one of the tile's
                    // outputs.
                    unsafe {
                        // Element `p` of the tile's row `i` of `x` (`wi` of `w`): with
                        // `$row_starts`, from an array of the rows' starts (the AVX-512 tile:
                        // computing `i·k + p` in its loop ran out of registers, k was reloaded
                        // from the stack and mlp-large's b128 inference was 5 % slower);
                        // without, as `i·k + p` from the tile's first row (the AVX2 tile:
                        // the array cost a spilled pointer there, mlp-small 3-5 % slower).
                        let (xp, wp) = (x.add(r0 * k), w.add(c0 * k));
                        let xr: [*const f32; R] = std::array::from_fn(|i| x.add((r0 + i) * k));
                        let wr: [*const f32; C] = std::array::from_fn(|j| w.add((c0 + j) * k));
                        let mut acc: [[$v; C]; R] = [[$zero(); C]; R];
                        // Inputs p..p + n (n = a whole vector but at the end).
                        let mut step = |p: usize, n: usize| {
                            let load = |q: *const f32| {
                                if n == $lanes {
                                    $load(q)
                                } else {
                                    $loadn(q, n)
                                }
                            };
                            let mut xv: [$v; R] = [$zero(); R];
                            if $row_starts {
                                for (v, r) in xv.iter_mut().zip(xr) {
                                    *v = load(r.add(p));
                                }
                                for (j, r) in wr.iter().enumerate() {
                                    let wv = load(r.add(p));
                                    for i in 0..R {
                                        acc[i][j] = $fma(xv[i], wv, acc[i][j]);
                                    }
                                }
                            } else {
                                for (i, v) in xv.iter_mut().enumerate() {
                                    *v = load(xp.add(i * k + p));
                                }
                                for j in 0..C {
                                    let wv = load(wp.add(j * k + p));
                                    for i in 0..R {
                                        acc[i][j] = $fma(xv[i], wv, acc[i][j]);
                                    }
                                }
                            }
                        };
                        let mut p = 0;
                        while p < kv {
                            step(p, $lanes);
                            p += $lanes;
                        }
                        if rest > 0 {
                            step(kv, rest);
                        }
                        for (i, row) in acc.iter().enumerate() {
                            match <&[$v; $c]>::try_from(&row[..]) {
                                Ok(whole) => $finish(whole, out, r0 + i, c0),
                                Err(_) => {
                                    for (j, &a) in row.iter().enumerate() {
                                        out.store(r0 + i, c0 + j, $sum(a));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        };
    }

    /// The first `n < 16` floats at `p`, zeros after.
    #[inline(always)]
    unsafe fn load512n(p: *const f32, n: usize) -> __m512 {
        // SAFETY: the masked lanes are neither read nor fault; the first n lie in the row.
        unsafe { _mm512_maskz_loadu_ps(((1u32 << n) - 1) as u16, p) }
    }

    /// The sum of a vector's 16 lanes.
    #[inline(always)]
    unsafe fn sum512(v: __m512) -> f32 {
        _mm512_reduce_add_ps(v)
    }

    /// The first `n < 8` floats at `p`, zeros after.
    #[inline(always)]
    unsafe fn load256n(p: *const f32, n: usize) -> __m256 {
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(n as i32), lane);
        // SAFETY: the masked lanes are neither read nor fault; the first n lie in the row.
        unsafe { _mm256_maskload_ps(p, mask) }
    }

    /// The sum of a vector's 8 lanes.
    #[inline(always)]
    unsafe fn sum256(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_hadd_ps(s, s);
        _mm_cvtss_f32(_mm_hadd_ps(s, s))
    }

    /// Weight rows of an AVX-512 tile (4 rows × 6: 24 of the 32 registers hold sums).
    pub(super) const AVX512_COLUMNS: usize = 6;
    /// Weight rows of an AVX2 tile (3 rows × 4: 12 of the 16 registers hold sums).
    pub(super) const AVX2_COLUMNS: usize = 4;

    /// Stores row `r`'s six sums, columns `c0..c0 + 6` (bias and ReLU applied): each vector is
    /// folded to 8 lanes, then pairwise horizontal adds leave the six sums in one vector (about
    /// 20 instructions, where reducing each vector alone took about 8 and a scalar store).
    ///
    /// # Safety
    /// The row and columns lie inside `y` (and `b`) and belong to the calling task; AVX-512.
    #[inline(always)]
    unsafe fn finish512(a: &[__m512; AVX512_COLUMNS], out: &Out<'_>, r: usize, c0: usize) {
        let f =
            |v: __m512| _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps::<1>(v));
        let h1 = _mm256_hadd_ps(f(a[0]), f(a[1]));
        let h2 = _mm256_hadd_ps(f(a[2]), f(a[3]));
        let h3 = _mm256_hadd_ps(f(a[4]), f(a[5]));
        let h4 = _mm256_hadd_ps(h1, h2);
        let h5 = _mm256_hadd_ps(h3, _mm256_setzero_ps());
        let lo = _mm_add_ps(_mm256_castps256_ps128(h4), _mm256_extractf128_ps::<1>(h4));
        let hi = _mm_add_ps(_mm256_castps256_ps128(h5), _mm256_extractf128_ps::<1>(h5));
        let mut s = _mm256_insertf128_ps::<1>(_mm256_castps128_ps256(lo), hi);
        const SIX: __mmask8 = 0b11_1111;
        // SAFETY: as this function's contract; the masked lanes are neither read nor written.
        unsafe {
            if let Some(b) = out.b {
                s = _mm256_add_ps(s, _mm256_maskz_loadu_ps(SIX, b.as_ptr().add(c0)));
            }
            if out.relu {
                s = _mm256_max_ps(s, _mm256_setzero_ps());
            }
            _mm256_mask_storeu_ps(out.y.add(r * out.n + c0), SIX, s);
        }
    }

    /// Stores row `r`'s four sums, columns `c0..c0 + 4` (bias and ReLU applied), reduced
    /// together by horizontal adds.
    ///
    /// # Safety
    /// The row and columns lie inside `y` (and `b`) and belong to the calling task; AVX2.
    #[inline(always)]
    unsafe fn finish256(a: &[__m256; AVX2_COLUMNS], out: &Out<'_>, r: usize, c0: usize) {
        let h = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
        let mut s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps::<1>(h));
        // SAFETY: as this function's contract.
        unsafe {
            if let Some(b) = out.b {
                s = _mm_add_ps(s, _mm_loadu_ps(b.as_ptr().add(c0)));
            }
            if out.relu {
                s = _mm_max_ps(s, _mm_setzero_ps());
            }
            _mm_storeu_ps(out.y.add(r * out.n + c0), s);
        }
    }

    kernel!(
        avx512,
        "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma",
        __m512,
        16,
        4,
        [1 2 3 4],
        [1 2 3 4 5 6],
        AVX512_COLUMNS,
        true,
        _mm512_loadu_ps,
        load512n,
        _mm512_fmadd_ps,
        _mm512_setzero_ps,
        sum512,
        finish512
    );
    kernel!(
        avx2,
        "avx2,fma",
        __m256,
        8,
        3,
        [1 2 3],
        [1 2 3 4],
        AVX2_COLUMNS,
        false,
        _mm256_loadu_ps,
        load256n,
        _mm256_fmadd_ps,
        _mm256_setzero_ps,
        sum256,
        finish256
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instruction sets this CPU has, each of which the product is checked with.
    fn isas() -> Vec<Isa> {
        let mut v = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if crate::ops::cpu::has_avx512() {
                v.push(Isa::Avx512);
            }
            if crate::ops::cpu::has_avx2_fma() {
                v.push(Isa::Avx2);
            }
        }
        v
    }

    /// Every shape class: whole tiles, rows and columns left over, inputs past the last whole
    /// vector, one row, one column, one input; with and without bias and ReLU; on pools of 1 and
    /// 3 threads. Small integers make every sum exact in any order, so the result must equal the
    /// triple loop's bit for bit (a skipped input, tile or store shows; unwritten outputs are NaN
    /// in tests).
    #[test]
    fn matches_the_triple_loop() {
        let isas = isas();
        if isas.is_empty() {
            eprintln!("no AVX2: the few-rows product is not used on this CPU");
            return;
        }
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            for &isa in &isas {
                for (m, n, k) in [
                    (4, 6, 16),
                    (12, 24, 48),
                    (5, 7, 17),
                    (7, 13, 33),
                    (1, 1, 1),
                    (1, 40, 5),
                    (33, 100, 70),
                    (64, 30, 8),
                    (3, 4, 8),
                    (97, 25, 20),
                    (128, 14, 37),
                ] {
                    let x: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 9) as f32 - 4.0).collect();
                    let w: Vec<f32> = (0..n * k).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
                    let bias: Vec<f32> = (0..n).map(|j| (j % 5) as f32 - 2.0).collect();
                    for (b, relu) in [
                        (None, false),
                        (Some(&bias[..]), false),
                        (Some(&bias[..]), true),
                    ] {
                        let got = pool.install(|| forward_with(isa, (m, n, k), &x, &w, b, relu));
                        for i in 0..m {
                            for j in 0..n {
                                let mut want: f32 =
                                    (0..k).map(|p| x[i * k + p] * w[j * k + p]).sum();
                                want += b.map_or(0.0, |b| b[j]);
                                if relu {
                                    want = want.max(0.0);
                                }
                                assert_eq!(
                                    got[i * n + j],
                                    want,
                                    "{isa:?}, {threads} threads, {m}×{n}×{k}, bias {}, relu {relu}: ({i}, {j})",
                                    b.is_some()
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// More rows than [`MAX_ROWS`], or an empty product, are left to `gemm`.
    #[test]
    fn leaves_many_rows_to_gemm() {
        let (x, w) = (vec![1.0; (MAX_ROWS + 1) * 8], vec![1.0; 8 * 8]);
        assert!(forward((MAX_ROWS + 1, 8, 8), &x, &w, None, false).is_none());
        assert!(forward((0, 8, 8), &x, &w, None, false).is_none());
    }
}
