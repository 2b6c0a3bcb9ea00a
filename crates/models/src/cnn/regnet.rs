//! RegNetX_200MF as in pytorch-cifar: bottleneck ratio 1, group width 8, no squeeze-excitation.

use candle_core::Result;
use candle_nn::VarBuilder;

use super::layers::{finish, ConvBn, ConvCfg, Linear};
use super::resnext::Bottleneck;
use super::staged::{stage_blocks, Head, Names, Pool, Staged, Stem};
use crate::model::Model;

const GROUP_WIDTH: usize = 8;

/// RegNetX_200MF (2,321,946 parameters).
pub fn regnetx_200mf(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let widths = [24, 56, 152, 368];
    let stages = [(1, 1), (1, 1), (4, 2), (7, 2)];
    let stem = ConvBn::new(&vb, "conv1", "bn1", ConvCfg::new(3, 64, 3).pad(1))?;
    let (blocks, _) = stage_blocks(&vb, Names::PerStage, 64, &stages, |v, b| {
        let w_out = widths[b.stage];
        let w_b = w_out; // round(w_out · bottleneck ratio 1)
        let block = Bottleneck::new(v, (b.c_in, w_b, w_out), w_b / GROUP_WIDTH, b.stride)?;
        Ok((block, w_out))
    })?;
    let linear = Linear::new(vb.pp("linear"), widths[3], 10)?;
    let net = Staged {
        stem: Stem::ConvBnRelu(stem),
        blocks,
        head: Head::None,
        pool: Pool::Global,
        linear,
    };
    finish(net, &vb)
}
