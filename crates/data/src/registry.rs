//! Named datasets: what each is, where its files are, and how to load it into a [`Dataset`].
//! Every function here reads the one table of dataset definitions (`definitions.rs`).

use std::path::{Path, PathBuf};

use crate::dataset::{Dataset, SampleKind};
use crate::definitions::{fetch_script, find, DatasetDef, Source, DATASETS};
use crate::error::DataError;
use crate::loaders::{find_gz_or_raw, Request};
use crate::selection::Selection;

pub use crate::loaders::TEXT_SEQ_LEN;

/// What the registry knows about a dataset without loading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatasetInfo {
    /// Registry name.
    pub name: &'static str,
    /// One-line description (what it is, where it comes from).
    pub description: &'static str,
    /// What one sample is; [`DatasetInfo::is_text`] says whether it is a token window.
    pub kind: SampleKind,
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

impl DatasetInfo {
    /// Whether the dataset is text (token windows for a language model) rather than images.
    pub fn is_text(&self) -> bool {
        self.kind.is_text()
    }
}

/// Registered dataset names.
pub fn names() -> Vec<&'static str> {
    DATASETS.iter().map(|d| d.name).collect()
}

/// The command that fetches `name`'s files.
pub fn fetch_command(name: &str) -> String {
    match find(name).map(|d| d.source) {
        Some(Source::Fetched { folder, .. }) => fetch_script(folder),
        _ => fetch_script(name),
    }
}

/// Static facts about `name`, or `None` if it is not registered.
pub fn info(name: &str) -> Option<DatasetInfo> {
    let d = find(name)?;
    Some(DatasetInfo {
        name: d.name,
        description: d.description,
        kind: d.kind,
        sample_shape: d.kind.shape(),
        classes: d.classes,
        licence: d.licence,
        fetch_hint: d.source.fetch_hint(),
        train_len: d.train_len,
        test_len: d.test_len,
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

/// The registered definition of `name`, or the error that lists the known names.
fn definition(name: &str) -> Result<&'static DatasetDef, DataError> {
    find(name).ok_or_else(|| unknown(name))
}

/// The first file of `required` that `dir` lacks (with `gz_or_raw`, as `<file>.gz`).
fn first_missing(dir: &Path, required: &[&str], gz_or_raw: bool) -> Option<PathBuf> {
    required.iter().find_map(|f| {
        if gz_or_raw {
            find_gz_or_raw(dir, f)
                .is_none()
                .then(|| dir.join(format!("{f}.gz")))
        } else {
            Some(dir.join(f)).filter(|p| !p.is_file())
        }
    })
}

/// Where `name`'s files are: a folder (a file for `digits`). `path` overrides the default place
/// under `root` (`root/cache/<name>/`, `root/digits.csv.gz`); `cifar10` requires it.
/// Errors name the first missing file and the command (or action) that provides it.
pub fn locate(name: &str, root: &Path, path: Option<&Path>) -> Result<PathBuf, DataError> {
    let def = definition(name)?;
    let at = match def.source {
        Source::Fetched { folder, .. } => path
            .map(Path::to_path_buf)
            .unwrap_or_else(|| root.join("cache").join(folder)),
        Source::Committed { file } => match path {
            Some(p) if p.is_dir() => p.join(file),
            Some(p) => p.to_path_buf(),
            None => root.join(file),
        },
        Source::UserPath { nested, hint, .. } => {
            let Some(p) = path else {
                return Err(DataError::NeedsPath {
                    dataset: name.into(),
                    hint: hint.into(),
                });
            };
            Some(p.join(nested))
                .filter(|n| n.is_dir())
                .unwrap_or_else(|| p.to_path_buf())
        }
    };
    let missing = match def.source {
        Source::Fetched {
            required,
            gz_or_raw,
            ..
        } => first_missing(&at, required, gz_or_raw),
        Source::UserPath { required, .. } => first_missing(&at, required, false),
        Source::Committed { .. } => Some(at.clone()).filter(|f| !f.is_file()),
    };
    match missing {
        None => Ok(at),
        Some(file) => Err(DataError::Missing {
            dataset: name.into(),
            file,
            fetch: def.source.missing_hint(path.is_some()),
        }),
    }
}

/// Loads `name` into memory: the samples `sel` keeps (a stratified training subset, a validation
/// split held out of it, a stratified test subset — the same for every run); images standardised
/// per channel with the training samples' mean/std (kept as bytes until a batch is gathered where
/// the files hold bytes); text as token ids. See [`locate`] for `root`/`path`.
pub fn load(
    name: &str,
    root: &Path,
    path: Option<&Path>,
    sel: &Selection,
) -> Result<Dataset, DataError> {
    let def = definition(name)?;
    let invalid = |message: &str| DataError::Invalid {
        dataset: name.into(),
        message: message.into(),
    };
    if sel.subset == Some(0) {
        return Err(invalid("subset must be at least 1"));
    }
    if sel.test_subset == Some(0) {
        return Err(invalid("test_subset must be at least 1"));
    }
    if !(0.0..1.0).contains(&sel.validation) {
        return Err(invalid(
            "validation must be a fraction in [0, 1) of the training samples",
        ));
    }
    let at = locate(name, root, path)?;
    let request = Request {
        name: def.name,
        classes: def.classes,
        at: &at,
        sel: *sel,
    };
    (def.load)(&request).map_err(|e| e.with_hint(def.source.repair_hint(path.is_some())))
}
