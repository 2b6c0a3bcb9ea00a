//! A dataset table's `subset`, `test_subset` and `validation` must fit the dataset's splits: each
//! is refused at validation, located, with the split's real size.

use greenbench_core::Catalog;
use greenbench_core::{DatasetSizes, DeviceName, SweepConfig};
use std::path::Path;

/// The registry's sizes of `digits` (images, 10 classes) and `moby-dick` (text windows).
struct Sized;

impl Catalog for Sized {
    fn models(&self) -> Vec<String> {
        Vec::new()
    }
    fn datasets(&self) -> Vec<String> {
        vec!["digits".into(), "moby-dick".into()]
    }
    fn check_device(&self, _: DeviceName) -> Result<(), greenbench_core::BoxError> {
        Ok(())
    }
    fn dataset_sizes(&self, dataset: &str) -> Option<DatasetSizes> {
        match dataset {
            "digits" => Some(DatasetSizes {
                train: 1438,
                test: 359,
                classes: Some(10),
            }),
            "moby-dick" => Some(DatasetSizes {
                train: 16_669,
                test: 1852,
                classes: None,
            }),
            _ => None,
        }
    }
}

/// A catalog that knows the training set's size only (what `--dry-run`'s catalog forwards).
struct TrainOnly;

impl Catalog for TrainOnly {
    fn models(&self) -> Vec<String> {
        Vec::new()
    }
    fn datasets(&self) -> Vec<String> {
        Vec::new()
    }
    fn check_device(&self, _: DeviceName) -> Result<(), greenbench_core::BoxError> {
        Ok(())
    }
    fn train_samples(&self, dataset: &str) -> Option<usize> {
        (dataset == "digits").then_some(1438)
    }
}

/// A config whose line 2 is `dataset = <dataset>`.
fn config(dataset: &str) -> String {
    format!("name = \"t\"\ndataset = {dataset}\nmodel = \"mlp-small\"\nbatch_size = 8\n")
}

fn check(dataset: &str, catalog: &dyn Catalog) -> Result<(), String> {
    SweepConfig::parse(&config(dataset), Path::new("t.toml"))
        .and_then(|c| c.validate(catalog))
        .map_err(|e| e.to_string())
}

#[test]
fn a_test_subset_larger_than_the_test_split_is_refused_with_its_size() {
    let e = check(r#"{ name = "digits", test_subset = 100000 }"#, &Sized).unwrap_err();
    assert!(
        e.contains("t.toml:2:11: field `dataset.test_subset`"),
        "{e}"
    );
    assert!(
        e.contains("test_subset = 100000 is larger than the 359 test samples of `digits`"),
        "{e}"
    );
    assert!(e.contains("give at most 359"), "{e}");
    check(r#"{ name = "digits", test_subset = 359 }"#, &Sized).unwrap();
}

#[test]
fn a_subset_larger_than_the_training_split_is_refused_with_its_size() {
    let e = check(r#"{ name = "digits", subset = 100000 }"#, &Sized).unwrap_err();
    assert!(e.contains("t.toml:2:11: field `dataset.subset`"), "{e}");
    assert!(
        e.contains("subset = 100000 is larger than the 1438 training samples of `digits`"),
        "{e}"
    );
    check(r#"{ name = "digits", subset = 1438 }"#, &Sized).unwrap();
    // The dry run's catalog knows the training set's size only: the subset is still refused.
    let e = check(r#"{ name = "digits", subset = 1439 }"#, &TrainOnly).unwrap_err();
    assert!(e.contains("1438 training samples"), "{e}");
}

#[test]
fn a_validation_fraction_must_hold_out_one_sample_per_class() {
    let e = check(r#"{ name = "digits", validation = 0.00001 }"#, &Sized).unwrap_err();
    assert!(e.contains("t.toml:2:11: field `dataset.validation`"), "{e}");
    assert!(
        e.contains("holds out 0 of the 1438 training samples of `digits`"),
        "{e}"
    );
    assert!(e.contains("10 classes"), "{e}");
    assert!(
        e.contains("validation = 0"),
        "the hint names the way to hold nothing out: {e}"
    );
    // 1438 × 0.005 = 7 samples for 10 classes; 1438 × 0.007 = 10.
    assert!(check(r#"{ name = "digits", validation = 0.005 }"#, &Sized).is_err());
    check(r#"{ name = "digits", validation = 0.007 }"#, &Sized).unwrap();
    // A subset counts: a tenth of 50 is 5 samples for 10 classes.
    let e = check(r#"{ name = "digits", subset = 50 }"#, &Sized).unwrap_err();
    assert!(e.contains("holds out 5 of the 50 training samples"), "{e}");
    // 0 holds nothing out on purpose, and the default holds out 144.
    check(r#"{ name = "digits", validation = 0 }"#, &Sized).unwrap();
    check(r#""digits""#, &Sized).unwrap();
}

#[test]
fn a_text_validation_split_needs_one_window_and_a_catalog_without_classes_asks_for_one_sample() {
    let e = check(r#"{ name = "moby-dick", validation = 0.00001 }"#, &Sized).unwrap_err();
    assert!(
        e.contains("holds out 0 of the 16669 training samples of `moby-dick`"),
        "{e}"
    );
    check(r#"{ name = "moby-dick", validation = 0.0001 }"#, &Sized).unwrap();
    let e = check(r#"{ name = "digits", validation = 0.0001 }"#, &TrainOnly).unwrap_err();
    assert!(e.contains("holds out 0 of the 1438"), "{e}");
}
