//! Which samples of a dataset a run uses: a stratified training subset, a validation split held
//! out of it, and a stratified test subset — all deterministic, the same on every machine and for
//! every run of a sweep.

use crate::dataset::stratified_split;

/// Seed of the fixed train/test splits of `mnist-10k` and `digits` and, mixed with a constant
/// per draw, of every run's selection (never change it: results from different machines must
/// use the same split).
pub const SPLIT_SEED: u64 = 0x6772_6565_6e62_656e; // "greenben"

/// Which samples a run uses. The default keeps everything and holds nothing out.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Selection {
    /// Training samples to keep, stratified by class (`None`: all; never `Some(0)`).
    pub subset: Option<usize>,
    /// Fraction in [0, 1) of the kept training samples held out, stratified, as the validation
    /// split (per-epoch accuracy, model choices); they are never trained on.
    pub validation: f64,
    /// Test samples to keep, stratified by class (`None`: the whole test split).
    pub test_subset: Option<usize>,
}

/// Indices into the full train and test splits, in the order the splits keep them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Picked {
    /// Training samples.
    pub train: Vec<usize>,
    /// Validation samples (from the full train split).
    pub validation: Vec<usize>,
    /// Test samples.
    pub test: Vec<usize>,
}

/// `validation` as a fraction num/den with den = 10⁶ (what [`stratified_split`] takes).
fn per_million(fraction: f64) -> usize {
    (fraction.clamp(0.0, 1.0) * 1e6).round() as usize
}

/// `keep` of the samples labelled `labels` (all of them, in order, when `keep` is `None` or not
/// below their number), stratified by class with `seed`.
fn stratified_keep(labels: &[u32], classes: usize, keep: Option<usize>, seed: u64) -> Vec<usize> {
    match keep {
        Some(n) if n < labels.len() => stratified_split(labels, classes, n, labels.len(), seed).1,
        _ => (0..labels.len()).collect(),
    }
}

/// The samples of a labelled (image) dataset that `sel` keeps: a stratified subset of the train
/// split, a stratified validation fraction of that subset, and a stratified test subset.
pub(crate) fn pick_labelled(
    train_labels: &[u32],
    test_labels: &[u32],
    classes: usize,
    sel: &Selection,
) -> Picked {
    let kept = stratified_keep(train_labels, classes, sel.subset, SPLIT_SEED ^ 0x7375_6273);
    let (train, validation) = match per_million(sel.validation) {
        0 => (kept, Vec::new()),
        num => {
            let kept_labels: Vec<u32> = kept.iter().map(|&i| train_labels[i]).collect();
            let (tr, va) =
                stratified_split(&kept_labels, classes, num, 1_000_000, SPLIT_SEED ^ 0x76616c);
            (
                tr.iter().map(|&i| kept[i]).collect(),
                va.iter().map(|&i| kept[i]).collect(),
            )
        }
    };
    let test = stratified_keep(
        test_labels,
        classes,
        sel.test_subset,
        SPLIT_SEED ^ 0x7465_7374,
    );
    Picked {
        train,
        validation,
        test,
    }
}

/// The windows of a text dataset that `sel` keeps: the first `subset` training windows, of which
/// the last `validation` fraction is held out (contiguous, so no validation text is trained on),
/// and the first `test_subset` test windows.
pub(crate) fn pick_windows(train_len: usize, test_len: usize, sel: &Selection) -> Picked {
    let kept = sel.subset.map_or(train_len, |n| n.min(train_len));
    let held = (kept * per_million(sel.validation) + 500_000) / 1_000_000;
    let test = sel.test_subset.map_or(test_len, |n| n.min(test_len));
    Picked {
        train: (0..kept - held).collect(),
        validation: (kept - held..kept).collect(),
        test: (0..test).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(idx: &[usize], labels: &[u32], class: u32) -> usize {
        idx.iter().filter(|&&i| labels[i] == class).count()
    }

    #[test]
    fn labelled_selection_is_stratified_disjoint_and_deterministic() {
        let train: Vec<u32> = (0..1000).map(|i| (i % 10) as u32).collect();
        let test: Vec<u32> = (0..300).map(|i| (i % 3) as u32).collect();
        let sel = Selection {
            subset: Some(200),
            validation: 0.1,
            test_subset: Some(30),
        };
        let p = pick_labelled(&train, &test, 10, &sel);
        assert_eq!(
            (p.train.len(), p.validation.len(), p.test.len()),
            (180, 20, 30)
        );
        for c in 0..10 {
            assert_eq!(count(&p.train, &train, c), 18, "class {c}");
            assert_eq!(count(&p.validation, &train, c), 2, "class {c}");
        }
        for c in 0..3 {
            assert_eq!(count(&p.test, &test, c), 10, "class {c}");
        }
        assert!(p.train.iter().all(|i| !p.validation.contains(i)));
        assert_eq!(p, pick_labelled(&train, &test, 10, &sel));
    }

    #[test]
    fn default_selection_keeps_everything_in_order() {
        let labels = [0u32, 1, 0, 1];
        let p = pick_labelled(&labels, &labels[..2], 2, &Selection::default());
        assert_eq!(p.train, vec![0, 1, 2, 3]);
        assert!(p.validation.is_empty());
        assert_eq!(p.test, vec![0, 1]);
        let big = Selection {
            subset: Some(10),
            test_subset: Some(10),
            ..Selection::default()
        };
        assert_eq!(pick_labelled(&labels, &labels, 2, &big).train.len(), 4);
    }

    #[test]
    fn text_validation_is_the_tail_of_the_kept_windows() {
        let sel = Selection {
            subset: Some(50),
            validation: 0.1,
            test_subset: Some(7),
        };
        let p = pick_windows(100, 20, &sel);
        assert_eq!(p.train, (0..45).collect::<Vec<_>>());
        assert_eq!(p.validation, (45..50).collect::<Vec<_>>());
        assert_eq!(p.test, (0..7).collect::<Vec<_>>());
        let all = pick_windows(10, 3, &Selection::default());
        assert_eq!(
            (all.train.len(), all.validation.len(), all.test.len()),
            (10, 0, 3)
        );
    }

    #[test]
    fn selection_needs_no_loader() {
        // loaders and images build on selection; selection must not lean back on loaders.
        let needle = format!("crate::{}", "loaders");
        assert!(
            !include_str!("selection.rs").contains(&needle),
            "selection.rs names {needle}: keep what it needs here"
        );
    }
}
