//! Pre-norm transformer block: layer norm, multi-head self-attention, GELU MLP.

use candle_core::Tensor;
use candle_nn::{Linear, VarBuilder};

use crate::complexity::{attention_macs, linear_macs};

/// Layer norm over the last axis ([`crate::ops::norm::layer_norm`]: a custom op with its own
/// backward on the CPU, primitive ops elsewhere; gradients reach both parameters).
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

impl LayerNorm {
    /// A layer norm of width `dim` (scale 1, shift 0 after initialisation).
    pub fn new(dim: usize, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            weight: vb.get(dim, "weight")?,
            bias: vb.get(dim, "bias")?,
        })
    }

    /// Normalises `x` `[…, dim]`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        crate::ops::norm::layer_norm(x, &self.weight, &self.bias, 1e-5)
    }
}

/// Applies `l` to `x` `[…, in]` as one 2-D linear op ([`crate::ops::linear::linear`]: product,
/// bias and their backward in one; candle's 3-D path broadcasts the weight into a batched matmul,
/// which is several times slower on CPU).
pub fn linear_tokens(l: &Linear, x: &Tensor) -> candle_core::Result<Tensor> {
    crate::ops::linear::linear(x, l.weight(), l.bias())
}

/// Multi-head self-attention with a fused QKV projection and an optional causal mask.
pub struct Attention {
    qkv: Linear,
    proj: Linear,
    heads: usize,
    causal: bool,
}

impl Attention {
    /// Attention of width `dim` split into `heads` heads.
    pub fn new(
        dim: usize,
        heads: usize,
        causal: bool,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        if heads == 0 || !dim.is_multiple_of(heads) {
            candle_core::bail!("attention width {dim} is not divisible by {heads} heads")
        }
        Ok(Self {
            qkv: candle_nn::linear(dim, 3 * dim, vb.pp("qkv"))?,
            proj: candle_nn::linear(dim, dim, vb.pp("proj"))?,
            heads,
            causal,
        })
    }

    /// `x` `[n, t, dim]` → `[n, t, dim]`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (n, t, dim) = x.dims3()?;
        let hd = dim / self.heads;
        let qkv = linear_tokens(&self.qkv, x)?;
        let scale = 1.0 / (hd as f64).sqrt();
        let y = crate::ops::attention::attention(&qkv, self.heads, scale, self.causal, || {
            let qkv = qkv
                .reshape((n, t, 3, self.heads, hd))?
                .permute((2, 0, 3, 1, 4))?;
            let q = qkv.get(0)?.contiguous()?;
            let k = qkv.get(1)?.contiguous()?;
            let v = qkv.get(2)?.contiguous()?;
            let scores = q.matmul(&k.t()?.contiguous()?)?;
            let att = crate::ops::norm::scaled_softmax(&scores, scale, self.causal)?;
            att.matmul(&v)?.transpose(1, 2)?.reshape((n, t, dim))
        })?;
        linear_tokens(&self.proj, &y)
    }
}

/// One pre-norm block: `x + attn(ln1(x))`, then `x + mlp(ln2(x))`.
pub struct Block {
    ln1: LayerNorm,
    attn: Attention,
    ln2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    dim: usize,
    hidden: usize,
}

impl Block {
    /// A block of width `dim`, `heads` heads and MLP width `hidden`.
    pub fn new(
        dim: usize,
        heads: usize,
        hidden: usize,
        causal: bool,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        Ok(Self {
            ln1: LayerNorm::new(dim, vb.pp("ln1"))?,
            attn: Attention::new(dim, heads, causal, vb.pp("attn"))?,
            ln2: LayerNorm::new(dim, vb.pp("ln2"))?,
            fc1: candle_nn::linear(dim, hidden, vb.pp("fc1"))?,
            fc2: candle_nn::linear(hidden, dim, vb.pp("fc2"))?,
            dim,
            hidden,
        })
    }

    /// `x` `[n, t, dim]` → `[n, t, dim]`.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let x = (x + self.attn.forward(&self.ln1.forward(x)?)?)?;
        let h = crate::ops::norm::gelu(&linear_tokens(&self.fc1, &self.ln2.forward(&x)?)?)?;
        x + linear_tokens(&self.fc2, &h)?
    }

    /// MACs of one block over `tokens` positions.
    pub fn macs(&self, tokens: usize) -> u64 {
        let d = self.dim;
        linear_macs(d, 3 * d, tokens)
            + attention_macs(tokens, d)
            + linear_macs(d, d, tokens)
            + 2 * linear_macs(d, self.hidden, tokens)
    }
}
