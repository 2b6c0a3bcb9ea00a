//! Max pooling (with padding) and global average pooling.

use candle_core::{Result, Tensor};

use super::windows::windows;

/// Max pooling with a `k`×`k` window, `stride` and `pad` (padding never wins, as in PyTorch).
pub fn max_pool2d(x: &Tensor, k: usize, stride: usize, pad: usize) -> Result<Tensor> {
    crate::ops::pool::max_pool2d(x, k, stride, pad, || {
        if pad == 0 && k == stride {
            return x.max_pool2d(k);
        }
        windows(x, k, stride, pad, f32::NEG_INFINITY)?.max(2)
    })
}

/// Mean over the spatial dimensions: `[batch, c, h, w]` → `[batch, c]`.
pub fn global_avg_pool(x: &Tensor) -> Result<Tensor> {
    crate::ops::pool::global_avg_pool_keepdim(x)?.flatten_from(1)
}

/// Squeeze for excitation: spatial mean kept as `[batch, c, 1, 1]`.
pub fn global_avg_pool_keepdim(x: &Tensor) -> Result<Tensor> {
    crate::ops::pool::global_avg_pool_keepdim(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::rand;
    use candle_core::Var;

    /// Padded max pooling equals a direct computation and passes gradients to the maxima.
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn padded_max_pool() -> Result<()> {
        let x = Var::from_tensor(&rand(&[1, 2, 5, 5])?)?;
        for stride in [1, 2] {
            let y = max_pool2d(&x, 3, stride, 1)?;
            let ho = (5 + 2 - 3) / stride + 1;
            assert_eq!(y.dims(), &[1, 2, ho, ho]);
            let xv = x.as_tensor().squeeze(0)?.to_vec3::<f32>()?;
            let yv = y.squeeze(0)?.to_vec3::<f32>()?;
            for c in 0..2 {
                for i in 0..ho {
                    for j in 0..ho {
                        let mut best = f32::NEG_INFINITY;
                        for di in 0..3 {
                            for dj in 0..3 {
                                let (r, q) = (
                                    (i * stride + di) as isize - 1,
                                    (j * stride + dj) as isize - 1,
                                );
                                if (0..5).contains(&r) && (0..5).contains(&q) {
                                    best = best.max(xv[c][r as usize][q as usize]);
                                }
                            }
                        }
                        assert_eq!(yv[c][i][j], best);
                    }
                }
            }
            let g = y.sum_all()?.backward()?;
            let gx = g
                .get(x.as_tensor())
                .expect("grad")
                .sum_all()?
                .to_scalar::<f32>()?;
            assert!(gx > 0.0);
        }
        Ok(())
    }
}
