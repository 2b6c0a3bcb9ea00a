//! What a model is built for: the shape of one sample and the number of classes.

/// The shape of one sample and the number of classes (vocabulary size for text).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InputSpec {
    /// `[C, H, W]` for images, `[seq_len]` for text.
    pub sample_shape: Vec<usize>,
    /// Classes, or vocabulary size for text.
    pub classes: usize,
    /// Token-id input with one target per position.
    pub text: bool,
}

impl InputSpec {
    /// Values per sample.
    pub fn sample_len(&self) -> usize {
        self.sample_shape.iter().product()
    }
    /// Targets per sample: `seq_len` for text, else 1.
    pub fn targets_per_sample(&self) -> usize {
        if self.text {
            self.sample_len()
        } else {
            1
        }
    }
}
