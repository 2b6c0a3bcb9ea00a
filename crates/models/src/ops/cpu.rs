//! Helpers shared by the custom ops' CPU kernels: borrowing f32 data and calling `gemm`.

use std::cell::RefCell;

use candle_core::{CpuStorage, Layout, Result, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;

/// The f32 data of a contiguous CPU tensor; `op` names the caller in the error.
pub(crate) fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        (CpuStorage::F32(_), None) => candle_core::bail!("{op} op needs contiguous tensors"),
        _ => candle_core::bail!("{op} op supports f32 only"),
    }
}

/// The contiguous f32 data of several of a custom op's arguments at once, in order
/// (`let [x, w, b] = f32_slices([(s1, l1), (s2, l2), (s3, l3)], OP)?`), as [`f32_slice`].
pub(crate) fn f32_slices<'a, const N: usize>(
    args: [(&'a CpuStorage, &Layout); N],
    op: &str,
) -> Result<[&'a [f32]; N]> {
    let mut out: [&'a [f32]; N] = [&[]; N];
    for (o, (s, l)) in out.iter_mut().zip(args) {
        *o = f32_slice(s, l, op)?;
    }
    Ok(out)
}

/// Runs `f` on the f32 CPU data of the contiguous tensor `t`; `op` names the caller in errors.
pub(crate) fn read<R>(t: &Tensor, op: &str, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    let (s, l) = t.storage_and_layout();
    match &*s {
        candle_core::Storage::Cpu(cs) => f(f32_slice(cs, l, op)?),
        _ => candle_core::bail!("{op} op runs on the CPU only"),
    }
}

/// `gemm` parallelism over rayon's pool (`RAYON_NUM_THREADS`), or none with one thread.
pub(crate) fn parallelism() -> Parallelism {
    match rayon::current_num_threads() {
        0 | 1 => Parallelism::None,
        n => Parallelism::Rayon(n),
    }
}

/// `dst[m×n] (+)= a[m×k]·b[k×n]`, matrices given by pointer, row stride and column stride.
///
/// # Safety
/// The pointers must address the full matrices with the given strides, and `dst` must not
/// alias `a` or `b`.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: *mut f32,
    dst_rs: usize,
    accumulate: bool,
    a: (*const f32, usize, usize),
    b: (*const f32, usize, usize),
    par: Parallelism,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                std::ptr::write_bytes(dst.add(r * dst_rs), 0, n);
            }
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let parallel = !matches!(par, Parallelism::None);
        if super::panel_product::takes((m, n, k), parallel) {
            // SAFETY: as this function's contract; `takes` checked AVX2 and FMA.
            return unsafe {
                super::panel_product::product((m, n, k), dst, dst_rs, accumulate, a, b, parallel)
            };
        }
    }
    // A right operand whose columns are contiguous but lie a multiple of 1 KiB apart (a weight
    // read transposed with 1024 inputs, a 32×32 map's positions) makes gemm's AVX-512 kernels
    // read addresses that alias in the L1 cache: 30–46 instead of 230 GFLOP/s for 32×1024×1024
    // (a scratch benchmark, docs/performance.md). A copy with padded columns costs one pass over b.
    let padded = pad_aliasing_columns((k, n), b);
    let b = padded
        .as_ref()
        .map_or(b, |p| (p.as_ptr(), 1, k + ALIASING_PAD));
    gemm::gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_rs as isize,
        accumulate,
        a.0,
        a.2 as isize,
        a.1 as isize,
        b.0,
        b.2 as isize,
        b.1 as isize,
        1.0,
        1.0,
        false,
        false,
        false,
        par,
    )
}

/// Calls `f(first_sample, chunk)` on consecutive chunks of `s` samples of `per_sample` elements
/// each of `total`, in parallel on rayon's pool when `parallel`.
pub(crate) fn for_chunks(
    total: &mut [f32],
    per_sample: usize,
    s: usize,
    parallel: bool,
    f: impl Fn(usize, &mut [f32]) + Sync + Send,
) {
    let per_chunk = (per_sample * s).max(1);
    if parallel {
        total
            .par_chunks_mut(per_chunk)
            .enumerate()
            .for_each(|(i, c)| f(i * s, c));
    } else {
        total
            .chunks_mut(per_chunk)
            .enumerate()
            .for_each(|(i, c)| f(i * s, c));
    }
}

/// Sums over `chunks` chunks of per-chunk contributions to one `len`-long result (a weight
/// gradient): `add(chunk, acc, first, scratch)` adds chunk `chunk` into `acc`, with scratch
/// buffers (`S::default()` at first) that stay with the task across its chunks. With
/// `parallel`, each thread of rayon's pool takes every `threads`-th chunk into its own
/// accumulator and the accumulators are summed in thread order, so the result does not depend
/// on scheduling.
///
/// An accumulator is neither zeroed nor read before its task's first chunk: that call gets
/// `first == true` and writes its contribution instead of adding it (a product with
/// `accumulate == false`). Zeroing it cost a `memset` of each task's whole accumulator, and
/// adding to fresh zeroed memory read the kernel's shared zero page first, so every page's
/// first write was a copy-on-write fault with a TLB flush on the other CPUs (5 % of VGG16's
/// training step on a 2-vCPU VM).
///
/// # Safety
/// `add` called with `first == true` must write every element of `acc` and read none before
/// writing it (the accumulator is uninitialised then, as in [`filled`]).
pub(crate) unsafe fn sum_chunks<S: Default>(
    chunks: usize,
    len: usize,
    parallel: bool,
    add: impl Fn(usize, &mut [f32], bool, &mut S) + Sync,
) -> Vec<f32> {
    // SAFETY: passed on from the caller.
    unsafe { sum_items((0..chunks).collect(), len, parallel, add) }
}

/// [`sum_chunks`] over the consecutive `per_chunk`-element chunks of `out` (the last may be
/// shorter), each of which its task also writes: `add(chunk, out_chunk, acc, first, scratch)`.
/// One pass that makes both an input gradient and a weight gradient from the same intermediate.
///
/// # Safety
/// As for [`sum_chunks`]: with `first == true`, `add` writes every element of `acc` before
/// reading any.
pub(crate) unsafe fn sum_chunks_writing<S: Default>(
    out: &mut [f32],
    per_chunk: usize,
    len: usize,
    parallel: bool,
    add: impl Fn(usize, &mut [f32], &mut [f32], bool, &mut S) + Sync,
) -> Vec<f32> {
    let items = out.chunks_mut(per_chunk.max(1)).enumerate().collect();
    // SAFETY: passed on from the caller.
    unsafe {
        sum_items(items, len, parallel, |(ch, o), acc, f, s| {
            add(ch, o, acc, f, s)
        })
    }
}

/// Item `i` of `items` goes to task `i % threads`, whose accumulator it adds to; the
/// accumulators are summed in task order, element by element in parallel (see [`sum_chunks`]).
///
/// # Safety
/// As for [`sum_chunks`].
unsafe fn sum_items<T: Send, S: Default>(
    items: Vec<T>,
    len: usize,
    parallel: bool,
    add: impl Fn(T, &mut [f32], bool, &mut S) + Sync,
) -> Vec<f32> {
    let threads = if parallel {
        rayon::current_num_threads().clamp(1, items.len().max(1))
    } else {
        1
    };
    let mut tasks: Vec<Vec<T>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        tasks[i % threads].push(item);
    }
    let work = |task: Vec<T>| {
        let (mut items, mut scratch) = (task.into_iter(), S::default());
        let first = |acc: &mut [f32]| match items.next() {
            Some(item) => add(item, acc, true, &mut scratch),
            None => acc.fill(0.0),
        };
        // SAFETY: the first item writes every element (the caller's promise), or none is left
        // and the accumulator is zeroed.
        let mut acc = unsafe { filled(len, first) };
        for item in items {
            add(item, &mut acc, false, &mut scratch);
        }
        acc
    };
    let parts: Vec<Vec<f32>> = if threads > 1 {
        tasks.into_par_iter().map(work).collect()
    } else {
        tasks.into_iter().map(work).collect()
    };
    let mut it = parts.into_iter();
    let mut total = it.next().unwrap_or_else(|| vec![0f32; len]);
    let rest: Vec<Vec<f32>> = it.collect();
    if !rest.is_empty() {
        total.par_chunks_mut(CHUNK).enumerate().for_each(|(i, t)| {
            for p in &rest {
                t.iter_mut().zip(&p[i * CHUNK..]).for_each(|(a, b)| *a += b);
            }
        });
    }
    total
}

/// A new vector of `len` elements that `fill` writes, without zeroing it first: the output of a
/// kernel that writes every element would otherwise cost one more full pass over memory
/// (`vec![0.0; len]`, 3–5 % of a CNN's inference in `memset`). Builds with debug assertions
/// and unit tests fill it with NaN first, so an element `fill` misses shows up in their results.
///
/// # Safety
/// `fill` must write every element of its slice before reading it, and read none it has not
/// written (f32 has no invalid bit patterns, but reading memory never written is undefined).
pub(crate) unsafe fn filled(len: usize, fill: impl FnOnce(&mut [f32])) -> Vec<f32> {
    let mut v: Vec<f32> = Vec::with_capacity(len);
    if cfg!(any(test, debug_assertions)) {
        v.resize(len, f32::NAN);
    }
    // SAFETY: the capacity is `len`; the caller guarantees every element is written before it
    // is read, and the length is set only after `fill` has written them.
    unsafe {
        fill(std::slice::from_raw_parts_mut(v.as_mut_ptr(), len));
        v.set_len(len);
    }
    v
}

/// Elements per parallel task of element-wise kernels (64 KiB of f32).
pub(crate) const CHUNK: usize = 16384;

/// `f` of every element of `x`, into a new vector (written once, never zeroed), in parallel
/// tasks of [`CHUNK`] elements at the CPU's full vector width ([`simd`]).
#[inline(always)]
pub(crate) fn map_new(x: &[f32], f: impl Fn(f32) -> f32 + Sync + Send) -> Vec<f32> {
    // SAFETY: every element of the output is written from its element of `x`, none read.
    unsafe {
        filled(x.len(), |y| {
            y.par_chunks_mut(CHUNK)
                .zip(x.par_chunks(CHUNK))
                .for_each(|(yc, xc)| {
                    simd(
                        #[inline(always)]
                        || {
                            for (o, &v) in yc.iter_mut().zip(xc) {
                                *o = f(v);
                            }
                        },
                    )
                });
        })
    }
}

/// Runs `f` on a scratch buffer of `len` elements kept by this thread between calls, so the
/// large temporaries of a convolution (its column matrix) are neither zeroed nor faulted in
/// again for every chunk. The contents are whatever the last user left: `f` must write every
/// element before it reads it. A nested call on the same thread (rayon runs other tasks while
/// one waits) gets a fresh zeroed buffer instead.
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    thread_local!(static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) });
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            f(&mut buf[..len])
        }
        Err(_) => f(&mut vec![0.0; len]),
    })
}

/// The outputs `o` (of `out`) along one side of `size` inputs whose window tap at offset `off`
/// reads inside the input: `o·stride + off − pad` in `[0, size)`. Shared by the convolution's
/// im2col/col2im and max pooling.
pub(crate) fn tap_outputs(
    off: usize,
    (pad, stride): (usize, usize),
    out: usize,
    size: usize,
) -> std::ops::Range<usize> {
    let lo = pad.saturating_sub(off).div_ceil(stride);
    // o·stride + off − pad ≤ size − 1  ⇔  o ≤ (size − 1 + pad − off) / stride
    let hi = if size + pad > off {
        ((size - 1 + pad - off) / stride + 1).min(out)
    } else {
        0
    };
    lo.min(hi)..hi
}

/// Planes of `hw` elements per parallel task, for kernels that work plane by plane: at least
/// 4096 elements a task, so that the many tiny planes of late layers (a 2×2 map is 4 elements)
/// do not each pay rayon's per-task cost.
pub(crate) fn planes_per_task(hw: usize) -> usize {
    (CHUNK / 4 / hw.max(1)).max(1)
}

/// `g` where `r > 0`, else 0, without a branch: a ReLU's output `r` decides, and since about half
/// the elements after a ReLU are 0 a branch would be mispredicted all the time.
#[inline(always)]
pub(crate) fn pass_pos(g: f32, r: f32) -> f32 {
    f32::from_bits(g.to_bits() & (-((r > 0.0) as i32)) as u32)
}

/// `dy` where `res > 0`, else 0: the gradient through a ReLU from its output `res` (no gradient
/// where the output is 0, PyTorch's convention). `op` names the caller in errors.
pub(crate) fn relu_grad(res: &Tensor, dy: &Tensor, op: &str) -> Result<Tensor> {
    let (r, g) = (res.contiguous()?, dy.contiguous()?);
    let out = read(&r, op, |r| {
        read(&g, op, |g| {
            let mut out = vec![0f32; r.len()];
            out.par_chunks_mut(CHUNK)
                .zip(r.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)))
                .for_each(|(o, (rc, gc))| {
                    simd(
                        #[inline(always)]
                        || {
                            for ((o, &y), &gv) in o.iter_mut().zip(rc).zip(gc) {
                                *o = pass_pos(gv, y);
                            }
                        },
                    )
                });
            Ok(out)
        })
    })?;
    Tensor::from_vec(out, res.shape(), res.device())
}

/// A raw pointer that may cross threads, for kernels whose parallel tasks write disjoint parts
/// of one output.
#[derive(Clone, Copy)]
pub(crate) struct SendPtr(pub(crate) *mut f32);
// SAFETY: only used by tasks that write disjoint elements (see `slice`).
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

impl SendPtr {
    /// The pointer (a method, so closures capture the whole `Send` wrapper, not the field).
    pub(crate) fn ptr(self) -> *mut f32 {
        self.0
    }

    /// # Safety
    /// `[off, off + len)` must be in bounds and written by no other thread meanwhile.
    pub(crate) unsafe fn slice<'a>(self, off: usize, len: usize) -> &'a mut [f32] {
        std::slice::from_raw_parts_mut(self.0.add(off), len)
    }
}

/// Column strides (f32s) that are multiples of this alias in the L1 cache when gemm walks them.
const ALIASING_STRIDE: usize = 256;
/// Extra f32s after each copied column (64 bytes), so the copy's columns do not alias.
const ALIASING_PAD: usize = 16;

/// Whether [`matmul`] copies a `k×n` right operand with row stride `rs` and column stride `cs`
/// before `gemm` reads it (see [`pad_aliasing_columns`]): a linear layer's weight (`rs` 1, `cs`
/// its inputs) with 512, 768, 1024, … inputs and 16 or more outputs.
fn copies_aliasing_columns((k, n): (usize, usize), (rs, cs): (usize, usize)) -> bool {
    rs == 1 && cs >= 2 * ALIASING_STRIDE && cs % ALIASING_STRIDE == 0 && k >= 64 && n >= 16
}

/// A copy of the `k×n` operand `b` (pointer, row stride, column stride) with each column
/// followed by [`ALIASING_PAD`] zeros, when its columns are contiguous and a multiple of
/// [`ALIASING_STRIDE`] apart; `None` when `b` is read well as it is.
///
/// # Safety
/// `b` must address the full `k×n` matrix with its strides.
unsafe fn pad_aliasing_columns(
    (k, n): (usize, usize),
    b: (*const f32, usize, usize),
) -> Option<Vec<f32>> {
    let (ptr, rs, cs) = b;
    if !copies_aliasing_columns((k, n), (rs, cs)) {
        return None;
    }
    let mut out = Vec::with_capacity((k + ALIASING_PAD) * n);
    for j in 0..n {
        out.extend_from_slice(std::slice::from_raw_parts(ptr.add(j * cs), k));
        out.extend_from_slice(&[0.0; ALIASING_PAD]);
    }
    Some(out)
}

/// `a[m×k]·b[k×n]` into a new row-major `m×n` vector; `a` and `b` are (slice, row stride,
/// column stride) views whose every addressed element lies inside the slice.
pub(crate) fn product(
    (m, n, k): (usize, usize, usize),
    a: (&[f32], usize, usize),
    b: (&[f32], usize, usize),
    par: Parallelism,
) -> Vec<f32> {
    let last = |(s, rs, cs): (&[f32], usize, usize), rows: usize, cols: usize| {
        rows == 0 || cols == 0 || (rows - 1) * rs + (cols - 1) * cs < s.len()
    };
    assert!(
        last(a, m, k) && last(b, k, n),
        "matrix product operands out of bounds"
    );
    let threads = match par {
        Parallelism::Rayon(t) => t.max(1),
        _ => 1,
    };
    if threads > 1 && m * n >= SPLIT_INNER_MIN_OUTPUT && k >= LONG_INNER * m.max(n) {
        return split_inner((m, n, k), a, b, threads);
    }
    let mut out: Vec<f32> = Vec::with_capacity(m * n);
    // Few rows (a linear layer at batch 32–256): one block of columns per thread, each an
    // unthreaded product. `gemm`'s own threading splits such a product finely and synchronises
    // its threads per block, which cost MLP inference half its time (2–3× slower at batch 32).
    let block = if threads > 1 && m <= FEW_ROWS && n >= 64 {
        n.div_ceil(threads).div_ceil(16) * 16
    } else {
        n.max(1)
    };
    let dst = SendPtr(out.as_mut_ptr());
    let one = |c0: usize, par: Parallelism| {
        let nb = block.min(n - c0);
        // SAFETY: both operands were checked to lie inside their slices, so are their column
        // blocks; `out` has room for m×n elements and each block writes its own columns in
        // full (no accumulation).
        unsafe {
            matmul(
                (m, nb, k),
                dst.ptr().add(c0),
                n,
                false,
                (a.0.as_ptr(), a.1, a.2),
                (b.0.as_ptr().add(c0 * b.2), b.1, b.2),
                par,
            )
        }
    };
    if block >= n {
        one(0, par);
    } else {
        (0..n.div_ceil(block))
            .into_par_iter()
            .for_each(|i| one(i * block, Parallelism::None));
    }
    // SAFETY: every element was written above.
    unsafe { out.set_len(m * n) };
    out
}

/// Rows up to which [`product`] splits the work by columns instead of leaving it to `gemm`.
const FEW_ROWS: usize = 256;

/// How many times the output's larger side the inner dimension must be for [`product`] to split
/// the inner dimension between its threads ([`split_inner`]).
const LONG_INNER: usize = 2;

/// Outputs from which [`product`] may split the inner dimension: a smaller product (an MLP's
/// 10-way classifier at batch 128, 1280 outputs) is over before the split's tasks and sum pay.
const SPLIT_INNER_MIN_OUTPUT: usize = 4096;

/// [`product`] for a long inner dimension (a transformer's weight gradient, summed over every
/// token of the batch: 8320 at ViT batch 128, against a 576×192 output): each of `threads` tasks
/// takes a contiguous part of it into its own `m×n` accumulator, as an unthreaded product, and
/// the accumulators are summed in task order. `gemm`'s own threading splits the small output
/// instead and synchronises its threads at every block of the inner dimension: 121–149 GFLOP/s
/// on ViT-small's four weight gradients at batch 128 with its AVX2 kernels on 2 threads, 15–28 %
/// faster split this way (an Intel Xeon VM), and faster already at 2080 (batch 32). ViT-small's
/// whole training step gained 1–2 %, within the run-to-run spread: the weight gradients are
/// about a sixth of it.
fn split_inner(
    (m, n, k): (usize, usize, usize),
    a: (&[f32], usize, usize),
    b: (&[f32], usize, usize),
    threads: usize,
) -> Vec<f32> {
    let per = k.div_ceil(threads);
    let add = |part: usize, acc: &mut [f32], first: bool, _: &mut ()| {
        let k0 = part * per;
        let kk = per.min(k - k0);
        // SAFETY: [`product`] checked that both operands lie inside their slices; this part's
        // columns `k0..k0 + kk` of `a` and rows of `b` are among them, and `acc` (m×n, its
        // own buffer) aliases neither.
        unsafe {
            matmul(
                (m, n, kk),
                acc.as_mut_ptr(),
                n,
                !first,
                (a.0.as_ptr().add(k0 * a.2), a.1, a.2),
                (b.0.as_ptr().add(k0 * b.1), b.1, b.2),
                Parallelism::None,
            )
        }
    };
    // SAFETY: every part is non-empty (`per · (parts − 1) < k`), and a task's first part is a
    // product that writes all of its accumulator (`accumulate` off).
    unsafe { sum_chunks(k.div_ceil(per), m * n, true, add) }
}

/// Runs `f` compiled for the widest vectors the CPU has (checked at run time): AVX-512 where
/// present, else AVX2 and FMA. The default build targets baseline x86-64, whose 4-wide SSE2
/// vectors halve the speed of element-wise loops; on a CPU with full-width AVX-512 units (AMD
/// Zen 5) 16 lanes double it again (SiLU over a plane: 0.57 → 0.26 ns an element). Results do
/// not depend on the width: Rust neither reassociates nor fuses float arithmetic, so each lane
/// computes what the scalar loop would. `f` must be inlined into the dispatching function to
/// benefit, so kernels called through it are `#[inline(always)]`.
#[inline(always)]
pub(crate) fn simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
        unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if wide_vectors() {
            // SAFETY: the CPU supports the features `avx512` was compiled for (checked).
            return unsafe { avx512(f) };
        }
        if has_avx2_fma() {
            // SAFETY: the CPU supports the features `avx2` was compiled for (checked above).
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// Whether [`simd`] runs its kernels with AVX-512: the CPU has AVX-512 F, BW, DQ and VL, and
/// `GREENBENCH_SIMD` is not `avx2` (the switch for timing the two widths against each other, or
/// for CPUs whose clock drops under 512-bit instructions). Read once per process.
#[cfg(target_arch = "x86_64")]
pub(crate) fn wide_vectors() -> bool {
    static WIDE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WIDE.get_or_init(|| {
        std::env::var("GREENBENCH_SIMD").map_or(true, |v| v != "avx2") && has_avx512()
    })
}

/// Whether the CPU has what [`simd`]'s AVX-512 kernels are compiled for (F, BW, DQ, VL, AVX2,
/// FMA), whatever `GREENBENCH_SIMD` says.
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx512() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512dq")
        && std::is_x86_feature_detected!("avx512vl")
        && has_avx2_fma()
}

/// Whether the CPU has what [`simd`]'s AVX2 kernels are compiled for (AVX2 and FMA).
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2_fma() -> bool {
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

/// `dst[t] += a·src[t]` over the shorter of the two.
#[inline(always)]
pub(crate) fn axpy(dst: &mut [f32], a: f32, src: &[f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d += a * s;
    }
}

/// Sum of `f(v)` over `v`, in 8 independent lanes (vectorisable).
#[inline(always)]
pub(crate) fn sum8(v: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let (chunks, tail) = v.as_chunks::<8>();
    let mut acc = [0f32; 8];
    for ch in chunks {
        for l in 0..8 {
            acc[l] += f(ch[l]);
        }
    }
    let tail: f32 = tail.iter().map(|&v| f(v)).sum();
    acc.iter().sum::<f32>() + tail
}

/// `Σ a[t]·b[t]` over the shorter of the two, in 8 independent lanes (vectorisable).
#[inline(always)]
pub(crate) fn dot8(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let ((ac, at), (bc, bt)) = (a[..n].as_chunks::<8>(), b[..n].as_chunks::<8>());
    let mut acc = [0f32; 8];
    for (x, y) in ac.iter().zip(bc) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = at.iter().zip(bt).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In tests the buffer `filled` hands out starts as NaN, so an element a kernel forgets to
    /// write poisons its result instead of passing with a leftover value.
    #[test]
    fn filled_exposes_unwritten_elements_in_tests() {
        // SAFETY: reads nothing; every element is written (the second call's contract is
        // deliberately broken only in a test build, where the buffer is initialised to NaN).
        let full = unsafe { filled(6, |y| y.iter_mut().for_each(|v| *v = 1.5)) };
        assert_eq!(full, vec![1.5; 6]);
        let gap = unsafe { filled(4, |y| y[..3].fill(2.0)) };
        assert_eq!(&gap[..3], &[2.0; 3]);
        assert!(
            gap[3].is_nan(),
            "the unwritten element must be NaN, got {}",
            gap[3]
        );
    }

    /// A kernel run through [`simd`] (AVX-512 or AVX2, whichever this CPU has) gives the same
    /// bits as the baseline build of the same loop: the dispatcher changes the vector width only.
    #[test]
    fn simd_kernels_do_not_depend_on_the_vector_width() {
        use super::super::elementwise::exp_f32;
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin() * 90.0).collect();
        let silu = |v: &[f32], out: &mut [f32]| {
            for (o, &a) in out.iter_mut().zip(v) {
                *o = a / (1.0 + exp_f32(-a));
            }
        };
        let (mut wide, mut base) = (vec![0f32; x.len()], vec![0f32; x.len()]);
        simd(
            #[inline(always)]
            || silu(&x, &mut wide),
        );
        silu(&x, &mut base);
        assert_eq!(wide, base);
    }

    /// A right operand read transposed with 1024 rows per column goes through the padded copy;
    /// the product equals the plain triple loop.
    #[test]
    fn product_with_an_aliasing_column_stride_is_exact() {
        let (m, n, k) = (5, 20, 1024);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
        // b[p][j] = w[j][p]: w is n×k row-major, read as k×n with row stride 1, column stride k.
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 3) % 13) as f32 - 6.0).collect();
        // SAFETY: b addresses k×n elements of w with the given strides.
        assert!(unsafe { pad_aliasing_columns((k, n), (w.as_ptr(), 1, k)) }.is_some());
        let got = product((m, n, k), (&a, k, 1), (&w, 1, k), Parallelism::None);
        for i in 0..m {
            for j in 0..n {
                let want: f32 = (0..k).map(|p| a[i * k + p] * w[j * k + p]).sum();
                assert_eq!(got[i * n + j], want, "({i}, {j})");
            }
        }
        // A well-strided operand is used as it is.
        assert!(unsafe { pad_aliasing_columns((k, n), (w.as_ptr(), 1, k + 16)) }.is_none());
    }

    /// A long inner dimension on 2 and 3 threads (an uneven last part on 3): the parts' sums
    /// add up to the triple loop's, bit for bit with small integers; a shorter one (under twice
    /// the output's larger side) is left to `gemm`'s threading with the same result.
    #[test]
    fn product_split_along_the_inner_dimension_is_exact() {
        for (threads, (m, n, k)) in [(2, (64, 72, 160)), (3, (65, 70, 200)), (2, (70, 64, 100))] {
            // a is read transposed (a linear layer's output gradient), b as it lies.
            let g: Vec<f32> = (0..k * m).map(|i| ((i * 5) % 9) as f32 - 4.0).collect();
            let x: Vec<f32> = (0..k * n).map(|i| ((i * 3) % 7) as f32 - 3.0).collect();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a test thread pool");
            let par = Parallelism::Rayon(threads);
            let got = pool.install(|| product((m, n, k), (&g, 1, m), (&x, n, 1), par));
            for i in 0..m {
                for j in 0..n {
                    let want: f32 = (0..k).map(|p| g[p * m + i] * x[p * n + j]).sum();
                    assert_eq!(got[i * n + j], want, "{threads} threads, ({i}, {j})");
                }
            }
        }
    }

    /// Few rows on several threads: the product is split into column blocks (here 64 + 36
    /// columns, the right operand read transposed as a linear layer's weight); every element is
    /// the triple loop's. Small integers make the sums exact in any order.
    #[test]
    fn product_split_by_columns_is_exact() {
        let (m, n, k) = (7, 100, 33);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 5) % 9) as f32 - 4.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 3) % 7) as f32 - 3.0).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a 2-thread pool");
        let got =
            pool.install(|| product((m, n, k), (&a, k, 1), (&w, 1, k), Parallelism::Rayon(2)));
        for i in 0..m {
            for j in 0..n {
                let want: f32 = (0..k).map(|p| a[i * k + p] * w[j * k + p]).sum();
                assert_eq!(got[i * n + j], want, "({i}, {j})");
            }
        }
    }
}
