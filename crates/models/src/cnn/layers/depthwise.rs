//! Depthwise convolution from primitive ops, for [`super::Conv2d`] on devices other than the
//! CPU.

use candle_core::{Result, Tensor};

use super::windows::windows;

/// Depthwise convolution (one input channel per group, `c_out = m·c_in`), PyTorch semantics:
/// output channel `o` reads input channel `o / m`.
pub(super) fn depthwise(x: &Tensor, weight: &Tensor, pad: usize, stride: usize) -> Result<Tensor> {
    let (b, c, _, _) = x.dims4()?;
    let (c_out, _, k, _) = weight.dims4()?;
    let m = c_out / c;
    let win = windows(x, k, stride, pad, 0.0)?; // [b, c, k², ho, wo]
    let (ho, wo) = (win.dim(3)?, win.dim(4)?);
    let w = weight.reshape((1, c, m, k * k, 1, 1))?;
    win.unsqueeze(2)?
        .broadcast_mul(&w)?
        .sum(3)?
        .reshape((b, c_out, ho, wo))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::{max_diff, rand};
    use candle_core::Var;

    /// Depthwise (with and without channel multiplier, stride 1 and 2) equals candle's grouped
    /// conv forward and backward.
    #[test]
    fn depthwise_matches_candle_grouped_conv() -> Result<()> {
        for (c, m, k, stride, pad, hw) in [
            (4, 1, 3, 1, 1, 8),
            (4, 1, 3, 2, 1, 8),
            (3, 2, 5, 2, 2, 7),
            (2, 2, 7, 1, 3, 6),
        ] {
            let x = Var::from_tensor(&rand(&[2, c, hw, hw])?)?;
            let w = Var::from_tensor(&rand(&[c * m, 1, k, k])?)?;
            let ours = depthwise(&x, &w, pad, stride)?;
            let theirs = x.conv2d(&w, pad, stride, 1, c)?;
            assert_eq!(ours.dims(), theirs.dims());
            assert!(max_diff(&ours, &theirs)? < 1e-4);
            let probe = rand(ours.dims())?;
            let g1 = (ours * &probe)?.sum_all()?.backward()?;
            let g2 = (theirs * &probe)?.sum_all()?.backward()?;
            for v in [x.as_tensor(), w.as_tensor()] {
                let (a, b) = (g1.get(v).expect("grad"), g2.get(v).expect("grad"));
                assert!(max_diff(a, b)? < 1e-3, "c {c} m {m} k {k} stride {stride}");
            }
        }
        Ok(())
    }
}
