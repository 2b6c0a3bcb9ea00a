//! Custom candle ops with their own CPU forward and backward passes, where candle's generic
//! kernels are the bottleneck of training on the CPU. Each is tested against candle's reference
//! op (outputs and gradients within 1e-4).

pub mod attention;
pub mod batch_norm;
pub mod batch_norm_join;
pub mod conv;
pub(crate) mod cpu;
pub mod elementwise;
pub mod epilogue;
mod few_rows;
pub mod linear;
pub mod norm;
#[cfg(target_arch = "x86_64")]
mod panel_product;
pub mod pool;
#[cfg(test)]
pub(crate) mod testing;
mod winograd;

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{DType, Tensor};

static REFERENCE: AtomicBool = AtomicBool::new(false);

/// Makes every op of this module fall back to candle's primitive-op reference (process-wide), for
/// cross-checks such as training the same model both ways.
pub fn set_reference_ops(on: bool) {
    REFERENCE.store(on, Ordering::Relaxed);
}

/// The kernels `gemm` runs the matrix products with on this CPU: `"avx512"` (a build with the
/// default `gemm-avx512` feature on a CPU with AVX-512F), `"avx2"` (AVX2 + FMA; tall products,
/// a transformer's over every token, then run on greenbench's own AVX2 kernel,
/// `ops/panel_product.rs`) or `"scalar"`. Benchmarks print it beside [`simd_width`].
pub fn gemm_width() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if cfg!(feature = "gemm-avx512") && std::is_x86_feature_detected!("avx512f") {
            return "avx512";
        }
        if std::is_x86_feature_detected!("fma") {
            return "avx2";
        }
    }
    "scalar"
}

/// The vector instructions the element-wise kernels run with on this CPU: `"avx512"`, `"avx2"`
/// or `"baseline"` (set `GREENBENCH_SIMD=avx2` to keep AVX-512 off). Their results are the same
/// bits with each; only speed differs, so benchmarks print it next to the thread count. The
/// linear layers' products of few rows (up to 64 or 128, `ops/few_rows.rs`) run with the same
/// width (on `gemm` with `"baseline"`), their sums ordered by it, as `gemm`'s are.
pub fn simd_width() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if cpu::wide_vectors() {
            return "avx512";
        }
        if cpu::has_avx2_fma() {
            return "avx2";
        }
    }
    "baseline"
}

/// Whether the custom ops apply to `t`: f32 on the CPU, reference mode off.
pub(crate) fn use_custom(t: &Tensor) -> bool {
    !REFERENCE.load(Ordering::Relaxed) && t.device().is_cpu() && t.dtype() == DType::F32
}
