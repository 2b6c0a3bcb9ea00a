//! Linear layers as one matrix product plus a bias-add custom op.
//!
//! candle's `broadcast_add` of a `[d]` bias runs on its barrier pool with a per-op
//! synchronisation, and its backward reduces the `[rows, d]` gradient over rows with a strided
//! reduction; this op adds the bias row by row and sums the gradient rows in contiguous,
//! vectorisable passes.

use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        _ => candle_core::bail!("bias-add op needs contiguous f32 tensors"),
    }
}

/// Rows per parallel task (about 64 KiB of data).
fn rows_per_task(d: usize) -> usize {
    (16384 / d.max(1)).max(1)
}

/// `x + b`, then ReLU when `relu` (no gradient where the output is 0, as PyTorch).
struct BiasAdd {
    relu: bool,
}

impl CustomOp2 for BiasAdd {
    fn name(&self) -> &'static str {
        "greenbench-bias-add"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (x, b) = (f32_slice(s1, l1)?, f32_slice(s2, l2)?);
        let d = b.len();
        if d == 0 || l1.dims().last() != Some(&d) {
            candle_core::bail!("bias of {d} for input {:?}", l1.dims())
        }
        let mut y = x.to_vec();
        let relu = self.relu;
        y.par_chunks_mut(d * rows_per_task(d)).for_each(|c| {
            for row in c.chunks_mut(d) {
                if relu {
                    row.iter_mut()
                        .zip(b)
                        .for_each(|(v, b)| *v = (*v + b).max(0.0));
                } else {
                    row.iter_mut().zip(b).for_each(|(v, b)| *v += b);
                }
            }
        });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _x: &Tensor,
        b: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let d = b.elem_count();
        let g = if self.relu {
            relu_grad(res, dy)?
        } else {
            dy.contiguous()?
        };
        let db = {
            let (s, l) = g.storage_and_layout();
            let candle_core::Storage::Cpu(cs) = &*s else {
                candle_core::bail!("bias-add op runs on the CPU only")
            };
            let g = f32_slice(cs, l)?;
            let parts: Vec<Vec<f32>> = g
                .par_chunks(d * rows_per_task(d))
                .map(|c| {
                    let mut acc = vec![0f32; d];
                    for row in c.chunks(d) {
                        acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
                    }
                    acc
                })
                .collect();
            let mut db = vec![0f32; d];
            for p in parts {
                db.iter_mut().zip(&p).for_each(|(a, v)| *a += v);
            }
            db
        };
        Ok((Some(g), Some(Tensor::from_vec(db, b.shape(), b.device())?)))
    }
}

/// `dy` where `res > 0`, else 0.
fn relu_grad(res: &Tensor, dy: &Tensor) -> Result<Tensor> {
    let (r, g) = (res.contiguous()?, dy.contiguous()?);
    let out = {
        let (rs, rl) = r.storage_and_layout();
        let (gs, gl) = g.storage_and_layout();
        let (candle_core::Storage::Cpu(rs), candle_core::Storage::Cpu(gs)) = (&*rs, &*gs) else {
            candle_core::bail!("bias-add op runs on the CPU only")
        };
        let (r, g) = (f32_slice(rs, rl)?, f32_slice(gs, gl)?);
        let mut out = vec![0f32; r.len()];
        out.par_chunks_mut(16384)
            .zip(r.par_chunks(16384).zip(g.par_chunks(16384)))
            .for_each(|(o, (rc, gc))| {
                for ((o, &y), &gv) in o.iter_mut().zip(rc).zip(gc) {
                    *o = if y > 0.0 { gv } else { 0.0 };
                }
            });
        out
    };
    Tensor::from_vec(out, res.shape(), res.device())
}

/// `x + bias` for `x` `[…, d]` and `bias` `[d]`.
pub fn bias_add(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    bias_add_act(x, bias, false)
}

/// `x + bias`, followed by ReLU when `relu` (fused into the op on the CPU).
pub fn bias_add_act(x: &Tensor, bias: &Tensor, relu: bool) -> Result<Tensor> {
    if super::use_custom(x) {
        x.contiguous()?
            .apply_op2(&bias.contiguous()?, BiasAdd { relu })
    } else {
        let y = x.broadcast_add(bias)?;
        if relu {
            let mask = y.gt(&y.zeros_like()?)?.to_dtype(y.dtype())?.detach();
            y * mask
        } else {
            Ok(y)
        }
    }
}

/// `x·Wᵀ + b` for `x` `[…, in]` (any leading dimensions, run as one 2-D product), `weight`
/// `[out, in]`, optional `bias` `[out]`.
pub fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    linear_act(x, weight, bias, false)
}

/// [`linear`] followed by ReLU when `relu` (fused with the bias add).
pub fn linear_act(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    relu: bool,
) -> Result<Tensor> {
    let dims = x.dims().to_vec();
    let Some((&last, lead)) = dims.split_last() else {
        candle_core::bail!("linear layer on a scalar")
    };
    let y = x.reshape(((), last))?.matmul(&weight.t()?)?;
    let y = match bias {
        Some(b) => bias_add_act(&y, b, relu)?,
        None if relu => y.relu()?,
        None => y,
    };
    let mut shape = lead.to_vec();
    shape.push(y.dim(1)?);
    y.reshape(shape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn rand(shape: &[usize]) -> Result<Tensor> {
        Tensor::randn(0f32, 1.0, shape, &Device::Cpu)
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> Result<f32> {
        (a - b)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()
    }

    /// Output and the gradients of input, weight and bias equal candle's `Linear` (+ ReLU)
    /// within 1e-4.
    #[test]
    fn matches_candle_linear() -> Result<()> {
        for (xs, out) in [(vec![4, 7], 5), (vec![3, 9, 16], 48), (vec![1, 600], 3)] {
            let d_in = *xs.last().unwrap_or(&1);
            let x = Var::from_tensor(&rand(&xs)?)?;
            let w = Var::from_tensor(&rand(&[out, d_in])?)?;
            let b = Var::from_tensor(&rand(&[out])?)?;
            let relu = out % 2 == 0;
            let ours = linear_act(&x, &w, Some(&b), relu)?;
            let theirs = x.broadcast_matmul(&w.t()?)?.broadcast_add(&b)?;
            let theirs = if relu { theirs.relu()? } else { theirs };
            assert!(max_diff(&ours, &theirs)? < 1e-4, "{xs:?} forward");
            let probe = rand(ours.dims())?;
            let g1 = (ours * &probe)?.sum_all()?.backward()?;
            let g2 = (theirs * &probe)?.sum_all()?.backward()?;
            for v in [x.as_tensor(), w.as_tensor(), b.as_tensor()] {
                let (Some(a), Some(e)) = (g1.get(v), g2.get(v)) else {
                    panic!("missing gradient")
                };
                let scale = e.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?.max(1.0);
                assert!(max_diff(a, e)? / scale < 1e-4, "{xs:?} gradient");
            }
        }
        Ok(())
    }
}
