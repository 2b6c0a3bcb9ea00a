//! Test helper shared by the custom ops' tests: compare an op with its reference.

use candle_core::backprop::GradStore;
use candle_core::{Device, Result, Tensor};

/// A CPU tensor of standard normal values of `shape`.
pub(crate) fn rand(shape: &[usize]) -> Result<Tensor> {
    Tensor::randn(0f32, 1.0, shape, &Device::Cpu)
}

/// Largest absolute element of `t`.
pub(crate) fn max_abs(t: &Tensor) -> Result<f32> {
    t.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
}

/// Largest absolute difference of `a` and `b`.
pub(crate) fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    max_abs(&(a - b)?)
}

/// [`max_diff`] relative to the largest magnitude of the reference `b` (when that exceeds 1).
pub(crate) fn max_rel_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
    Ok(max_diff(a, b)? / max_abs(b)?.max(1.0))
}

/// Asserts that `ours` equals `theirs` within `tol` and that, through a random probe, the
/// gradient of every tensor in `wrt` does too, each relative to the reference's largest element
/// when that exceeds 1 (a sum over 784 inputs of standard normal products reaches about 100, and
/// its last bits depend on the order of the additions). `what` names the case in failures. Returns the gradients of `ours`.
///
/// `kink`, for ops ending in a ReLU, is the reference's input to that ReLU: the probe is 0 where
/// it lies within 1e-3 of 0, since there the ReLU's derivative depends on last-bit rounding
/// (f32 against f64, or PyTorch's "no gradient at 0" against candle's "gradient at 0").
pub(crate) fn assert_matches(
    ours: &Tensor,
    theirs: &Tensor,
    wrt: &[&Tensor],
    tol: f32,
    kink: Option<&Tensor>,
    what: &str,
) -> Result<GradStore> {
    assert_eq!(ours.dims(), theirs.dims(), "{what}: shapes");
    let diff = max_rel_diff(ours, theirs)?;
    assert!(diff <= tol, "{what}: forward differs by {diff} (relative)");
    let probe = Tensor::randn(0f32, 1.0, ours.dims(), &Device::Cpu)?;
    let probe = match kink {
        Some(k) => (probe * away_from_kink(k)?)?,
        None => probe,
    };
    let g1 = (ours * &probe)?.sum_all()?.backward()?;
    let g2 = (theirs * &probe)?.sum_all()?.backward()?;
    for (i, v) in wrt.iter().enumerate() {
        let (Some(a), Some(e)) = (g1.get(v), g2.get(v)) else {
            panic!("{what}: no gradient for input {i}")
        };
        let scale = max_abs(e)?.max(1.0);
        let d = max_abs(&(a - e)?)? / scale;
        assert!(
            d <= tol,
            "{what}: gradient of input {i} differs by {d} (relative)"
        );
    }
    Ok(g1)
}

/// 1 where `|pre| ≥ 1e-3`, else 0 (f32, the shape of `pre`): a probe mask away from a ReLU's kink.
pub(crate) fn away_from_kink(pre: &Tensor) -> Result<Tensor> {
    pre.abs()?.ge(1e-3)?.to_dtype(candle_core::DType::F32)
}
