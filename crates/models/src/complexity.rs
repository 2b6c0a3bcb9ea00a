//! Model complexity: trainable parameters from the [`VarMap`] and analytic MACs per sample.
//!
//! Convention: multiply-accumulates of convolutions, linear layers and attention matmuls for one
//! sample; biases, batch/layer norm, activations, pooling and softmax are not counted (ptflops adds
//! those, a few per cent more).

use candle_nn::VarMap;

use crate::init::is_buffer;

/// Trainable parameters (elements) of every variable in `varmap`, batch-norm statistics excluded.
pub fn param_count(varmap: &VarMap) -> u64 {
    match varmap.data().lock() {
        Ok(d) => d
            .iter()
            .filter(|(k, _)| !is_buffer(k))
            .map(|(_, v)| v.elem_count() as u64)
            .sum(),
        Err(_) => 0,
    }
}

/// MACs of a linear layer `in → out` applied to `tokens` positions (1 for a plain vector).
pub fn linear_macs(input: usize, output: usize, tokens: usize) -> u64 {
    (input * output * tokens) as u64
}

/// MACs of a 2-D convolution producing `out_h × out_w` outputs of `out_ch` channels from `in_ch`
/// channels with a `kh × kw` kernel and `groups` groups.
#[allow(clippy::too_many_arguments)]
#[cfg(test)]
pub fn conv2d_macs(
    in_ch: usize,
    out_ch: usize,
    kh: usize,
    kw: usize,
    out_h: usize,
    out_w: usize,
    groups: usize,
) -> u64 {
    let per_out = (in_ch / groups.max(1)) * kh * kw;
    (per_out * out_ch * out_h * out_w) as u64
}

/// Output size of a convolution or pooling along one axis (PyTorch's formula, dilation 1).
#[cfg(test)]
pub fn conv_out(size: usize, kernel: usize, stride: usize, padding: usize) -> usize {
    (size + 2 * padding).saturating_sub(kernel) / stride.max(1) + 1
}

/// MACs of the two attention matmuls (`Q·Kᵀ` and `A·V`) for `tokens` positions of width `dim`
/// (all heads together; projections are counted with [`linear_macs`]).
pub fn attention_macs(tokens: usize, dim: usize) -> u64 {
    2 * (tokens * tokens * dim) as u64
}

/// MACs per parameter, the paper's proxy for energy (0 when there are no parameters).
pub fn macs_per_param(macs: u64, params: u64) -> f64 {
    if params == 0 {
        0.0
    } else {
        macs as f64 / params as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_match_hand_counts() {
        assert_eq!(linear_macs(784, 256, 1), 200_704);
        // LeNet conv1: 3→6, 5×5, 32→28.
        assert_eq!(conv_out(32, 5, 1, 0), 28);
        assert_eq!(conv2d_macs(3, 6, 5, 5, 28, 28, 1), 352_800);
        // Depthwise 3×3 on 32 channels, 16×16.
        assert_eq!(conv2d_macs(32, 32, 3, 3, 16, 16, 32), 73_728);
        assert_eq!(conv_out(32, 3, 2, 1), 16);
        assert_eq!(attention_macs(65, 64), 2 * 65 * 65 * 64);
        assert_eq!(macs_per_param(10, 0), 0.0);
    }
}
