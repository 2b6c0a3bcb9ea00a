//! [`BatchNorm2d`]: batch normalisation with running statistics kept as `VarMap` buffers.

use candle_core::{Result, Tensor, Var};
use candle_nn::{Init, VarBuilder};

use crate::ops::batch_norm::{batch_norm_eval, batch_norm_train, BatchStats};
use crate::ops::batch_norm_join::{batch_norm_join_train, join_relu};
use crate::ops::epilogue::{Act, Epilogue};

/// Batch normalisation over the channels of `[batch, c, h, w]` (eps 1e-5, momentum 0.1).
///
/// Training mode normalises with the batch statistics (computed from primitive ops, so the
/// gradient reaches the input, weight and bias) and updates the running statistics (unbiased
/// variance, as PyTorch); eval mode uses the running statistics.
pub struct BatchNorm2d {
    weight: Tensor,
    bias: Tensor,
    running_mean: Var,
    running_var: Var,
    c: usize,
}

const BN_EPS: f64 = 1e-5;
/// Weight of a batch's statistics in the running averages (PyTorch's default).
pub(crate) const BN_MOMENTUM: f64 = 0.1;

impl BatchNorm2d {
    /// Creates `weight` (ones) and `bias` (zeros) under `vb`, and the running statistics as the
    /// buffers `running_mean` (zeros) and `running_var` (ones): they live in the `VarMap` (so
    /// checkpoints keep them) but are not trainable ([`crate::init::is_buffer`]).
    pub fn new(vb: VarBuilder, c: usize) -> Result<Self> {
        let weight = vb.get_with_hints(c, "weight", Init::Const(1.0))?;
        let bias = vb.get_with_hints(c, "bias", Init::Const(0.0))?;
        let running_mean =
            Var::from_tensor(&vb.get_with_hints(c, "running_mean", Init::Const(0.0))?)?;
        let running_var =
            Var::from_tensor(&vb.get_with_hints(c, "running_var", Init::Const(1.0))?)?;
        Ok(Self {
            weight,
            bias,
            running_mean,
            running_var,
            c,
        })
    }

    /// The running mean and variance (copies of the buffers).
    #[cfg(test)]
    pub fn running_stats(&self) -> Result<(Tensor, Tensor)> {
        Ok((
            self.running_mean.as_tensor().copy()?.detach(),
            self.running_var.as_tensor().copy()?.detach(),
        ))
    }

    /// The eval-mode normalisation (running statistics) followed by `act`, as an epilogue for
    /// the convolution before it.
    pub fn eval_epilogue(&self, act: Act) -> Result<Epilogue> {
        let (w, b) = (self.weight.to_vec1::<f32>()?, self.bias.to_vec1::<f32>()?);
        let mean = self.running_mean.as_tensor().to_vec1::<f32>()?;
        let var = self.running_var.as_tensor().to_vec1::<f32>()?;
        Ok(Epilogue::batch_norm((&w, &b), (&mean, &var), BN_EPS, act))
    }

    /// Normalises `x`.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_inner(x, train, false)
    }

    /// `relu(self.forward_t(x, train))`, fused into one op on the CPU (f32).
    pub fn forward_t_relu(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        self.forward_inner(x, train, true)
    }

    /// `relu(join(self.forward_t(x, train), r))`: the first `added` channels of the normalised
    /// `x` and of the residual `r` added, then the rest of `r`, then the rest of the normalised
    /// `x` (`added` equal to both channel counts: `relu(bn(x) + r)`, a residual block's end).
    /// In training on the CPU (f32) one op, so the normalised `x` is never kept for the backward
    /// pass (only the output is, as PyTorch's in-place addition and ReLU keep only theirs).
    pub fn forward_t_join_relu(
        &self,
        x: &Tensor,
        r: &Tensor,
        added: usize,
        train: bool,
    ) -> Result<Tensor> {
        if train && crate::ops::use_custom(x) && crate::ops::use_custom(r) {
            let (y, stats) = batch_norm_join_train(x, &self.weight, &self.bias, r, added, BN_EPS)?;
            self.update_running_from(x, stats)?;
            return Ok(y);
        }
        join_relu(&self.forward_t(x, train)?, r, added)
    }

    fn forward_inner(&self, x: &Tensor, train: bool, relu: bool) -> Result<Tensor> {
        let c = self.c;
        if train && crate::ops::use_custom(x) {
            let (y, stats) = batch_norm_train(x, &self.weight, &self.bias, BN_EPS, relu)?;
            self.update_running_from(x, stats)?;
            return Ok(y);
        }
        if !train && crate::ops::use_custom(x) {
            let stats = (
                self.running_mean.as_tensor().to_vec1::<f32>()?,
                self.running_var.as_tensor().to_vec1::<f32>()?,
            );
            return batch_norm_eval(x, &self.weight, &self.bias, stats, BN_EPS, relu);
        }
        let w = self.weight.reshape((1, c, 1, 1))?;
        let b = self.bias.reshape((1, c, 1, 1))?;
        let y = if train {
            let (n_b, _, h, wd) = x.dims4()?;
            let n = (n_b * h * wd) as f64;
            let mean = (x.sum_keepdim((0, 2, 3))? / n)?;
            let xc = x.broadcast_sub(&mean)?;
            let var = (xc.sqr()?.sum_keepdim((0, 2, 3))? / n)?;
            let unbias = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
            self.update_running(
                &mean.detach().flatten_all()?,
                &(var.detach().flatten_all()? * unbias)?,
            )?;
            let scale = w.broadcast_div(&(var + BN_EPS)?.sqrt()?)?;
            xc.broadcast_mul(&scale)?.broadcast_add(&b)?
        } else {
            let mean = self.running_mean.as_tensor().detach();
            let var = self.running_var.as_tensor().detach();
            let scale = w.broadcast_div(&(var + BN_EPS)?.sqrt()?.reshape((1, c, 1, 1))?)?;
            let shift = b.broadcast_sub(&mean.reshape((1, c, 1, 1))?.broadcast_mul(&scale)?)?;
            x.broadcast_mul(&scale)?.broadcast_add(&shift)?
        };
        if relu {
            // PyTorch's convention, as the fused op: no gradient where the output is exactly 0
            // (candle's `relu` passes it there, which matters for dead channels, whose
            // normalised output is exactly 0).
            let mask = y.gt(&y.zeros_like()?)?.to_dtype(y.dtype())?.detach();
            y * mask
        } else {
            Ok(y)
        }
    }

    /// Updates the running statistics from a fused op's batch statistics over `x`.
    fn update_running_from(&self, x: &Tensor, stats: BatchStats) -> Result<()> {
        let (n_b, _, h, wd) = x.dims4()?;
        let n = (n_b * h * wd) as f64;
        let unbias = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
        let mean = Tensor::from_vec(stats.mean, self.c, x.device())?;
        let var = (Tensor::from_vec(stats.var, self.c, x.device())? * unbias)?;
        self.update_running(&mean, &var)
    }

    /// `running = (1 − momentum)·running + momentum·batch` for the mean and (unbiased) variance.
    fn update_running(&self, mean: &Tensor, var: &Tensor) -> Result<()> {
        for (run, batch) in [(&self.running_mean, mean), (&self.running_var, var)] {
            let new = ((run.as_tensor().detach() * (1.0 - BN_MOMENTUM))? + (batch * BN_MOMENTUM)?)?;
            run.set(&new)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::{max_diff, rand};
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    /// Train mode normalises with batch statistics and updates the running ones (PyTorch's
    /// momentum 0.1 and unbiased variance); eval mode uses the running statistics; the running
    /// statistics are buffers of the `VarMap`, updated in place.
    #[test]
    fn batch_norm_statistics() -> Result<()> {
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        let bn = BatchNorm2d::new(vb, 3)?;
        assert_eq!(varmap.all_vars().len(), 4);
        assert_eq!(crate::complexity::param_count(&varmap), 6);
        assert_eq!(crate::train::trainable_vars(&varmap).len(), 2);
        let x = ((rand(&[4, 3, 5, 5])? * 2.0)? + 3.0)?;
        let y = bn.forward_t(&x, true)?;
        let mean = y.mean((0, 2, 3))?.to_vec1::<f32>()?;
        let var = y.sqr()?.mean((0, 2, 3))?.to_vec1::<f32>()?;
        assert!(mean.iter().all(|m| m.abs() < 1e-4));
        assert!(var.iter().all(|v| (v - 1.0).abs() < 1e-3));
        let (rm, rv) = bn.running_stats()?;
        let stored = varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("poisoned".into()))?
            .get("running_mean")
            .map(|v| v.as_tensor().clone());
        let stored = stored.ok_or_else(|| candle_core::Error::Msg("no running_mean".into()))?;
        assert!(
            max_diff(&stored, &rm)? == 0.0,
            "the VarMap holds the updated buffer"
        );
        let n = 100.0f64;
        let bm = x.mean((0, 2, 3))?;
        let bv = (x
            .broadcast_sub(&x.mean_keepdim((0, 2, 3))?)?
            .sqr()?
            .sum((0, 2, 3))?
            / (n - 1.0))?;
        assert!(max_diff(&rm, &(bm * 0.1)?)? < 1e-4);
        assert!(max_diff(&rv, &((bv * 0.1)? + 0.9)?)? < 1e-4);
        let e = bn.forward_t(&x, false)?;
        let expect = x
            .broadcast_sub(&rm.reshape((1, 3, 1, 1))?)?
            .broadcast_div(&(rv.reshape((1, 3, 1, 1))? + BN_EPS)?.sqrt()?)?;
        assert!(max_diff(&e, &expect)? < 1e-4);
        Ok(())
    }
}
