//! Loading each registered dataset through the public API, from committed fixtures or files the
//! test writes itself.

mod common;

use common::*;
use greenbench_data::{epoch_order, gather, info, load, locate, names, SampleKind, Selection};

#[test]
fn registry_lists_every_dataset_with_info() {
    let n = names();
    for name in [
        "fashion-mnist",
        "fashion-mnist-32",
        "mnist-10k",
        "digits",
        "cifar10",
        "moby-dick",
    ] {
        assert!(n.contains(&name), "{name}");
        let i = info(name).unwrap();
        assert_eq!(i.name, name);
        assert!(!i.licence.is_empty() && !i.fetch_hint.is_empty());
    }
    assert!(info("imagenet").is_none());
    let f32 = info("fashion-mnist-32").unwrap();
    assert_eq!(f32.sample_shape, vec![3, 32, 32]);
    assert!(
        f32.description.contains("NOT CIFAR-10"),
        "{}",
        f32.description
    );
    assert_eq!(
        info("fashion-mnist").unwrap().fetch_hint,
        "scripts/fetch-datasets.sh fashion-mnist"
    );
}

#[test]
fn digits_fixture_loads_for_real() {
    let d = load("digits", &repo_datasets(), None, &all()).unwrap();
    assert_eq!(d.train.len + d.test.len, 1797);
    assert_eq!((d.train.len, d.test.len), (1438, 359));
    assert_eq!(d.classes, 10);
    assert_eq!(d.sample_shape(), vec![1, 8, 8]);
    assert_eq!((d.sample_len(), d.targets_per_sample()), (64, 1));
    assert_eq!(floats(&d.train, 64).len(), 1438 * 64);
    for split in [&d.train, &d.test] {
        let mut seen = [0usize; 10];
        for &t in &split.targets {
            seen[t as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 0), "{seen:?}");
    }
    let (m, s) = mean_std(&floats(&d.train, d.sample_len()));
    assert!(
        m.abs() < 1e-4 && (s - 1.0).abs() < 1e-3,
        "train standardised: mean {m}, std {s}"
    );
    assert!(d.source.ends_with("digits.csv.gz"));
    // Deterministic split; a subset is stratified (10 of each class) and the same every time.
    let again = load("digits", &repo_datasets(), None, &subset(100)).unwrap();
    assert_eq!(again.train.len, 100);
    for c in 0..10 {
        assert_eq!(again.train.targets.iter().filter(|&&t| t == c).count(), 10);
    }
    let twice = load("digits", &repo_datasets(), None, &subset(100)).unwrap();
    assert_eq!(again, twice);
    assert_eq!(again.test.targets, d.test.targets);
}

#[test]
fn validation_and_test_subset_are_held_out_stratified_and_fixed() {
    let sel = Selection {
        subset: Some(500),
        validation: 0.2,
        test_subset: Some(100),
    };
    let d = load("digits", &repo_datasets(), None, &sel).unwrap();
    assert_eq!((d.train.len, d.validation.len, d.test.len), (400, 100, 100));
    for (split, per_class) in [(&d.train, 40), (&d.validation, 10), (&d.test, 10)] {
        for c in 0..10 {
            let n = split.targets.iter().filter(|&&t| t == c).count();
            // The digits classes hold 174–183 images each, so a share is within ±3 of even.
            assert!(
                n.abs_diff(per_class) <= 3,
                "class {c}: {n} of {}",
                split.len
            );
        }
    }
    // No validation image is trained on: compare the expanded images.
    let train = floats(&d.train, 64);
    let val = floats(&d.validation, 64);
    let train_imgs: Vec<&[f32]> = train.chunks(64).collect();
    let shared = val.chunks(64).filter(|v| train_imgs.contains(v)).count();
    // The digits set has a few exact duplicates; held-out indices are disjoint, images nearly so.
    assert!(shared <= 2, "{shared} validation images also in train");
    // The test subset is the same for every run, whatever the training selection.
    let other = load(
        "digits",
        &repo_datasets(),
        None,
        &Selection {
            subset: None,
            ..sel
        },
    )
    .unwrap();
    assert_eq!(other.test.targets, d.test.targets);
    let bytes = |s: &greenbench_data::Split| match &s.inputs {
        greenbench_data::Inputs::Bytes(b) => b.pixels.clone(),
        greenbench_data::Inputs::Floats(_) => panic!("digits are held as bytes"),
    };
    assert_eq!(bytes(&other.test), bytes(&d.test));
}

#[test]
fn fashion_mnist_and_its_32x32_three_channel_stand_in() {
    let root = tempfile::tempdir().unwrap();
    write_fashion(root.path(), 12, 5);
    let d = load("fashion-mnist", root.path(), None, &all()).unwrap();
    assert_eq!(
        d.kind,
        SampleKind::Image {
            channels: 1,
            height: 28,
            width: 28
        }
    );
    assert_eq!((d.train.len, d.test.len, d.classes), (12, 5, 10));
    assert_eq!(
        d.train.targets,
        (0..12).map(|i| i % 10).collect::<Vec<u32>>()
    );
    let (m, s) = mean_std(&floats(&d.train, d.sample_len()));
    assert!(
        m.abs() < 1e-4 && (s - 1.0).abs() < 1e-3,
        "mean {m}, std {s}"
    );

    let four = load("fashion-mnist-32", root.path(), None, &subset(4)).unwrap();
    assert_eq!((four.train.len, four.test.len), (4, 5));
    let p = load("fashion-mnist-32", root.path(), None, &all()).unwrap();
    assert_eq!(p.sample_shape(), vec![3, 32, 32]);
    let x = floats(&p.train, p.sample_len());
    assert_eq!(x.len(), 12 * 3072);
    let img = &x[3072..2 * 3072];
    let (r, g, b) = (&img[..1024], &img[1024..2048], &img[2048..]);
    assert_eq!(r, g);
    assert_eq!(r, b);
    let norm = p.normalization.as_ref().unwrap();
    let zero = (0.0 - norm.mean[0]) / norm.std[0];
    // Border (padding) pixels hold the standardised 0; the original image starts at (2, 2).
    assert!(r[..64].iter().all(|&v| v == zero));
    let first = (1.0 * 7.0 / 255.0 - norm.mean[0]) / norm.std[0]; // image 1, pixel 0 = 7
    assert!((r[2 * 32 + 2] - first).abs() < 1e-5);
    assert!(locate("fashion-mnist-32", root.path(), None)
        .unwrap()
        .ends_with("cache/fashion-mnist"));
}

#[test]
fn mnist_json_split_is_stratified_and_deterministic() {
    let root = tempfile::tempdir().unwrap();
    write_mnist_json(root.path(), 10);
    let d = load("mnist-10k", root.path(), None, &all()).unwrap();
    assert_eq!((d.train.len, d.test.len), (80, 20));
    for c in 0..10u32 {
        assert_eq!(d.test.targets.iter().filter(|&&t| t == c).count(), 2);
    }
    let again = load("mnist-10k", root.path(), None, &all()).unwrap();
    assert_eq!(d, again);
}

#[test]
fn cifar_from_a_user_path() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("cifar-10-batches-bin");
    write_cifar(&bin, 3, 4);
    // Either the folder itself or its parent may be given.
    let d = load("cifar10", dir.path(), Some(dir.path()), &all()).unwrap();
    assert_eq!((d.train.len, d.test.len), (15, 4));
    assert_eq!(d.sample_shape(), vec![3, 32, 32]);
    assert_eq!(d.train.targets[..4], [3, 4, 5, 6]);
    assert_eq!(d.normalization.as_ref().unwrap().mean.len(), 3);
    assert!(d.source.contains("data_batch_5.bin") && d.source.contains("test_batch.bin"));
    let sub = load("cifar10", dir.path(), Some(&bin), &subset(7)).unwrap();
    assert_eq!(sub.train.len, 7);
}

#[test]
fn moby_dick_char_windows() {
    let root = tempfile::tempdir().unwrap();
    let long = "Call me Ishmael. ".repeat(60);
    // chapter_10 must come after chapter_2 (numeric order, not lexical).
    write_chapters(
        root.path(),
        &[(1, &long), (10, "zzz THE END"), (2, "Loomings.")],
    );
    let d = load("moby-dick", root.path(), None, &all()).unwrap();
    let vocab = d.vocab.clone().unwrap();
    let mut sorted = vocab.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(vocab, sorted);
    assert_eq!(d.classes, vocab.len());
    assert_eq!(d.kind, SampleKind::Text { seq_len: 64 });
    assert_eq!((d.sample_len(), d.targets_per_sample()), (64, 64));
    let text = format!("{long}\n\nLoomings.\n\nzzz THE END");
    let n = text.chars().count();
    let cut = n - n / 10;
    assert_eq!(d.train.len, (cut - 1) / 64);
    assert_eq!(d.test.len, (n - cut - 1) / 64);
    let decode = |ids: &[f32]| ids.iter().map(|&i| vocab[i as usize]).collect::<String>();
    assert_eq!(
        decode(&floats(&d.train, 64)[..64]),
        text.chars().take(64).collect::<String>()
    );
    // Targets are the inputs shifted by one character.
    assert_eq!(
        d.train.targets[..63]
            .iter()
            .map(|&t| t as f32)
            .collect::<Vec<_>>(),
        floats(&d.train, 64)[1..64]
    );
    // The test windows come from the end of the text.
    assert!(decode(&floats(&d.test, 64))
        .chars()
        .all(|c| text[text.len() - 200..].contains(c)));
}

#[test]
fn batches_through_the_public_api() {
    let d = load("digits", &repo_datasets(), None, &all()).unwrap();
    let order = epoch_order(d.train.len, 3, 0);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    gather(
        &d.train,
        &order[..32],
        d.sample_len(),
        d.targets_per_sample(),
        &mut x,
        &mut y,
    );
    assert_eq!((x.len(), y.len()), (32 * 64, 32));
    assert_eq!(y[0], d.train.targets[order[0]]);
    assert_eq!(
        x[..64],
        floats(&d.train, 64)[order[0] * 64..order[0] * 64 + 64]
    );
}
