//! Missing, truncated and malformed files: every error names the file, what was expected, what
//! was found and what to do — and nothing panics.

mod common;

use common::*;
use greenbench_data::{load, locate, DataError};

fn err(name: &str, root: &std::path::Path, path: Option<&std::path::Path>) -> String {
    match load(name, root, path, &all()) {
        Ok(_) => panic!("{name} loaded from bad input"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_datasets_name_the_file_and_the_fetch_command() {
    let root = tempfile::tempdir().unwrap();
    let e = err("fashion-mnist", root.path(), None);
    assert!(e.contains("train-images-idx3-ubyte.gz"), "{e}");
    assert!(
        e.contains("`scripts/fetch-datasets.sh fashion-mnist`"),
        "{e}"
    );
    let e = err("fashion-mnist-32", root.path(), None);
    assert!(
        e.contains("`scripts/fetch-datasets.sh fashion-mnist`"),
        "{e}"
    );
    let e = err("mnist-10k", root.path(), None);
    assert!(
        e.contains("0.json") && e.contains("`scripts/fetch-datasets.sh mnist-10k`"),
        "{e}"
    );
    let e = err("moby-dick", root.path(), None);
    assert!(
        e.contains("chapter_1.json") && e.contains("`scripts/fetch-datasets.sh moby-dick`"),
        "{e}"
    );
    let e = err("digits", root.path(), None);
    assert!(
        e.contains("digits.csv.gz") && e.contains("git checkout"),
        "{e}"
    );
    assert!(matches!(
        locate("fashion-mnist", root.path(), None),
        Err(DataError::Missing { .. })
    ));

    // One file of four missing: that one is named.
    let dir = write_fashion(root.path(), 2, 2);
    std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte")).unwrap();
    let e = err("fashion-mnist", root.path(), None);
    assert!(
        e.contains("t10k-labels-idx1-ubyte.gz") && !e.contains("train-images"),
        "{e}"
    );
}

#[test]
fn cifar_needs_a_path_and_names_missing_batches() {
    let root = tempfile::tempdir().unwrap();
    let e = err("cifar10", root.path(), None);
    assert!(
        e.contains("needs a path") && e.contains("cifar-10-batches-bin"),
        "{e}"
    );
    write_cifar(root.path(), 1, 1);
    std::fs::remove_file(root.path().join("data_batch_4.bin")).unwrap();
    let e = err("cifar10", root.path(), Some(root.path()));
    assert!(e.contains("data_batch_4.bin"), "{e}");
}

#[test]
fn unknown_name_and_zero_subset() {
    let root = tempfile::tempdir().unwrap();
    let e = err("cifar100", root.path(), None);
    assert!(
        e.contains("unknown dataset `cifar100`") && e.contains("fashion-mnist"),
        "{e}"
    );
    let e = load("digits", &repo_datasets(), None, &subset(0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("subset must be at least 1"), "{e}");
}

#[test]
fn truncated_idx_says_expected_and_found_size() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_fashion(root.path(), 3, 2);
    let (img, _) = images_and_labels(3);
    let cut = &img[..img.len() - 100];
    std::fs::write(dir.join("train-images-idx3-ubyte.gz"), gz(cut)).unwrap();
    let e = err("fashion-mnist", root.path(), None);
    assert!(e.contains("train-images-idx3-ubyte.gz"), "{e}");
    assert!(
        e.contains("truncated")
            && e.contains("expected 2352 data bytes")
            && e.contains("found 2252"),
        "{e}"
    );
    assert!(e.contains("scripts/fetch-datasets.sh fashion-mnist"), "{e}");

    // A gzip stream cut short.
    let whole = gz(&img);
    std::fs::write(
        dir.join("train-images-idx3-ubyte.gz"),
        &whole[..whole.len() / 2],
    )
    .unwrap();
    let e = err("fashion-mnist", root.path(), None);
    assert!(
        e.contains("train-images-idx3-ubyte.gz") && e.contains("gzip"),
        "{e}"
    );
}

#[test]
fn wrong_magic_idx_says_expected_and_found_magic() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_fashion(root.path(), 3, 2);
    std::fs::write(
        dir.join("t10k-labels-idx1-ubyte"),
        b"<html>not found</html>",
    )
    .unwrap();
    let e = err("fashion-mnist", root.path(), None);
    assert!(e.contains("t10k-labels-idx1-ubyte"), "{e}");
    assert!(
        e.contains("wrong magic") && e.contains("00 00 08") && e.contains("3c 68 74 6d"),
        "{e}"
    );

    // Images where labels belong, and a label count that differs.
    let (img, _) = images_and_labels(2);
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), img).unwrap();
    let e = err("fashion-mnist", root.path(), None);
    assert!(
        e.contains("1 dimension") && e.contains("found 3 dimensions"),
        "{e}"
    );
    let (_, lab) = images_and_labels(5);
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), lab).unwrap();
    let e = err("fashion-mnist", root.path(), None);
    assert!(
        e.contains("expected 2 labels") && e.contains("found 5 labels"),
        "{e}"
    );
}

#[test]
fn truncated_and_wrong_cifar_batches() {
    let root = tempfile::tempdir().unwrap();
    write_cifar(root.path(), 2, 2);
    let f = root.path().join("data_batch_2.bin");
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() - 1]).unwrap();
    let e = err("cifar10", root.path(), Some(root.path()));
    assert!(
        e.contains("data_batch_2.bin")
            && e.contains("multiple of 3073")
            && e.contains("6145 bytes"),
        "{e}"
    );
    assert!(e.contains("binary"), "{e}");

    let mut bad = cifar_record(200, 0);
    bad.extend(cifar_record(1, 1));
    std::fs::write(&f, bad).unwrap();
    let e = err("cifar10", root.path(), Some(root.path()));
    assert!(
        e.contains("data_batch_2.bin") && e.contains("record 0") && e.contains("found 200"),
        "{e}"
    );
}

#[test]
fn malformed_json_and_chapters() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_mnist_json(root.path(), 2);
    std::fs::write(dir.join("7.json"), r#"{"data":[0.5, 0.5"#).unwrap();
    let e = err("mnist-10k", root.path(), None);
    assert!(
        e.contains("7.json") && e.contains("not an MNIST digit file"),
        "{e}"
    );
    assert!(e.contains("scripts/fetch-datasets.sh mnist-10k"), "{e}");

    let dir = write_chapters(root.path(), &[(1, "short")]);
    let e = err("moby-dick", root.path(), None);
    assert!(e.contains("too short"), "{e}");
    std::fs::write(dir.join("chapter_2.json"), "[]").unwrap();
    let e = err("moby-dick", root.path(), None);
    assert!(
        e.contains("chapter_2.json") && e.contains("not a chapter file"),
        "{e}"
    );
}

#[test]
fn bad_digits_csv() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("digits.csv.gz");
    std::fs::write(&f, gz(b"0,1,2\n")).unwrap();
    let e = err("digits", dir.path(), Some(&f));
    assert!(
        e.contains("digits.csv.gz")
            && e.contains("65 comma-separated values")
            && e.contains("found 3"),
        "{e}"
    );
}
