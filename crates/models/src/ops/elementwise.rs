//! Fused element-wise ops, one pass forward and backward instead of several candle ops:
//! `relu(a + b)` (residual connections) and `x + b[c]` (+ ReLU) for a per-channel bias of a
//! `[n, c, …]` tensor (a convolution's bias), whose gradient candle would reduce with a slow
//! strided `sum_keepdim` over batch and space (22 % of a LeNet step).

use super::cpu::{f32_slice, read, relu_grad, CHUNK};
use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Names this op in error messages.
const OP: &str = "add-relu";

struct AddRelu;

impl CustomOp2 for AddRelu {
    fn name(&self) -> &'static str {
        "greenbench-add-relu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (a, b) = (f32_slice(s1, l1, OP)?, f32_slice(s2, l2, OP)?);
        if l1.dims() != l2.dims() {
            candle_core::bail!("add-relu of {:?} and {:?}", l1.dims(), l2.dims())
        }
        let mut y = vec![0f32; a.len()];
        y.par_chunks_mut(CHUNK)
            .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
            .for_each(|(yc, (ac, bc))| {
                for ((o, &x), &z) in yc.iter_mut().zip(ac).zip(bc) {
                    *o = (x + z).max(0.0);
                }
            });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _a: &Tensor,
        _b: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let dx = relu_grad(res, dy, OP)?;
        Ok((Some(dx.clone()), Some(dx)))
    }
}

/// `relu(a + b)` for two tensors of the same shape.
pub fn add_relu(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if super::use_custom(a) && a.dims() == b.dims() {
        a.contiguous()?.apply_op2(&b.contiguous()?, AddRelu)
    } else {
        let y = (a + b)?;
        let mask = y.gt(&y.zeros_like()?)?.to_dtype(y.dtype())?.detach();
        y * mask
    }
}

/// `x + b[c]` over `x` `[n, c, …]`, then ReLU when `relu`.
struct ChannelBias {
    relu: bool,
}

impl ChannelBias {
    /// Channels and elements per channel plane of `dims` `[n, c, …]`.
    fn planes(dims: &[usize]) -> Result<(usize, usize)> {
        match dims {
            [_, c, rest @ ..] => Ok((*c, rest.iter().product())),
            _ => candle_core::bail!("channel bias needs [batch, channels, …], got {dims:?}"),
        }
    }
}

impl CustomOp2 for ChannelBias {
    fn name(&self) -> &'static str {
        "greenbench-channel-bias"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, b) = (f32_slice(s1, l1, OP)?, f32_slice(s2, l2, OP)?);
        let (c, hw) = Self::planes(l1.dims())?;
        if b.len() != c {
            candle_core::bail!("channel bias of {} for input {:?}", b.len(), l1.dims())
        }
        let mut y = x.to_vec();
        let relu = self.relu;
        if hw > 0 {
            y.par_chunks_mut(hw).enumerate().for_each(|(i, plane)| {
                let bias = b[i % c];
                if relu {
                    plane.iter_mut().for_each(|v| *v = (*v + bias).max(0.0));
                } else {
                    plane.iter_mut().for_each(|v| *v += bias);
                }
            });
        }
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        b: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (c, hw) = Self::planes(x.dims())?;
        let g = if self.relu {
            relu_grad(res, dy, OP)?
        } else {
            dy.contiguous()?
        };
        // Per-plane sums in parallel (f64), then added per channel in a fixed order.
        let db = read(&g, OP, |g| {
            let sums: Vec<f64> = if hw == 0 {
                Vec::new()
            } else {
                g.par_chunks(hw)
                    .map(|p| p.iter().map(|&v| v as f64).sum())
                    .collect()
            };
            let mut db = vec![0f64; c];
            for (i, s) in sums.iter().enumerate() {
                db[i % c] += s;
            }
            Ok(db.into_iter().map(|v| v as f32).collect::<Vec<f32>>())
        })?;
        let db = Tensor::from_vec(db, b.shape(), b.device())?;
        Ok((Some(g), Some(db)))
    }
}

/// `x + bias[c]` for `x` `[n, c, …]` and `bias` `[c]`, followed by ReLU when `relu`.
pub fn channel_bias_act(x: &Tensor, bias: &Tensor, relu: bool) -> Result<Tensor> {
    if super::use_custom(x) && bias.dtype() == x.dtype() && x.rank() >= 2 {
        return x
            .contiguous()?
            .apply_op2(&bias.contiguous()?, ChannelBias { relu });
    }
    let mut shape = vec![1; x.rank()];
    if let Some(s) = shape.get_mut(1) {
        *s = bias.elem_count();
    }
    let y = x.broadcast_add(&bias.reshape(shape)?)?;
    if relu {
        y.relu()
    } else {
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_matches;
    use super::*;
    use candle_core::{Device, Var};

    /// Output and both gradients equal `relu(a + b)` from candle's ops.
    #[test]
    fn matches_candle_add_then_relu() -> Result<()> {
        for shape in [vec![3, 5], vec![2, 8, 6, 6], vec![40000]] {
            let a = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let ours = add_relu(&a, &b)?;
            let pre = (a.as_tensor() + b.as_tensor())?;
            let theirs = pre.relu()?;
            let what = format!("{shape:?}");
            assert_matches(&ours, &theirs, &[&a, &b], 1e-6, Some(&pre), &what)?;
        }
        Ok(())
    }

    /// Output and both gradients equal candle's `broadcast_add` of the reshaped bias (+ ReLU).
    #[test]
    fn matches_candle_channel_bias() -> Result<()> {
        for (shape, relu) in [
            (vec![2, 3, 5, 5], true),
            (vec![4, 6, 7, 3], false),
            (vec![3, 5], true),
        ] {
            let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape[1], &Device::Cpu)?)?;
            let ours = channel_bias_act(&x, &b, relu)?;
            let mut bshape = vec![1; shape.len()];
            bshape[1] = shape[1];
            let pre = x.broadcast_add(&b.reshape(bshape)?)?;
            let theirs = if relu { pre.relu()? } else { pre.clone() };
            let kink = relu.then_some(&pre);
            assert_matches(&ours, &theirs, &[&x, &b], 1e-4, kink, &format!("{shape:?}"))?;
        }
        Ok(())
    }
}
