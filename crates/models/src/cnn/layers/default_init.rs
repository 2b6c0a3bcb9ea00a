//! PyTorch's default initialisation of convolution and linear layers.

use candle_nn::Init;

/// PyTorch's default init for weights and biases of a layer with `fan_in` inputs.
pub(super) fn default_init(fan_in: usize) -> Init {
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}
