//! Fused element-wise ops: `relu(a + b)` (residual connections), one pass forward and backward
//! instead of candle's add and ReLU (four full-size passes and temporaries with their backward).

use super::cpu::f32_slice;
use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Names this op in error messages.
const OP: &str = "add-relu";

const CHUNK: usize = 16384;

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
        // No gradient where the output is 0 (PyTorch's convention).
        let (r, g) = (res.contiguous()?, dy.contiguous()?);
        let dx = {
            let (rs, rl) = r.storage_and_layout();
            let (gs, gl) = g.storage_and_layout();
            let (candle_core::Storage::Cpu(rs), candle_core::Storage::Cpu(gs)) = (&*rs, &*gs)
            else {
                candle_core::bail!("add-relu op runs on the CPU only")
            };
            let (r, g) = (f32_slice(rs, rl, OP)?, f32_slice(gs, gl, OP)?);
            let mut dx = vec![0f32; r.len()];
            dx.par_chunks_mut(CHUNK)
                .zip(r.par_chunks(CHUNK).zip(g.par_chunks(CHUNK)))
                .for_each(|(dc, (rc, gc))| {
                    for ((o, &y), &gv) in dc.iter_mut().zip(rc).zip(gc) {
                        *o = if y > 0.0 { gv } else { 0.0 };
                    }
                });
            dx
        };
        let dx = Tensor::from_vec(dx, res.shape(), res.device())?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    /// Output and both gradients equal `relu(a + b)` from candle's ops.
    #[test]
    fn matches_candle_add_then_relu() -> Result<()> {
        for shape in [vec![3, 5], vec![2, 8, 6, 6], vec![40000]] {
            let a = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let b = Var::from_tensor(&Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?)?;
            let ours = add_relu(&a, &b)?;
            let theirs = (a.as_tensor() + b.as_tensor())?.relu()?;
            let diff = (&ours - &theirs)?.abs()?.flatten_all()?.max(0)?;
            assert!(diff.to_scalar::<f32>()? < 1e-6);
            let probe = Tensor::randn(0f32, 1.0, shape.as_slice(), &Device::Cpu)?;
            let g1 = (ours * &probe)?.sum_all()?.backward()?;
            let g2 = (theirs * &probe)?.sum_all()?.backward()?;
            for v in [a.as_tensor(), b.as_tensor()] {
                let (Some(x), Some(y)) = (g1.get(v), g2.get(v)) else {
                    panic!("missing gradient")
                };
                let d = (x - y)?.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>()?;
                assert!(d < 1e-6, "{shape:?}");
            }
        }
        Ok(())
    }
}
