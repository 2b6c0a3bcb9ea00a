//! Checks on the real fetched data under datasets/cache (from `scripts/fetch-datasets.sh`).
//! A developer without the files gets each test skipped with a printed reason; in CI
//! (`CI=true`, where `.ci/run` fetches them first) an absent dataset is a failure, so these tests
//! can never pass without asserting anything.

mod common;

use common::{all, floats, repo_datasets, subset};
use greenbench_data::{info, load, locate};

fn present(name: &str) -> bool {
    match locate(name, &repo_datasets(), None) {
        Ok(_) => true,
        Err(e) if in_ci() => panic!("CI=true but {name} is absent ({e}); .ci/run fetches it first"),
        Err(e) => {
            println!("skipped: {e}");
            false
        }
    }
}

/// Whether this runs in CI, where every dataset must be present.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

#[test]
fn real_fashion_mnist() {
    if !present("fashion-mnist") {
        return;
    }
    let t = std::time::Instant::now();
    let d = load("fashion-mnist", &repo_datasets(), None, &all()).unwrap();
    println!("fashion-mnist loaded in {:?}", t.elapsed());
    assert_eq!((d.train.len, d.test.len, d.classes), (60_000, 10_000, 10));
    let mut counts = [0usize; 10];
    d.train
        .targets
        .iter()
        .for_each(|&t| counts[t as usize] += 1);
    assert!(counts.iter().all(|&c| c == 6000), "{counts:?}");
    let p = load("fashion-mnist-32", &repo_datasets(), None, &subset(1000)).unwrap();
    assert_eq!(
        (p.train.len, p.test.len, p.sample_len()),
        (1000, 10_000, 3072)
    );
    // The whole 3×32×32 stand-in is held as its 28×28 bytes: 55 MB, not 860 MB of f32.
    let whole = load("fashion-mnist-32", &repo_datasets(), None, &all()).unwrap();
    let held: usize = [&whole.train, &whole.validation, &whole.test]
        .iter()
        .map(|s| s.inputs.memory_bytes())
        .sum();
    assert_eq!(held, 70_000 * 784);
}

#[test]
fn real_mnist_10k() {
    if !present("mnist-10k") {
        return;
    }
    let d = load("mnist-10k", &repo_datasets(), None, &all()).unwrap();
    assert_eq!((d.train.len, d.test.len), (8000, 2000));
    let i = info("mnist-10k").unwrap();
    assert_eq!((i.train_len, i.test_len), (8000, 2000));
}

#[test]
fn real_moby_dick() {
    if !present("moby-dick") {
        return;
    }
    let d = load("moby-dick", &repo_datasets(), None, &all()).unwrap();
    let i = info("moby-dick").unwrap();
    assert_eq!(
        (d.classes, d.train.len, d.test.len),
        (i.classes, i.train_len, i.test_len)
    );
    let vocab = d.vocab.unwrap();
    let start: String = floats(&d.train, 64)[..16]
        .iter()
        .map(|&t| vocab[t as usize])
        .collect();
    assert_eq!(start, "Call me Ishmael.");
}
