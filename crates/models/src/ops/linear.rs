//! Linear layers as one custom op: `y = x·Wᵀ (+ b) (then ReLU)` with its own backward.
//!
//! candle runs a linear layer as a transpose, a matrix product and a `broadcast_add`; its
//! backward produces the weight gradient transposed (a strided copy before the optimizer can use
//! it), reduces the bias gradient with a strided reduction and synchronises its thread pool after
//! each of those ops. This op calls `gemm` with the weight's own strides in both directions
//! (`dX = G·W`, `dW = Gᵀ·X`, both written contiguous), adds the bias row by row and sums the
//! gradient rows in contiguous, vectorisable passes. Other devices and dtypes (and
//! `ops::set_reference_ops(true)`) run candle's matmul and `broadcast_add`.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu::{f32_slice, parallelism, product, read, relu_grad};
use super::few_rows;

/// Names this op in error messages.
const OP: &str = "linear";

/// Rows per parallel task (about 64 KiB of data).
fn rows_per_task(d: usize) -> usize {
    (16384 / d.max(1)).max(1)
}

/// `x·Wᵀ (+ b)`, then ReLU when `relu` (no gradient where the output is 0, as PyTorch).
struct LinearOp {
    relu: bool,
}

impl LinearOp {
    /// `y[m×n] = x[m×k]·w[n×k]ᵀ + b`, ReLU applied when asked.
    fn forward(
        &self,
        x: &[f32],
        (m, k): (usize, usize),
        w: &[f32],
        n: usize,
        b: Option<&[f32]>,
    ) -> Vec<f32> {
        if let Some(y) = few_rows::forward((m, n, k), x, w, b, self.relu) {
            return y;
        }
        let mut y = product((m, n, k), (x, k, 1), (w, 1, k), parallelism());
        if b.is_some() || self.relu {
            let relu = self.relu;
            y.par_chunks_mut(n.max(1) * rows_per_task(n)).for_each(|c| {
                for row in c.chunks_mut(n.max(1)) {
                    match (b, relu) {
                        (Some(b), true) => row
                            .iter_mut()
                            .zip(b)
                            .for_each(|(v, b)| *v = (*v + b).max(0.0)),
                        (Some(b), false) => row.iter_mut().zip(b).for_each(|(v, b)| *v += b),
                        (None, _) => row.iter_mut().for_each(|v| *v = v.max(0.0)),
                    }
                }
            });
        }
        y
    }

    /// Checks the shapes of `x` `[m, k]`, `w` `[n, k]` and `b` `[n]`; returns `(m, k, n)`.
    fn dims(lx: &Layout, lw: &Layout, lb: Option<&Layout>) -> Result<(usize, usize, usize)> {
        let (m, k) = lx.shape().dims2()?;
        let (n, kw) = lw.shape().dims2()?;
        if k != kw {
            candle_core::bail!(
                "linear op: input has {k} features, weight {:?} expects {kw}",
                lw.dims()
            )
        }
        if let Some(lb) = lb {
            if lb.shape().elem_count() != n {
                candle_core::bail!("linear op: bias {:?} for {n} outputs", lb.dims())
            }
        }
        Ok((m, k, n))
    }

    /// Gradients of `x` (when it needs one), `w` and `b` (when present) from the output `res`
    /// and its gradient `dy`.
    fn backward(
        &self,
        x: &Tensor,
        w: &Tensor,
        with_bias: bool,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Tensor, Option<Tensor>)> {
        let (m, k) = x.dims2()?;
        let (n, _) = w.dims2()?;
        let g = if self.relu {
            relu_grad(res, dy, OP)?
        } else {
            dy.contiguous()?
        };
        let (x, w) = (x.contiguous()?, w.contiguous()?);
        let par = parallelism();
        let (dx, dw, db) = read(&g, OP, |g| {
            read(&w, OP, |wv| {
                read(&x, OP, |xv| {
                    let dx = x
                        .track_op()
                        .then(|| product((m, k, n), (g, n, 1), (wv, k, 1), par));
                    // dW = Gᵀ·X: Gᵀ is n×m at row stride 1, column stride n.
                    let dw = product((n, k, m), (g, 1, n), (xv, k, 1), par);
                    let db = with_bias.then(|| column_sums(g, n));
                    Ok((dx, dw, db))
                })
            })
        })?;
        let dx = dx
            .map(|v| Tensor::from_vec(v, (m, k), x.device()))
            .transpose()?;
        let dw = Tensor::from_vec(dw, (n, k), w.device())?.to_dtype(w.dtype())?;
        let db = db.map(|v| Tensor::from_vec(v, n, w.device())).transpose()?;
        Ok((dx, dw, db))
    }
}

impl CustomOp3 for LinearOp {
    fn name(&self) -> &'static str {
        "greenbench-linear"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
        sb: &CpuStorage,
        lb: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (m, k, n) = Self::dims(lx, lw, Some(lb))?;
        let (x, w, b) = (
            f32_slice(sx, lx, OP)?,
            f32_slice(sw, lw, OP)?,
            f32_slice(sb, lb, OP)?,
        );
        Ok((
            CpuStorage::F32(self.forward(x, (m, k), w, n, Some(b))),
            Shape::from((m, n)),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, db) = self.backward(x, w, true, res, dy)?;
        let db = db.map(|d| d.reshape(b.shape())).transpose()?;
        Ok((dx, Some(dw), db))
    }
}

impl CustomOp2 for LinearOp {
    fn name(&self) -> &'static str {
        "greenbench-linear-no-bias"
    }

    fn cpu_fwd(
        &self,
        sx: &CpuStorage,
        lx: &Layout,
        sw: &CpuStorage,
        lw: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (m, k, n) = Self::dims(lx, lw, None)?;
        let (x, w) = (f32_slice(sx, lx, OP)?, f32_slice(sw, lw, OP)?);
        Ok((
            CpuStorage::F32(self.forward(x, (m, k), w, n, None)),
            Shape::from((m, n)),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        res: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, _) = self.backward(x, w, false, res, dy)?;
        Ok((dx, Some(dw)))
    }
}

/// Sums of the `d` columns of the row-major `g`, in parallel over blocks of rows and then in a
/// fixed order (deterministic).
fn column_sums(g: &[f32], d: usize) -> Vec<f32> {
    let parts: Vec<Vec<f32>> = g
        .par_chunks(d.max(1) * rows_per_task(d))
        .map(|c| {
            let mut acc = vec![0f32; d];
            for row in c.chunks(d.max(1)) {
                acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
            }
            acc
        })
        .collect();
    let mut sums = vec![0f32; d];
    for p in parts {
        sums.iter_mut().zip(&p).for_each(|(a, v)| *a += v);
    }
    sums
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
    let x2 = x.reshape(((), last))?;
    let y = if super::use_custom(x) && weight.dtype() == x.dtype() {
        let (x2, w) = (x2.contiguous()?, weight.contiguous()?);
        match bias {
            Some(b) => x2.apply_op3(&w, &b.contiguous()?, LinearOp { relu })?,
            None => x2.apply_op2(&w, LinearOp { relu })?,
        }
    } else {
        let y = x2.matmul(&weight.t()?)?;
        match bias {
            Some(b) if relu => {
                // No gradient where the output is 0, as the op (PyTorch's convention).
                let y = y.broadcast_add(b)?;
                let mask = y.gt(&y.zeros_like()?)?.to_dtype(y.dtype())?.detach();
                (y * mask)?
            }
            Some(b) => y.broadcast_add(b)?,
            None if relu => y.relu()?,
            None => y,
        }
    };
    let mut shape = lead.to_vec();
    shape.push(y.dim(1)?);
    y.reshape(shape)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_matches, rand};
    use super::*;
    use candle_core::Var;

    /// Output and the gradients of input, weight and bias equal candle's `Linear` (+ ReLU)
    /// within 1e-4, with and without a bias, for inputs that need a gradient and inputs that do
    /// not (data).
    #[test]
    fn matches_candle_linear() -> Result<()> {
        let cases = [
            (vec![4, 7], 5),
            (vec![3, 9, 16], 48),
            (vec![1, 600], 3),
            (vec![32, 784], 512),
        ];
        for (case, (xs, out)) in cases.into_iter().enumerate() {
            let d_in = *xs.last().unwrap_or(&1);
            let x = Var::from_tensor(&rand(&xs)?)?;
            let data = x.as_tensor().detach();
            let w = Var::from_tensor(&rand(&[out, d_in])?)?;
            let b = Var::from_tensor(&rand(&[out])?)?;
            let relu = out % 2 == 0;
            let with_bias = case != 1;
            let input = if case == 2 { &data } else { x.as_tensor() };
            let bias = with_bias.then_some(b.as_tensor());
            let ours = linear_act(input, &w, bias, relu)?;
            let theirs = input.broadcast_matmul(&w.t()?)?;
            let theirs = if with_bias {
                theirs.broadcast_add(&b)?
            } else {
                theirs
            };
            let pre = theirs;
            let theirs = if relu { pre.relu()? } else { pre.clone() };
            let mut wrt = vec![w.as_tensor()];
            if with_bias {
                wrt.push(b.as_tensor());
            }
            if case != 2 {
                wrt.push(x.as_tensor());
            }
            let kink = relu.then_some(&pre);
            let grads = assert_matches(&ours, &theirs, &wrt, 1e-4, kink, &format!("{xs:?}"))?;
            assert!(grads.get(&data).is_none(), "data needs no gradient");
        }
        Ok(())
    }
}
