//! Building blocks shared by the CNNs: convolution (dense, grouped, depthwise), batch-norm,
//! linear layers, pooling with padding, and the MAC counter.
//!
//! # Trainable variables and buffers
//! Every trainable parameter (convolution and linear weights and biases, batch-norm weight and
//! bias) is created through the [`VarBuilder`](candle_nn::VarBuilder) handed to the builder,
//! with PyTorch's default initialisation: convolution/linear weights and biases uniform in
//! `±1/sqrt(fan_in)` (PyTorch's Kaiming-uniform with `a = sqrt(5)`), batch-norm weight 1 and
//! bias 0. Names follow the PyTorch module paths of pytorch-cifar (`layer1.0.conv1.weight`,
//! `layer1.0.bn1.bias`, ...).
//!
//! Batch-norm running mean and variance are *buffers*, not parameters: they live in the `VarMap`
//! (`….running_mean`, `….running_var`, so checkpoints keep them), but `init::is_buffer` keeps
//! them out of the trainable set and the parameter count, which equals PyTorch's.
//!
//! # MACs
//! [`Conv2d`] and [`Linear`] add their multiply-accumulates to a thread-local counter while
//! [`count_macs`] is active; the builders run one eval-mode forward pass of a single zero image
//! (3×32×32) under it. Counted: convolutions (`out_h·out_w·c_out·(c_in/groups)·k²`) and linear
//! layers (`in·out`), including 1×1 squeeze-excitation convolutions; biases, batch-norm,
//! activations, pooling and additions are not counted (ptflops counts those too, a few per cent
//! more).
//!
//! # Files
//! One layer per file — `conv2d.rs` (with its [`ConvCfg`] in `conv_cfg.rs`), `batch_norm.rs`,
//! `conv_bn.rs`, `linear.rs`, `pool.rs` — plus the MAC counter (`macs.rs`), the network wrapper
//! (`net.rs`), the stateless functions (`functional.rs`), PyTorch's initialisation
//! (`default_init.rs`) and the primitive-op fallbacks for other devices (`windows.rs`,
//! `depthwise.rs`).

mod batch_norm;
mod conv2d;
mod conv_bn;
mod conv_cfg;
mod default_init;
mod depthwise;
mod functional;
mod linear;
mod macs;
mod net;
mod pool;
mod windows;

pub use crate::ops::epilogue::Act;
pub use batch_norm::BatchNorm2d;
pub(crate) use batch_norm::BN_MOMENTUM;
pub use conv2d::Conv2d;
pub use conv_bn::{conv_bn_act, ConvBn};
pub use conv_cfg::ConvCfg;
pub use functional::{flatten, scale_channels_add, sigmoid, split_channels, swish};
pub use linear::Linear;
#[cfg(test)]
pub use macs::count_macs;
pub use net::{finish, finish_with_unused, Layer};
pub use pool::{global_avg_pool, global_avg_pool_keepdim, max_pool2d};
