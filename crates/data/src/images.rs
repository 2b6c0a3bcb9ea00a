//! Image splits before they become a [`Dataset`]: raw pixels of any reader, padded, repeated over
//! channels, scaled to [0,1] and standardised.

use crate::dataset::{
    channel_stats, standardise, ByteImages, Dataset, Inputs, Normalization, SampleKind, Split,
};
use crate::selection::{pick_labelled, Selection};

/// Images as bytes or [0,1] floats, before conversion.
pub(crate) struct RawImages<'a> {
    /// Number of images.
    pub len: usize,
    /// Channels of one image.
    pub channels: usize,
    /// Rows of one image, in pixels, before padding.
    pub height: usize,
    /// Columns of one image, in pixels, before padding.
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

/// How stored images become model input: each plane zero-padded by `pad`, the channels repeated
/// `repeat` times.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    /// Zero rows/columns added on each side of every plane.
    pub pad: usize,
    /// How many times the channels are repeated.
    pub repeat: usize,
}

impl Layout {
    /// Stored as read.
    pub const AS_IS: Layout = Layout { pad: 0, repeat: 1 };
}

/// Builds an image dataset from the raw train/test images of a reader: the samples `sel` keeps
/// (train, validation held out of it, test), laid out by `layout` and standardised with the
/// training samples' per-channel mean/std. Byte images stay bytes until a batch is gathered.
pub(crate) fn image_dataset(
    name: &str,
    train: RawImages,
    test: RawImages,
    layout: Layout,
    classes: usize,
    source: String,
    sel: &Selection,
) -> Dataset {
    let picked = pick_labelled(&train.labels, &test.labels, classes, sel);
    let (c, h, w) = (
        train.channels * layout.repeat,
        train.height + 2 * layout.pad,
        train.width + 2 * layout.pad,
    );
    let parts = [
        train.part(&picked.train),
        train.part(&picked.validation),
        test.part(&picked.test),
    ];
    let ([tr, va, te], normalization) = match train.pixels {
        Pixels::Bytes(_, scale) => byte_splits(&train, parts, layout, scale),
        Pixels::Floats(_) => float_splits(&train, parts, layout),
    };
    Dataset {
        name: name.into(),
        kind: SampleKind::Image {
            channels: c,
            height: h,
            width: w,
        },
        classes,
        train: tr,
        validation: va,
        test: te,
        source,
        vocab: None,
        normalization: Some(normalization),
    }
}

/// The picked samples of one split: labels and their stored values, still unconverted (bytes or
/// floats, as the reader gave them).
pub(crate) struct Part {
    labels: Vec<u32>,
    bytes: Vec<u8>,
    floats: Vec<f32>,
}

impl RawImages<'_> {
    /// The samples `idx`, in that order.
    fn part(&self, idx: &[usize]) -> Part {
        let one = self.channels * self.height * self.width;
        let (bytes, floats) = match self.pixels {
            Pixels::Bytes(b, _) => (pick(b, one, idx), Vec::new()),
            Pixels::Floats(f) => (Vec::new(), pick(f, one, idx)),
        };
        Part {
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
            bytes,
            floats,
        }
    }
}

/// Byte splits (images shaped like `like`) sharing the training part's standardisation.
fn byte_splits(
    like: &RawImages,
    parts: [Part; 3],
    layout: Layout,
    scale: f32,
) -> ([Split; 3], Normalization) {
    let normalization = byte_normalization(&parts[0].bytes, like, layout, scale);
    let splits = parts.map(|p| Split {
        len: p.labels.len(),
        targets: p.labels,
        inputs: Inputs::Bytes(ByteImages {
            pixels: p.bytes,
            channels: like.channels,
            height: like.height,
            width: like.width,
            pad: layout.pad,
            repeat: layout.repeat,
            scale,
            normalization: normalization.clone(),
        }),
    });
    (splits, normalization)
}

/// Per output channel mean/std of `bytes` (images shaped like `like`) as they would be after
/// scaling, padding and repetition: the same sums, in the same order, as standardising the
/// expanded f32 images, without building them.
fn byte_normalization(bytes: &[u8], like: &RawImages, layout: Layout, scale: f32) -> Normalization {
    let (h, w) = (like.height, like.width);
    let plane = (h + 2 * layout.pad) * (w + 2 * layout.pad);
    let stored = (like.channels * h * w).max(1);
    let mut sum = vec![0f64; like.channels];
    let mut sq = vec![0f64; like.channels];
    for img in bytes.chunks_exact(stored) {
        for (c, p) in img.chunks_exact((h * w).max(1)).enumerate() {
            let (mut s, mut q) = (0f64, 0f64);
            for &b in p {
                let v = (b as f32 * scale) as f64;
                s += v;
                q += v * v;
            }
            sum[c] += s;
            sq[c] += q;
        }
    }
    let n = (bytes.len() / stored * plane).max(1) as f64;
    let one = channel_stats(&sum, &sq, n);
    let repeated = |v: &[f32]| (0..layout.repeat).flat_map(|_| v.iter().copied()).collect();
    Normalization {
        mean: repeated(&one.mean),
        std: repeated(&one.std),
    }
}

/// Float splits (images shaped like `like`), expanded and standardised with the training part's
/// mean/std.
fn float_splits(like: &RawImages, parts: [Part; 3], layout: Layout) -> ([Split; 3], Normalization) {
    let expand = |p: &Part| {
        RawImages {
            len: p.labels.len(),
            channels: like.channels,
            height: like.height,
            width: like.width,
            labels: Vec::new(),
            pixels: Pixels::Floats(&p.floats),
        }
        .to_f32(layout.pad, layout.repeat)
    };
    let [tr, va, te] = parts;
    let (mut x_tr, mut x_va, mut x_te) = (expand(&tr), expand(&va), expand(&te));
    let plane = (like.height + 2 * layout.pad) * (like.width + 2 * layout.pad);
    let channels = like.channels * layout.repeat;
    let norm = standardise(
        &mut x_tr,
        &mut [&mut x_va[..], &mut x_te[..]],
        channels,
        plane,
    );
    let split = |p: Part, x| Split {
        len: p.labels.len(),
        targets: p.labels,
        inputs: Inputs::Floats(x),
    };
    ([split(tr, x_tr), split(va, x_va), split(te, x_te)], norm)
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
        let layout = Layout { pad: 1, repeat: 3 };
        let d = image_dataset(
            "t",
            train,
            test,
            layout,
            2,
            "here".into(),
            &Selection::default(),
        );
        assert_eq!(d.sample_shape(), vec![3, 3, 3]);
        assert_eq!((d.train.len, d.test.len, d.classes), (4, 1, 2));
        assert_eq!(d.validation.len, 0);
        assert_eq!(d.train.inputs.to_f32(4, 27).len(), 4 * 27);
        assert_eq!(d.train.inputs.memory_bytes(), 4, "bytes stay bytes");
        assert_eq!((d.name.as_str(), d.source.as_str()), ("t", "here"));
        assert!(d.normalization.is_some() && d.vocab.is_none());
    }

    /// Bytes expanded per sample give bit for bit the inputs (and statistics) of expanding every
    /// image to f32 first and standardising the arrays, which is what the float path does.
    #[test]
    fn byte_images_expand_exactly_like_the_float_path() {
        let (n, side) = (23, 5);
        let bytes: Vec<u8> = (0..n * 2 * side * side)
            .map(|k| (k * 37 % 251) as u8)
            .collect();
        let scale = 1.0 / 255.0;
        let floats: Vec<f32> = bytes.iter().map(|&b| b as f32 * scale).collect();
        let labels: Vec<u32> = (0..n as u32).map(|i| i % 3).collect();
        let colour = |pixels| RawImages {
            len: n,
            channels: 2,
            height: side,
            width: side,
            labels: labels.clone(),
            pixels,
        };
        let sel = Selection {
            subset: Some(20),
            validation: 0.25,
            test_subset: Some(9),
        };
        let layout = Layout { pad: 2, repeat: 3 };
        let by_bytes = image_dataset(
            "b",
            colour(Pixels::Bytes(&bytes, scale)),
            colour(Pixels::Bytes(&bytes, scale)),
            layout,
            3,
            String::new(),
            &sel,
        );
        let by_floats = image_dataset(
            "f",
            colour(Pixels::Floats(&floats)),
            colour(Pixels::Floats(&floats)),
            layout,
            3,
            String::new(),
            &sel,
        );
        assert_eq!(by_bytes.normalization, by_floats.normalization);
        let len = by_bytes.sample_len();
        assert_eq!(len, 6 * 9 * 9);
        for (a, b) in [
            (&by_bytes.train, &by_floats.train),
            (&by_bytes.validation, &by_floats.validation),
            (&by_bytes.test, &by_floats.test),
        ] {
            assert_eq!((a.len, &a.targets), (b.len, &b.targets));
            assert!(matches!(a.inputs, Inputs::Bytes(_)));
            assert!(matches!(b.inputs, Inputs::Floats(_)));
            let (x, y) = (a.inputs.to_f32(a.len, len), b.inputs.to_f32(b.len, len));
            assert!(x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()));
        }
        assert_eq!(
            (
                by_bytes.train.len,
                by_bytes.validation.len,
                by_bytes.test.len
            ),
            (15, 5, 9)
        );
    }
}
