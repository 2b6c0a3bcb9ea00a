//! The in-memory dataset: splits as plain arrays, sample shapes, normalisation and splitting helpers.

use crate::rng::{shuffle, SplitMix64};

/// What one sample is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleKind {
    /// An image, channel-major (`channels × height × width` values).
    Image {
        /// Colour channels.
        channels: usize,
        /// Rows, in pixels (after any padding: what the model sees).
        height: usize,
        /// Columns, in pixels (after any padding: what the model sees).
        width: usize,
    },
    /// A window of `seq_len` token ids (as f32) with `seq_len` next-token targets.
    Text {
        /// Tokens per window.
        seq_len: usize,
    },
}

impl SampleKind {
    /// Shape of one input: `[channels, height, width]` or `[seq_len]`.
    pub fn shape(&self) -> Vec<usize> {
        match *self {
            SampleKind::Image {
                channels,
                height,
                width,
            } => vec![channels, height, width],
            SampleKind::Text { seq_len } => vec![seq_len],
        }
    }

    /// Whether samples are token windows (a language model's input) rather than images.
    pub fn is_text(&self) -> bool {
        matches!(self, SampleKind::Text { .. })
    }
}

/// One split (train, validation or test) as flat arrays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Split {
    /// The `len` inputs, each [`Dataset::sample_len`] values once expanded by [`Inputs::push_sample`].
    pub inputs: Inputs,
    /// `len × targets_per_sample` class ids or next-token ids.
    pub targets: Vec<u32>,
    /// Number of samples.
    pub len: usize,
}

/// The inputs of a split as they are held in memory.
#[derive(Debug, Clone, PartialEq)]
pub enum Inputs {
    /// `len × sample_len` values ready for the model: standardised pixels, or token ids as f32.
    Floats(Vec<f32>),
    /// Image bytes as read from the files (before padding and channel repetition), turned into
    /// standardised f32 one sample at a time: a quarter of the memory of [`Inputs::Floats`] for
    /// greyscale, a twelfth for the padded three-channel stand-in, and no full-size conversion pass.
    Bytes(ByteImages),
}

impl Default for Inputs {
    fn default() -> Self {
        Inputs::Floats(Vec::new())
    }
}

/// Image bytes and how one image becomes model input: scale to [0,1], zero-pad each plane by
/// `pad`, repeat the channels `repeat` times, standardise per output channel.
#[derive(Debug, Clone, PartialEq)]
pub struct ByteImages {
    /// `len × channels × height × width` bytes, channel-major.
    pub pixels: Vec<u8>,
    /// Channels of a stored image.
    pub channels: usize,
    /// Rows of a stored image.
    pub height: usize,
    /// Columns of a stored image.
    pub width: usize,
    /// Zero rows/columns added on each side of every plane.
    pub pad: usize,
    /// How many times the stored channels are repeated.
    pub repeat: usize,
    /// Factor that maps a byte to [0,1] (1/255, or 1/16 for the digits).
    pub scale: f32,
    /// Standardisation per output channel (`channels × repeat` entries).
    pub normalization: Normalization,
}

impl ByteImages {
    /// Values in one stored image.
    fn stored_len(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// Appends image `i` as `channels·repeat × (height+2·pad) × (width+2·pad)` standardised f32.
    fn push(&self, i: usize, out: &mut Vec<f32>) {
        let (h, w, pad) = (self.height, self.width, self.pad);
        let ow = w + 2 * pad;
        let src = &self.pixels[i * self.stored_len()..(i + 1) * self.stored_len()];
        for r in 0..self.repeat {
            for c in 0..self.channels {
                let oc = r * self.channels + c;
                let (m, inv) = (
                    self.normalization.mean[oc],
                    1.0 / self.normalization.std[oc],
                );
                let zero = (0.0 - m) * inv;
                let plane = &src[c * h * w..(c + 1) * h * w];
                out.extend(std::iter::repeat_n(zero, pad * ow));
                for row in plane.chunks_exact(w) {
                    out.extend(std::iter::repeat_n(zero, pad));
                    out.extend(row.iter().map(|&v| (v as f32 * self.scale - m) * inv));
                    out.extend(std::iter::repeat_n(zero, pad));
                }
                out.extend(std::iter::repeat_n(zero, pad * ow));
            }
        }
    }
}

impl Inputs {
    /// Appends sample `i` (of `sample_len` values once expanded) to `out`.
    pub fn push_sample(&self, i: usize, sample_len: usize, out: &mut Vec<f32>) {
        match self {
            Inputs::Floats(v) => out.extend_from_slice(&v[i * sample_len..(i + 1) * sample_len]),
            Inputs::Bytes(b) => b.push(i, out),
        }
    }

    /// Every sample expanded to f32 (`len × sample_len` values): for tests and tools, not for
    /// training (it builds the full-size array the byte form avoids).
    pub fn to_f32(&self, len: usize, sample_len: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(len * sample_len);
        for i in 0..len {
            self.push_sample(i, sample_len, &mut out);
        }
        out
    }

    /// Bytes of memory the inputs hold.
    pub fn memory_bytes(&self) -> usize {
        match self {
            Inputs::Floats(v) => v.len() * std::mem::size_of::<f32>(),
            Inputs::Bytes(b) => b.pixels.len(),
        }
    }
}

/// Per-channel standardisation applied to image inputs: `x' = (x − mean) / std`, `x` in [0,1].
#[derive(Debug, Clone, PartialEq)]
pub struct Normalization {
    /// Mean of the train split per channel (inputs scaled to [0,1]).
    pub mean: Vec<f32>,
    /// Standard deviation of the train split per channel (1 where it was 0).
    pub std: Vec<f32>,
}

/// A loaded dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Registry name (e.g. `fashion-mnist`).
    pub name: String,
    /// Sample kind and shape.
    pub kind: SampleKind,
    /// Number of classes, or the vocabulary size for text.
    pub classes: usize,
    /// Training split (what the model is trained on).
    pub train: Split,
    /// Validation split, held out of the training samples (empty when none was asked for):
    /// per-epoch accuracy and every model choice use it, never the test split.
    pub validation: Split,
    /// Test split (or its stratified subset): measured once, at the end of a run.
    pub test: Split,
    /// The files it was read from.
    pub source: String,
    /// Token id → character, for text datasets.
    pub vocab: Option<Vec<char>>,
    /// Standardisation used for image inputs (computed on the train split).
    pub normalization: Option<Normalization>,
}

impl Dataset {
    /// Shape of one input: `[channels, height, width]` or `[seq_len]`.
    pub fn sample_shape(&self) -> Vec<usize> {
        self.kind.shape()
    }

    /// Number of f32 values in one input.
    pub fn sample_len(&self) -> usize {
        self.sample_shape().iter().product()
    }

    /// Targets per sample: 1 for images, `seq_len` for text.
    pub fn targets_per_sample(&self) -> usize {
        match self.kind {
            SampleKind::Image { .. } => 1,
            SampleKind::Text { seq_len } => seq_len,
        }
    }

    /// A random image dataset for tests and benchmarks of the code around the data (not real data):
    /// inputs uniform in [-1, 1), labels uniform, fully determined by `seed`.
    pub fn synthetic_image(
        shape: [usize; 3],
        classes: usize,
        train_len: usize,
        test_len: usize,
        seed: u64,
    ) -> Dataset {
        let mut rng = SplitMix64::new(seed);
        let sample_len: usize = shape.iter().product();
        let mut split = |len: usize| Split {
            inputs: Inputs::Floats(
                (0..len * sample_len)
                    .map(|_| (rng.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
                    .collect(),
            ),
            targets: (0..len).map(|_| rng.below(classes.max(1)) as u32).collect(),
            len,
        };
        let train = split(train_len);
        let test = split(test_len);
        Dataset {
            name: "synthetic".into(),
            kind: SampleKind::Image {
                channels: shape[0],
                height: shape[1],
                width: shape[2],
            },
            classes,
            train,
            validation: Split::default(),
            test,
            source: format!("synthetic (seed {seed})"),
            vocab: None,
            normalization: None,
        }
    }
}

/// Computes per-channel mean/std of `train` (images of `channels` planes of `plane` values each)
/// and standardises `train` and every slice in `others` with them.
pub(crate) fn standardise(
    train: &mut [f32],
    others: &mut [&mut [f32]],
    channels: usize,
    plane: usize,
) -> Normalization {
    let mut sum = vec![0f64; channels];
    let mut sq = vec![0f64; channels];
    let sample = channels * plane;
    for img in train.chunks_exact(sample) {
        for (c, p) in img.chunks_exact(plane).enumerate() {
            let (mut s, mut q) = (0f64, 0f64);
            for &v in p {
                s += v as f64;
                q += (v as f64) * (v as f64);
            }
            sum[c] += s;
            sq[c] += q;
        }
    }
    let n = (train.len() / sample.max(1) * plane).max(1) as f64;
    let Normalization { mean, std } = channel_stats(&sum, &sq, n);
    let apply = |data: &mut [f32]| {
        for img in data.chunks_exact_mut(sample) {
            for (c, p) in img.chunks_exact_mut(plane).enumerate() {
                let (m, inv) = (mean[c], 1.0 / std[c]);
                for v in p {
                    *v = (*v - m) * inv;
                }
            }
        }
    };
    apply(train);
    for o in others.iter_mut() {
        apply(o);
    }
    Normalization { mean, std }
}

/// Mean and standard deviation (1 where it is 0) per channel from sums and sums of squares over
/// `n` values each.
pub(crate) fn channel_stats(sum: &[f64], sq: &[f64], n: f64) -> Normalization {
    let mean = sum.iter().map(|s| (s / n) as f32).collect();
    let std = sum
        .iter()
        .zip(sq)
        .map(|(s, q)| {
            let var = (q / n - (s / n) * (s / n)).max(0.0);
            let sd = var.sqrt() as f32;
            if sd > 1e-8 {
                sd
            } else {
                1.0
            }
        })
        .collect();
    Normalization { mean, std }
}

/// A deterministic stratified split: per class, a seeded shuffle, then `test_num/test_den` of the
/// samples (largest-remainder rounding so the total is `round(n × fraction)`) go to test.
/// Returns `(train, test)` indices, each in a seeded shuffled order (so any prefix mixes classes).
pub(crate) fn stratified_split(
    labels: &[u32],
    classes: usize,
    test_num: usize,
    test_den: usize,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let mut rng = SplitMix64::new(seed);
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        if let Some(v) = by_class.get_mut(l as usize) {
            v.push(i);
        }
    }
    let total: usize = by_class.iter().map(Vec::len).sum();
    let want = (total * test_num + test_den / 2) / test_den;
    let mut take: Vec<usize> = by_class
        .iter()
        .map(|v| v.len() * test_num / test_den)
        .collect();
    let mut rem: Vec<(usize, usize)> = by_class
        .iter()
        .enumerate()
        .map(|(c, v)| (v.len() * test_num % test_den, c))
        .collect();
    rem.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut missing = want.saturating_sub(take.iter().sum());
    for &(_, c) in &rem {
        if missing == 0 {
            break;
        }
        take[c] += 1;
        missing -= 1;
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (c, mut idx) in by_class.into_iter().enumerate() {
        shuffle(&mut idx, &mut rng);
        test.extend_from_slice(&idx[..take[c]]);
        train.extend_from_slice(&idx[take[c]..]);
    }
    shuffle(&mut train, &mut rng);
    shuffle(&mut test, &mut rng);
    (train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardise_per_channel() {
        // 2 images, 2 channels, 2 pixels per plane.
        let mut train = vec![0.0, 1.0, 0.5, 0.5, 1.0, 0.0, 0.5, 0.5];
        let mut test = vec![0.5, 0.5, 0.5, 0.5];
        let n = standardise(&mut train, &mut [&mut test[..]], 2, 2);
        assert_eq!(n.mean, vec![0.5, 0.5]);
        assert_eq!(n.std, vec![0.5, 1.0]);
        assert_eq!(train, vec![-1.0, 1.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0]);
        assert_eq!(test, vec![0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn stratified_split_sizes_and_determinism() {
        let labels: Vec<u32> = (0..103).map(|i| i % 3).collect();
        let (tr, te) = stratified_split(&labels, 3, 1, 5, 42);
        assert_eq!((tr.len(), te.len()), (82, 21));
        assert_eq!(
            (tr.clone(), te.clone()),
            stratified_split(&labels, 3, 1, 5, 42)
        );
        let mut all: Vec<usize> = tr.iter().chain(&te).copied().collect();
        all.sort();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        for c in 0..3u8 {
            let n = te.iter().filter(|&&i| labels[i] == c as u32).count();
            assert!((6..=8).contains(&n), "class {c}: {n}");
        }
    }

    #[test]
    fn synthetic_is_deterministic() {
        let a = Dataset::synthetic_image([1, 4, 4], 3, 5, 2, 9);
        assert_eq!(a, Dataset::synthetic_image([1, 4, 4], 3, 5, 2, 9));
        let x = a.train.inputs.to_f32(a.train.len, a.sample_len());
        assert_eq!((a.sample_len(), x.len(), a.test.targets.len()), (16, 80, 2));
        assert!(x.iter().all(|v| (-1.0..1.0).contains(v)));
    }
}
