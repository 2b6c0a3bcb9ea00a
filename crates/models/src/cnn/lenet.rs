//! LeNet-5 as in pytorch-cifar: two 5×5 convolutions with max pooling, three linear layers.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, flatten, max_pool2d, Conv2d, ConvCfg, Layer, Linear};
use crate::model::Model;

struct LeNet {
    conv1: Conv2d,
    conv2: Conv2d,
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
}

impl Layer for LeNet {
    fn forward_t(&self, x: &Tensor, _train: bool) -> Result<Tensor> {
        let x = max_pool2d(&self.conv1.forward_act(x, true)?, 2, 2, 0)?;
        let x = max_pool2d(&self.conv2.forward_act(&x, true)?, 2, 2, 0)?;
        let x = self.fc1.forward_act(&flatten(&x)?, true)?;
        let x = self.fc2.forward_act(&x, true)?;
        self.fc3.forward(&x)
    }
}

/// LeNet (62,006 parameters).
pub fn lenet(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let body = LeNet {
        conv1: Conv2d::new(vb.pp("conv1"), ConvCfg::new(3, 6, 5).bias())?,
        conv2: Conv2d::new(vb.pp("conv2"), ConvCfg::new(6, 16, 5).bias())?,
        fc1: Linear::new(vb.pp("fc1"), 16 * 5 * 5, 120)?,
        fc2: Linear::new(vb.pp("fc2"), 120, 84)?,
        fc3: Linear::new(vb.pp("fc3"), 84, 10)?,
    };
    finish(body, &vb)
}
