//! The CNN family: the 16 networks of pytorch-cifar used by the paper (3×32×32 input, 10 classes).

use candle_nn::VarBuilder;

use crate::model::Model;

/// Config names of the CNNs, in the order `greenbench models` lists them.
pub const NAMES: &[&str] = &[];

/// Builds the CNN `name` with its variables under `vb`.
pub fn build(name: &str, _vb: VarBuilder) -> candle_core::Result<Box<dyn Model>> {
    Err(candle_core::Error::Msg(format!("unknown CNN `{name}`")))
}
