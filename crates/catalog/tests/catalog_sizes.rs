//! The zoo catalog gives validation the registry's split sizes and classes, so a config asking
//! for more samples than a dataset has is refused before anything runs, with the real size.

use greenbench_catalog::ZooCatalog;
use greenbench_core::{Catalog, DatasetSizes, SweepConfig};
use std::path::{Path, PathBuf};

fn catalog() -> ZooCatalog {
    ZooCatalog::new(PathBuf::from("no-datasets-needed"))
}

#[test]
fn sizes_come_from_the_registry() {
    let c = catalog();
    assert_eq!(
        c.dataset_sizes("digits"),
        Some(DatasetSizes {
            train: 1438,
            test: 359,
            classes: Some(10),
        })
    );
    // Text: no classes to stratify by (81 is the vocabulary).
    assert_eq!(c.dataset_sizes("moby-dick").map(|s| s.classes), Some(None));
    assert_eq!(c.train_samples("digits"), Some(1438));
    assert_eq!(c.dataset_sizes("imagenet"), None);
}

#[test]
fn a_config_asking_for_more_samples_than_digits_has_is_refused() {
    let text = "name = \"t\"\ndataset = { name = \"digits\", test_subset = 100000 }\n\
                model = \"mlp-small\"\nbatch_size = 8\n";
    let e = SweepConfig::parse(text, Path::new("t.toml"))
        .and_then(|c| c.validate(&catalog()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("t.toml:2:11: field `dataset.test_subset`"),
        "{e}"
    );
    assert!(
        e.contains("larger than the 359 test samples of `digits`"),
        "{e}"
    );
}
