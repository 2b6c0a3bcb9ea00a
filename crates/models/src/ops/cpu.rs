//! Helpers shared by the custom ops' CPU kernels: borrowing f32 data and calling `gemm`.

use candle_core::{CpuStorage, Layout, Result, Tensor};
use gemm::Parallelism;

/// The f32 data of a contiguous CPU tensor; `op` names the caller in the error.
pub(crate) fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        (CpuStorage::F32(_), None) => candle_core::bail!("{op} op needs contiguous tensors"),
        _ => candle_core::bail!("{op} op supports f32 only"),
    }
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
