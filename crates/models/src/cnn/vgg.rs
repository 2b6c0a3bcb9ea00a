//! VGG16 as in pytorch-cifar: 13 conv-bn-relu layers (3×3, with bias) and max pooling, one
//! linear classifier.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::layers::{finish, flatten, max_pool2d, ConvBn, ConvCfg, Layer, Linear};
use crate::model::Model;

/// Output channels per conv; 0 is a 2×2 max pool.
const VGG16: &[usize] = &[
    64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0,
];

struct Vgg {
    /// `None` is a max pool.
    features: Vec<Option<ConvBn>>,
    classifier: Linear,
}

impl Layer for Vgg {
    fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = x.clone();
        for f in &self.features {
            x = match f {
                Some(cb) => cb.forward_t_relu(&x, train)?,
                None => max_pool2d(&x, 2, 2, 0)?,
            };
        }
        // The reference's final AvgPool2d(1, 1) is the identity.
        self.classifier.forward(&flatten(&x)?)
    }
}

/// VGG16 (14,728,266 parameters). Names follow PyTorch's `features.{i}` sequential indices.
pub fn vgg16(vb: VarBuilder) -> Result<Box<dyn Model>> {
    let mut features = Vec::new();
    let (mut c_in, mut idx) = (3, 0);
    let f = vb.pp("features");
    for &c in VGG16 {
        if c == 0 {
            features.push(None);
            idx += 1;
        } else {
            let cfg = ConvCfg::new(c_in, c, 3).pad(1).bias();
            features.push(Some(ConvBn::new(
                &f,
                &idx.to_string(),
                &(idx + 1).to_string(),
                cfg,
            )?));
            idx += 3;
            c_in = c;
        }
    }
    let classifier = Linear::new(vb.pp("classifier"), 512, 10)?;
    finish(
        Vgg {
            features,
            classifier,
        },
        &vb,
    )
}
