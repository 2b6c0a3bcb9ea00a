//! What follows a convolution in an eval-mode layer — batch-norm with its running statistics,
//! then an activation — applied to each output plane by the convolution itself while the plane
//! is still in cache, instead of by two more passes over the whole output.

use super::cpu::simd;
use super::elementwise::exp_f32;

/// The activation after a convolution's batch-norm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// None.
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// SiLU (swish), `x·σ(x)`.
    Silu,
}

/// Eval-mode batch-norm folded into one `scale` and `shift` per output channel, then `act`.
#[derive(Clone, Debug)]
pub struct Epilogue {
    scale: Vec<f32>,
    shift: Vec<f32>,
    act: Act,
}

impl Epilogue {
    /// `act((y − mean)/√(var + ε)·weight + bias)` per channel, as `y·s + t` with
    /// `s = weight/√(var + ε)` and `t = bias − mean·s`.
    pub fn batch_norm(
        (weight, bias): (&[f32], &[f32]),
        (mean, var): (&[f32], &[f32]),
        eps: f64,
        act: Act,
    ) -> Self {
        Self::with_invstd((weight, bias), (mean, &inv_std(var, eps)), act)
    }

    /// [`Epilogue::batch_norm`] from `1/√(var + ε)` (see [`inv_std`]): the eval batch-norm op
    /// keeps that for its backward pass and builds its forward from it, so the op and the
    /// convolution's epilogue give the same numbers.
    pub(crate) fn with_invstd(
        (weight, bias): (&[f32], &[f32]),
        (mean, invstd): (&[f32], &[f32]),
        act: Act,
    ) -> Self {
        let (scale, shift) = weight
            .iter()
            .zip(bias)
            .zip(mean.iter().zip(invstd))
            .map(|((&w, &b), (&mu, &is))| {
                let s = w * is;
                (s, b - mu * s)
            })
            .unzip();
        Self { scale, shift, act }
    }

    /// Output channels this epilogue is for.
    pub fn channels(&self) -> usize {
        self.scale.len()
    }

    /// Adds `bias[ch]·scale[ch]` to each shift: a convolution bias applied before the
    /// batch-norm.
    pub fn with_conv_bias(mut self, bias: &[f32]) -> Self {
        for ((t, &s), &b) in self.shift.iter_mut().zip(&self.scale).zip(bias) {
            *t += b * s;
        }
        self
    }

    /// Applies the epilogue of channel `ch` to one output plane.
    #[inline(always)]
    pub(crate) fn plane(&self, v: &mut [f32], ch: usize) {
        let (s, t) = (self.scale[ch], self.shift[ch]);
        match self.act {
            Act::Identity => v.iter_mut().for_each(|x| *x = *x * s + t),
            Act::Relu => v.iter_mut().for_each(|x| *x = (*x * s + t).max(0.0)),
            Act::Silu => v.iter_mut().for_each(|x| *x = silu(*x * s + t)),
        }
    }

    /// The batch-norm part alone, on one plane of channel `ch` (then [`Epilogue::activate`]):
    /// for planes too small to vectorise the activation one by one.
    #[inline(always)]
    pub(crate) fn affine(&self, v: &mut [f32], ch: usize) {
        let (s, t) = (self.scale[ch], self.shift[ch]);
        v.iter_mut().for_each(|x| *x = *x * s + t);
    }

    /// The activation alone, over any run of planes that went through [`Epilogue::affine`].
    #[inline(always)]
    pub(crate) fn activate(&self, v: &mut [f32]) {
        match self.act {
            Act::Identity => {}
            Act::Relu => v.iter_mut().for_each(|x| *x = x.max(0.0)),
            Act::Silu => v.iter_mut().for_each(|x| *x = silu(*x)),
        }
    }

    /// Applies the epilogue to whole samples `y` (`[samples, channels, l]`).
    pub(crate) fn samples(&self, y: &mut [f32], l: usize) {
        let o = self.channels();
        if l == 0 || o == 0 {
            return;
        }
        simd(
            #[inline(always)]
            || {
                if l >= 16 {
                    for (i, p) in y.chunks_exact_mut(l).enumerate() {
                        self.plane(p, i % o);
                    }
                } else {
                    for (i, p) in y.chunks_exact_mut(l).enumerate() {
                        self.affine(p, i % o);
                    }
                    self.activate(y);
                }
            },
        )
    }
}

/// `1/√(var + ε)` per channel, computed in f64.
pub(crate) fn inv_std(var: &[f32], eps: f64) -> Vec<f32> {
    var.iter()
        .map(|&v| (1.0 / (v as f64 + eps).sqrt()) as f32)
        .collect()
}

/// `x·σ(x)`, as the SiLU op computes it.
#[inline(always)]
fn silu(x: f32) -> f32 {
    x / (1.0 + exp_f32(-x))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each channel gets its own affine map and the activation; the values are the batch-norm
    /// formula's.
    #[test]
    fn applies_batch_norm_then_the_activation_per_channel() {
        let (w, b, mean, var) = ([2.0, 1.0], [0.5, -1.0], [1.0, 0.0], [3.0, 0.0]);
        let eps = 1.0;
        let bn = |x: f32, c: usize| (x - mean[c]) / (var[c] + 1.0f32).sqrt() * w[c] + b[c];
        let input = [3.0f32, -2.0, 0.25, 4.0, -5.0, 1.5];
        for act in [Act::Identity, Act::Relu, Act::Silu] {
            let epi = Epilogue::batch_norm((&w, &b), (&mean, &var), eps, act);
            let mut y = input.to_vec();
            epi.samples(&mut y, 3);
            for (i, (&got, &x)) in y.iter().zip(&input).enumerate() {
                let z = bn(x, i / 3);
                let want = match act {
                    Act::Identity => z,
                    Act::Relu => z.max(0.0),
                    Act::Silu => z / (1.0 + (-z).exp()),
                };
                assert!(
                    (got - want).abs() < 1e-5,
                    "{act:?} element {i}: {got} vs {want}"
                );
            }
        }
    }

    /// A convolution bias moves each channel's input before the batch-norm.
    #[test]
    fn folds_a_convolution_bias() {
        let epi = Epilogue::batch_norm((&[2.0], &[1.0]), (&[0.0], &[3.0]), 1.0, Act::Identity)
            .with_conv_bias(&[0.5]);
        let mut y = vec![1.0f32];
        epi.samples(&mut y, 1);
        assert!(
            (y[0] - ((1.0 + 0.5) / 2.0 * 2.0 + 1.0)).abs() < 1e-6,
            "{}",
            y[0]
        );
    }
}
