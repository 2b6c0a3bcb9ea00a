//! The pooling windows of a tensor as one gather, for the layers that run on other devices.

use candle_core::{Result, Tensor};

/// The `k²` windows of `x` (padded with `pad` elements of `value`) at `stride`, stacked as
/// `[batch, channels, k², out_h, out_w]`.
///
/// One gather (`index_select` over the flattened spatial positions plus one sentinel element
/// holding the padding value), so the backward pass is a single scatter-add (`index_add`).
pub(super) fn windows(
    x: &Tensor,
    k: usize,
    stride: usize,
    pad: usize,
    value: f32,
) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    if h + 2 * pad < k || w + 2 * pad < k {
        candle_core::bail!("window {k} larger than the padded input {h}×{w} (+{pad})");
    }
    let (ho, wo) = (
        (h + 2 * pad - k) / stride + 1,
        (w + 2 * pad - k) / stride + 1,
    );
    let sentinel = (h * w) as u32;
    let mut idx = Vec::with_capacity(k * k * ho * wo);
    for i in 0..k {
        for j in 0..k {
            for oh in 0..ho {
                let r = (oh * stride + i).checked_sub(pad).filter(|r| *r < h);
                for ow in 0..wo {
                    let q = (ow * stride + j).checked_sub(pad).filter(|q| *q < w);
                    idx.push(match (r, q) {
                        (Some(r), Some(q)) => (r * w + q) as u32,
                        _ => sentinel,
                    });
                }
            }
        }
    }
    let idx = Tensor::from_vec(idx, k * k * ho * wo, x.device())?;
    let flat = x.reshape((b, c, h * w))?;
    let flat = if pad > 0 {
        let fill = Tensor::full(value, (b, c, 1), x.device())?.to_dtype(x.dtype())?;
        Tensor::cat(&[&flat, &fill], 2)?
    } else {
        flat
    };
    flat.index_select(&idx, 2)?.reshape((b, c, k * k, ho, wo))
}
