//! The sample order of an epoch and batch gathering.

use crate::dataset::Split;
use crate::rng::{shuffle, SplitMix64};

/// The sample order of `epoch`: a permutation of `0..n` that depends only on `(n, seed, epoch)`.
pub fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<usize> {
    let mut mix = SplitMix64::new(seed);
    let base = mix.next_u64();
    let mut rng = SplitMix64::new(base ^ (epoch as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(&mut order, &mut rng);
    order
}

/// Fills `x` with the inputs and `y` with the targets of `indices` (cleared first; capacity reused).
///
/// `sample_len` and `targets_per_sample` are [`crate::Dataset::sample_len`] and
/// [`crate::Dataset::targets_per_sample`]. Panics if an index is `>= split.len` (a caller bug).
pub fn gather(
    split: &Split,
    indices: &[usize],
    sample_len: usize,
    targets_per_sample: usize,
    x: &mut Vec<f32>,
    y: &mut Vec<u32>,
) {
    x.clear();
    y.clear();
    x.reserve(indices.len() * sample_len);
    y.reserve(indices.len() * targets_per_sample);
    for &i in indices {
        assert!(
            i < split.len,
            "gather: index {i} out of range for a split of {} samples",
            split.len
        );
        split.inputs.push_sample(i, sample_len, x);
        y.extend_from_slice(&split.targets[i * targets_per_sample..(i + 1) * targets_per_sample]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Inputs;

    #[test]
    fn epoch_order_is_a_deterministic_permutation() {
        let a = epoch_order(1000, 7, 0);
        assert_eq!(a, epoch_order(1000, 7, 0));
        assert_ne!(a, epoch_order(1000, 7, 1));
        assert_ne!(a, epoch_order(1000, 8, 0));
        let mut s = a.clone();
        s.sort();
        assert_eq!(s, (0..1000).collect::<Vec<_>>());
        assert!(epoch_order(0, 1, 0).is_empty());
        // Pinned: the order must never change across machines or releases.
        assert_eq!(epoch_order(8, 0, 0), PINNED);
    }
    const PINNED: [usize; 8] = [7, 1, 0, 6, 3, 2, 4, 5];

    #[test]
    fn gather_fills_and_reuses() {
        let split = Split {
            inputs: Inputs::Floats((0..12).map(|v| v as f32).collect()),
            targets: vec![10, 11, 12, 13, 14, 15],
            len: 3,
        };
        let (mut x, mut y) = (Vec::new(), Vec::new());
        gather(&split, &[2, 0], 4, 2, &mut x, &mut y);
        assert_eq!(x, vec![8.0, 9.0, 10.0, 11.0, 0.0, 1.0, 2.0, 3.0]);
        assert_eq!(y, vec![14, 15, 10, 11]);
        gather(&split, &[1], 4, 2, &mut x, &mut y);
        assert_eq!((x.len(), y.clone()), (4, vec![12, 13]));
    }
}
