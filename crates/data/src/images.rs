//! Image splits before they become a [`Dataset`]: raw pixels of any reader, padded, repeated over
//! channels, scaled to [0,1] and standardised.

use crate::dataset::{standardise, Dataset, SampleKind, Split};

/// Images as bytes or [0,1] floats, before conversion.
pub(crate) struct RawImages<'a> {
    /// Number of images.
    pub len: usize,
    /// Channels of one image.
    pub channels: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// One label per image.
    pub labels: Vec<u32>,
    /// `len × channels × height × width` values.
    pub pixels: Pixels<'a>,
}

/// Pixel values as read from a file.
pub(crate) enum Pixels<'a> {
    /// Bytes and the factor that scales them to [0,1].
    Bytes(&'a [u8], f32),
    /// Values already in [0,1].
    Floats(&'a [f32]),
}

impl RawImages<'_> {
    /// Scaled to [0,1], each channel plane zero-padded by `pad` and the whole image repeated
    /// `repeat` times over channels.
    fn to_f32(&self, pad: usize, repeat: usize) -> Vec<f32> {
        let (h, w) = (self.height, self.width);
        let (oh, ow) = (h + 2 * pad, w + 2 * pad);
        let src_len = self.channels * h * w;
        let out_len = repeat * self.channels * oh * ow;
        let mut out = vec![0f32; self.len * out_len];
        for (i, dst) in out.chunks_exact_mut(out_len).enumerate() {
            for c in 0..self.channels {
                for y in 0..h {
                    let s = i * src_len + c * h * w + y * w;
                    let d = c * oh * ow + (y + pad) * ow + pad;
                    let row = &mut dst[d..d + w];
                    match self.pixels {
                        Pixels::Bytes(b, scale) => {
                            for (o, &v) in row.iter_mut().zip(&b[s..s + w]) {
                                *o = v as f32 * scale;
                            }
                        }
                        Pixels::Floats(f) => row.copy_from_slice(&f[s..s + w]),
                    }
                }
            }
            let one = self.channels * oh * ow;
            for r in 1..repeat {
                dst.copy_within(0..one, r * one);
            }
        }
        out
    }
}

/// Builds an image dataset from raw train/test images, each plane zero-padded by `pad` and
/// repeated `repeat` times over channels, standardised with the train split's mean/std.
pub(crate) fn image_dataset(
    name: &str,
    train: RawImages,
    test: RawImages,
    pad: usize,
    repeat: usize,
    classes: usize,
    source: String,
) -> Dataset {
    let (c, h, w) = (
        train.channels * repeat,
        train.height + 2 * pad,
        train.width + 2 * pad,
    );
    let mut x_train = train.to_f32(pad, repeat);
    let mut x_test = test.to_f32(pad, repeat);
    let norm = standardise(&mut x_train, &mut [&mut x_test[..]], c, h * w);
    Dataset {
        name: name.into(),
        kind: SampleKind::Image {
            channels: c,
            height: h,
            width: w,
        },
        classes,
        train: Split {
            inputs: x_train,
            targets: train.labels,
            len: train.len,
        },
        test: Split {
            inputs: x_test,
            targets: test.labels,
            len: test.len,
        },
        source,
        vocab: None,
        normalization: Some(norm),
    }
}

/// One-channel images; `len` is the number of labels.
pub(crate) fn grey(
    height: usize,
    width: usize,
    labels: Vec<u32>,
    pixels: Pixels<'_>,
) -> RawImages<'_> {
    RawImages {
        len: labels.len(),
        channels: 1,
        height,
        width,
        labels,
        pixels,
    }
}

/// Reorders `sample`-sized samples of `data` by `order`.
pub(crate) fn pick<T: Copy>(data: &[T], sample: usize, order: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(order.len() * sample);
    for &i in order {
        out.extend_from_slice(&data[i * sample..(i + 1) * sample]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_f32_scales_pads_and_repeats() {
        let bytes = [0u8, 4, 1, 3];
        let im = grey(2, 2, vec![0], Pixels::Bytes(&bytes, 0.25));
        assert_eq!(im.to_f32(0, 1), vec![0.0, 1.0, 0.25, 0.75]);
        let padded = im.to_f32(1, 2);
        assert_eq!(padded.len(), 2 * 4 * 4);
        #[rustfmt::skip]
        let plane = [
            0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 1.0, 0.0,
            0.0, 0.25, 0.75, 0.0,
            0.0, 0.0, 0.0, 0.0,
        ];
        assert_eq!(&padded[..16], &plane);
        assert_eq!(&padded[16..], &plane);
        let floats = [0.5f32, 0.25];
        let two = grey(1, 1, vec![3, 4], Pixels::Floats(&floats));
        assert_eq!((two.len, two.to_f32(0, 1)), (2, vec![0.5, 0.25]));
    }

    #[test]
    fn pick_reorders_whole_samples() {
        assert_eq!(pick(&[1, 2, 3, 4, 5, 6], 2, &[2, 0]), vec![5, 6, 1, 2]);
    }

    #[test]
    fn image_dataset_shapes_and_standardises() {
        let bytes = [0u8, 255, 255, 0];
        let train = grey(1, 1, vec![0, 1, 1, 0], Pixels::Bytes(&bytes, 1.0 / 255.0));
        let test = grey(1, 1, vec![1], Pixels::Bytes(&bytes[1..2], 1.0 / 255.0));
        let d = image_dataset("t", train, test, 1, 3, 2, "here".into());
        assert_eq!(d.sample_shape(), vec![3, 3, 3]);
        assert_eq!((d.train.len, d.test.len, d.classes), (4, 1, 2));
        assert_eq!(d.train.inputs.len(), 4 * 27);
        assert_eq!((d.name.as_str(), d.source.as_str()), ("t", "here"));
        assert!(d.normalization.is_some() && d.vocab.is_none());
    }
}
