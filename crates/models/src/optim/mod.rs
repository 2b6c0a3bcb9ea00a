//! Optimizers: SGD (momentum, Nesterov, coupled weight decay as in PyTorch) and AdamW.
//!
//! On CPU with f32 the updates run in place on the variables' storage (one pass, no temporary
//! tensors); on other devices they fall back to tensor arithmetic with the same formulas.

pub mod cpu;
pub mod schedule;

use candle_core::backprop::GradStore;
use candle_core::{DType, Tensor, Var};

use crate::error::ModelError;
pub use schedule::{learning_rate, warmup_factor};

/// AdamW constants (PyTorch defaults).
pub const ADAM_BETAS: (f64, f64) = (0.9, 0.999);
/// AdamW ε.
pub const ADAM_EPS: f64 = 1e-8;

/// Which update rule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// SGD; momentum 0 means plain SGD.
    Sgd {
        /// Momentum μ in [0, 1).
        momentum: f64,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// AdamW with decoupled weight decay.
    AdamW,
}

impl Kind {
    /// The update rule of a config's optimizer; `momentum` is used by the SGD variants.
    pub fn new(optimizer: greenbench_core::Optimizer, momentum: f64) -> Self {
        use greenbench_core::Optimizer as O;
        match optimizer {
            O::Sgd => Kind::Sgd {
                momentum,
                nesterov: false,
            },
            O::SgdNesterov => Kind::Sgd {
                momentum,
                nesterov: true,
            },
            O::AdamW => Kind::AdamW,
        }
    }
}

/// An optimizer over a fixed list of variables.
pub struct Optimizer {
    kind: Kind,
    weight_decay: f64,
    vars: Vec<Var>,
    /// SGD: momentum buffer; AdamW: (m, v). Created lazily, zero-filled.
    state: Vec<Vec<Var>>,
    t: u64,
    generic: bool,
}

impl Optimizer {
    /// An optimizer for `vars` (trainable parameters, in a fixed order).
    pub fn new(kind: Kind, weight_decay: f64, vars: Vec<Var>) -> Result<Self, ModelError> {
        if let Kind::Sgd { momentum, nesterov } = kind {
            if !(0.0..1.0).contains(&momentum) {
                return Err(ModelError::Setting {
                    field: "momentum",
                    message: format!("must be in [0, 1), found {momentum}"),
                });
            }
            if nesterov && momentum == 0.0 {
                return Err(ModelError::Setting {
                    field: "momentum",
                    message: "sgd-nesterov needs momentum > 0 (e.g. 0.9)".into(),
                });
            }
        }
        if !(weight_decay >= 0.0 && weight_decay.is_finite()) {
            return Err(ModelError::Setting {
                field: "weight_decay",
                message: format!("must be ≥ 0, found {weight_decay}"),
            });
        }
        let state = vars.iter().map(|_| Vec::new()).collect();
        Ok(Self {
            kind,
            weight_decay,
            vars,
            state,
            t: 0,
            generic: false,
        })
    }

    /// Uses tensor arithmetic even where the in-place CPU kernels apply (for cross-checking).
    #[cfg(test)]
    pub fn with_generic_updates(mut self) -> Self {
        self.generic = true;
        self
    }

    /// The optimizer's state for a checkpoint: buffer `j` of variable `i` as `optim.{i}.{j}`
    /// (momentum; AdamW's m and v) and the step count as `optim.t`.
    pub fn state_tensors(&self) -> candle_core::Result<Vec<(String, Tensor)>> {
        let mut out = vec![(
            "optim.t".to_string(),
            Tensor::new(&[self.t as f64], &candle_core::Device::Cpu)?,
        )];
        for (i, bufs) in self.state.iter().enumerate() {
            for (j, b) in bufs.iter().enumerate() {
                out.push((format!("optim.{i}.{j}"), b.as_tensor().clone()));
            }
        }
        Ok(out)
    }

    /// Restores what [`Optimizer::state_tensors`] saved for the same variables, in the same order.
    pub fn restore_state(
        &mut self,
        saved: &std::collections::HashMap<String, Tensor>,
    ) -> candle_core::Result<()> {
        let t = saved
            .get("optim.t")
            .ok_or_else(|| candle_core::Error::Msg("no optim.t in the checkpoint".into()))?;
        self.t = t.to_vec1::<f64>()?.first().copied().unwrap_or(0.0) as u64;
        for (i, p) in self.vars.iter().enumerate() {
            let mut bufs = Vec::new();
            while let Some(b) = saved.get(&format!("optim.{i}.{}", bufs.len())) {
                if b.shape() != p.shape() {
                    return Err(candle_core::Error::Msg(format!(
                        "optimizer buffer {i} has shape {:?} in the checkpoint, the variable {:?}",
                        b.shape(),
                        p.shape()
                    )));
                }
                bufs.push(Var::from_tensor(
                    &b.to_device(p.device())?.to_dtype(p.dtype())?,
                )?);
            }
            self.state[i] = bufs;
        }
        Ok(())
    }

    /// Applies one update with learning rate `lr`; variables without a gradient are left alone.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> candle_core::Result<()> {
        self.t += 1;
        for i in 0..self.vars.len() {
            let Some(g) = grads.get(self.vars[i].as_tensor()) else {
                continue;
            };
            let g = g.contiguous()?;
            self.update(i, &g, lr)?;
        }
        Ok(())
    }

    fn ensure_state(&mut self, i: usize, n: usize) -> candle_core::Result<()> {
        if self.state[i].len() < n {
            let p = &self.vars[i];
            self.state[i] = (0..n)
                .map(|_| Var::zeros(p.shape(), p.dtype(), p.device()))
                .collect::<candle_core::Result<_>>()?;
        }
        Ok(())
    }

    /// Updates variable `i` with its gradient `g`: in place on the CPU for contiguous f32
    /// variables (unless [`Optimizer::with_generic_updates`]), by tensor arithmetic elsewhere.
    fn update(&mut self, i: usize, g: &Tensor, lr: f64) -> candle_core::Result<()> {
        let fast = !self.generic
            && self.vars[i].device().is_cpu()
            && self.vars[i].dtype() == DType::F32
            && self.vars[i].is_contiguous();
        match self.kind {
            Kind::Sgd { momentum: 0.0, .. } => self.sgd(i, g, lr, fast),
            Kind::Sgd { momentum, nesterov } => {
                self.sgd_momentum(i, g, lr, (momentum, nesterov), fast)
            }
            Kind::AdamW => self.adamw(i, g, lr, fast),
        }
    }

    /// Plain SGD: p ← p − lr·(g + wd·p).
    fn sgd(&self, i: usize, g: &Tensor, lr: f64, fast: bool) -> candle_core::Result<()> {
        let (p, wd) = (&self.vars[i], self.weight_decay);
        if fast {
            let op = cpu::SgdPlain {
                lr: lr as f32,
                wd: wd as f32,
            };
            p.inplace_op2(g, &op)
        } else {
            let d = (g + (p.as_tensor() * wd)?)?;
            p.set(&(p.as_tensor() - (d * lr)?)?)
        }
    }

    /// SGD with momentum μ (PyTorch's): b ← μ·b + d, p ← p − lr·(Nesterov ? d + μ·b : b), with
    /// d = g + wd·p.
    fn sgd_momentum(
        &mut self,
        i: usize,
        g: &Tensor,
        lr: f64,
        (momentum, nesterov): (f64, bool),
        fast: bool,
    ) -> candle_core::Result<()> {
        self.ensure_state(i, 1)?;
        let wd = self.weight_decay;
        let (p, buf) = (&self.vars[i], &self.state[i][0]);
        if fast {
            let o = || cpu::SgdMomentum {
                lr: lr as f32,
                mu: momentum as f32,
                wd: wd as f32,
                nesterov,
            };
            buf.inplace_op3(g, p, &cpu::SgdMomentumBuf(o()))?;
            p.inplace_op3(g, buf, &cpu::SgdMomentumParam(o()))
        } else {
            let d = (g + (p.as_tensor() * wd)?)?;
            let b = ((buf.as_tensor() * momentum)? + &d)?;
            buf.set(&b)?;
            let step = if nesterov { (d + (b * momentum)?)? } else { b };
            p.set(&(p.as_tensor() - (step * lr)?)?)
        }
    }

    /// AdamW: bias-corrected first and second moments, weight decay applied to p directly.
    fn adamw(&mut self, i: usize, g: &Tensor, lr: f64, fast: bool) -> candle_core::Result<()> {
        self.ensure_state(i, 2)?;
        let wd = self.weight_decay;
        let (b1, b2) = ADAM_BETAS;
        let t = self.t as i32;
        let (bc1, bc2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
        let (p, m, v) = (&self.vars[i], &self.state[i][0], &self.state[i][1]);
        if fast {
            let ema = |beta: f64, square| cpu::Ema {
                beta: beta as f32,
                square,
            };
            m.inplace_op2(g, &ema(b1, false))?;
            v.inplace_op2(g, &ema(b2, true))?;
            let op = cpu::AdamWParam {
                lr: lr as f32,
                wd: wd as f32,
                bc1: bc1 as f32,
                bc2: bc2 as f32,
                eps: ADAM_EPS as f32,
            };
            p.inplace_op3(m, v, &op)
        } else {
            let mn = ((m.as_tensor() * b1)? + (g * (1.0 - b1))?)?;
            let vn = ((v.as_tensor() * b2)? + (g.sqr()? * (1.0 - b2))?)?;
            m.set(&mn)?;
            v.set(&vn)?;
            let upd = ((mn / bc1)? / ((vn / bc2)?.sqrt()? + ADAM_EPS)?)?;
            p.set(&((p.as_tensor() * (1.0 - lr * wd))? - (upd * lr)?)?)
        }
    }
}

#[cfg(test)]
mod tests;
