//! The Trainer: overfitting, real-data accuracy, determinism, checkpoints, input errors.

mod common;

use std::io::Read;

use common::{image, random_batch, settings, Lcg};
use greenbench_core::{DeviceName, Schedule};
use greenbench_models::{open_device, InputSpec, ModelError, TrainSettings, Trainer};

fn overfit(s: TrainSettings, input: &InputSpec, steps: usize, x: &[f32], y: &[u32], n: usize) {
    let mut t = Trainer::new(&s, input).unwrap();
    let first = t.train_step(x, y, n).unwrap().loss;
    let mut last = first;
    for _ in 0..steps {
        last = t.train_step(x, y, n).unwrap().loss;
    }
    assert!(
        last <= 0.1 * first,
        "{}: loss {first} → {last}, expected a fall of ≥ 90 %",
        s.model
    );
}

/// A training step records its graph even when it runs on a thread inside someone else's
/// `no_grad` — what happens when a rayon pool thread, waiting inside another trainer's
/// evaluation, steals the step (the trainer runs its steps on the pool). The losses of four steps
/// equal those of the same steps run plainly, so every step updated the weights.
#[test]
fn a_step_stolen_inside_no_grad_still_trains() {
    let input = image(1, 8, 8, 5);
    let (x, y) = random_batch(&input, 16, &mut Lcg(5));
    let s = settings("mlp-small", "sgd", 0.05);
    let losses = |inside_no_grad: bool| -> Vec<f64> {
        let mut t = Trainer::new(&s, &input).unwrap();
        (0..4)
            .map(|_| {
                let mut step = || t.train_step(&x, &y, 16).unwrap().loss;
                if inside_no_grad {
                    // On a pool thread, as a stolen task runs: the trainer's own `rayon::scope`
                    // then runs inline on this thread, under this `no_grad`.
                    rayon::scope(|_| candle_core::op::no_grad(&mut step))
                } else {
                    step()
                }
            })
            .collect()
    };
    let (plain, stolen) = (losses(false), losses(true));
    assert!(plain[3] < plain[0], "the plain run learns: {plain:?}");
    assert_eq!(stolen, plain, "steps inside no_grad must train as usual");
}

#[test]
fn mlp_overfits_a_tiny_batch() {
    let input = image(1, 8, 8, 5);
    let (x, y) = random_batch(&input, 16, &mut Lcg(11));
    overfit(settings("mlp-small", "sgd", 0.05), &input, 60, &x, &y, 16);
}

#[test]
fn char_gpt_overfits_a_tiny_batch() {
    // Cyclic sequences: the next character is a function of the current one.
    let (vocab, n) = (12usize, 4usize);
    let input = InputSpec {
        sample_shape: vec![16],
        classes: vocab,
        text: true,
    };
    let mut x = Vec::new();
    let mut y = Vec::new();
    for s in 0..n {
        for t in 0..16 {
            x.push(((s * 5 + t) % vocab) as f32);
            y.push(((s * 5 + t + 1) % vocab) as u32);
        }
    }
    overfit(settings("char-gpt", "adamw", 3e-3), &input, 40, &x, &y, n);
}

/// sklearn's digits (1797 × 64 features 0..16, label last) from the committed fixture.
fn digits() -> Option<(Vec<f32>, Vec<u32>)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/digits.csv.gz");
    let file = std::fs::File::open(path).ok()?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .ok()?;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Vec<f32> = line
            .split(',')
            .map(|f| f.trim().parse::<f32>())
            .collect::<Result<_, _>>()
            .ok()?;
        if v.len() != 65 {
            return None;
        }
        x.extend(v[..64].iter().map(|p| p / 16.0));
        y.push(v[64] as u32);
    }
    Some((x, y))
}

#[test]
fn mlp_learns_the_digits_dataset() {
    let (all_x, all_y) = digits().expect("datasets/digits.csv.gz is committed and well formed");
    // Every 6th sample is held out (the file is ordered by writer, so this mixes writers).
    let (mut x, mut y, mut tx, mut ty) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, label) in all_y.iter().enumerate() {
        let (dx, dy) = if i % 6 == 5 {
            (&mut tx, &mut ty)
        } else {
            (&mut x, &mut y)
        };
        dx.extend_from_slice(&all_x[i * 64..(i + 1) * 64]);
        dy.push(*label);
    }
    let (train_n, test_n) = (y.len(), ty.len());
    let input = image(1, 8, 8, 10);
    let mut s = settings("mlp-small", "sgd", 0.05);
    s.weight_decay = 5e-4;
    s.schedule = Schedule::Cosine;
    s.epochs = 20;
    let bs = 32;
    s.steps_per_epoch = train_n.div_ceil(bs);
    let mut t = Trainer::new(&s, &input).unwrap();
    for _ in 0..s.epochs {
        for b in (0..train_n).step_by(bs) {
            let m = bs.min(train_n - b);
            t.train_step(&x[b * 64..(b + m) * 64], &y[b..b + m], m)
                .unwrap();
        }
    }
    let e = t.evaluate(&tx, &ty, test_n).unwrap();
    let acc = e.correct as f64 / e.count as f64;
    assert!(acc >= 0.95, "held-out accuracy {acc}");
    assert!(t.lr() < 1e-9, "cosine reaches 0 at the end of the run");
}

#[test]
fn same_seed_same_run_and_checkpoints_round_trip() {
    let input = image(3, 32, 32, 10);
    let (x, y) = random_batch(&input, 4, &mut Lcg(3));
    let mut a = Trainer::new(&settings("vit-tiny", "sgd-nesterov", 0.01), &input).unwrap();
    let mut b = Trainer::new(&settings("vit-tiny", "sgd-nesterov", 0.01), &input).unwrap();
    for _ in 0..2 {
        assert_eq!(
            a.train_step(&x, &y, 4).unwrap(),
            b.train_step(&x, &y, 4).unwrap()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vit.safetensors");
    a.save(&path).unwrap();
    let mut other = settings("vit-tiny", "sgd-nesterov", 0.01);
    other.seed = 99;
    let mut c = Trainer::new(&other, &input).unwrap();
    assert_ne!(
        c.evaluate(&x, &y, 4).unwrap(),
        a.evaluate(&x, &y, 4).unwrap()
    );
    c.load(&path).unwrap();
    assert_eq!(
        c.evaluate(&x, &y, 4).unwrap(),
        a.evaluate(&x, &y, 4).unwrap()
    );
    // A checkpoint of another model is refused with a message.
    let mut mlp = Trainer::new(&settings("mlp-small", "sgd", 0.01), &input).unwrap();
    assert!(matches!(
        mlp.load(&path),
        Err(ModelError::Checkpoint { .. })
    ));
}

/// Batch-norm running statistics travel with the checkpoint: a CNN trained a few steps, saved
/// and loaded into a fresh trainer (another seed) evaluates exactly as the original.
#[test]
fn cnn_checkpoint_keeps_batch_norm_statistics() {
    let input = image(3, 32, 32, 10);
    let (x, y) = random_batch(&input, 4, &mut Lcg(8));
    let mut a = Trainer::new(&settings("mobilenet", "sgd", 0.05), &input).unwrap();
    let fresh = a.evaluate(&x, &y, 4).unwrap();
    for _ in 0..3 {
        a.train_step(&x, &y, 4).unwrap();
    }
    let trained = a.evaluate(&x, &y, 4).unwrap();
    assert_ne!(trained, fresh, "training moved the weights and statistics");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mobilenet.safetensors");
    a.save(&path).unwrap();
    let mut other = settings("mobilenet", "sgd", 0.05);
    other.seed = 77;
    let mut c = Trainer::new(&other, &input).unwrap();
    c.load(&path).unwrap();
    assert_eq!(c.evaluate(&x, &y, 4).unwrap(), trained);
    // The checkpoint holds the statistics, but they are not parameters.
    assert_eq!(c.params(), 3_217_226);
}

/// A run continued from a full checkpoint (weights, momentum buffers, schedule position) takes
/// exactly the steps an uninterrupted run takes: what successive halving relies on to count the
/// energy of a promoted configuration once.
#[test]
fn training_continued_from_a_checkpoint_matches_training_straight_through() {
    let input = image(1, 8, 8, 10);
    let mut rng = Lcg(3);
    let batches: Vec<_> = (0..5).map(|_| random_batch(&input, 16, &mut rng)).collect();
    for optimizer in ["sgd", "adamw"] {
        let mut s = settings("mlp-small", optimizer, 0.01);
        s.schedule = Schedule::Cosine;
        s.epochs = 1;
        s.steps_per_epoch = 5;
        let mut straight = Trainer::new(&s, &input).unwrap();
        for (x, y) in &batches {
            straight.train_step(x, y, 16).unwrap();
        }
        let mut first = Trainer::new(&s, &input).unwrap();
        for (x, y) in &batches[..2] {
            first.train_step(x, y, 16).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rung.safetensors");
        first.save_checkpoint(&path).unwrap();
        let mut other = s.clone();
        other.seed = 99;
        let mut continued = Trainer::new(&other, &input).unwrap();
        continued.load_checkpoint(&path).unwrap();
        assert_eq!((continued.step_count(), continued.lr()), (2, first.lr()));
        for (x, y) in &batches[2..] {
            continued.train_step(x, y, 16).unwrap();
        }
        let (x, y) = &batches[0];
        assert_eq!(
            continued.evaluate(x, y, 16).unwrap(),
            straight.evaluate(x, y, 16).unwrap(),
            "{optimizer}"
        );
        // Without the optimizer state the continuation differs: the test can fail.
        let weights = dir.path().join("weights.safetensors");
        first.save(&weights).unwrap();
        let mut weights_only = Trainer::new(&other, &input).unwrap();
        weights_only.load(&weights).unwrap();
        weights_only.set_step(2);
        for (x, y) in &batches[2..] {
            weights_only.train_step(x, y, 16).unwrap();
        }
        assert_ne!(
            weights_only.evaluate(x, y, 16).unwrap(),
            straight.evaluate(x, y, 16).unwrap(),
            "{optimizer}: momentum/moments matter"
        );
    }
    let mut wrong = Trainer::new(&settings("mlp-medium", "sgd", 0.01), &input).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.safetensors");
    Trainer::new(&settings("mlp-small", "sgd", 0.01), &input)
        .unwrap()
        .save_checkpoint(&path)
        .unwrap();
    let e = wrong.load_checkpoint(&path).unwrap_err().to_string();
    assert!(
        e.contains("not a checkpoint of model `mlp-medium`") || e.contains("shape"),
        "{e}"
    );
}

/// A checkpoint that cannot be written or read is core's `IoError`, naming what was done and
/// the file; a file that is not safetensors stays a checkpoint error.
#[test]
fn checkpoint_io_errors_name_the_file() {
    let input = image(1, 8, 8, 10);
    let mut t = Trainer::new(&settings("mlp-small", "sgd", 0.01), &input).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let absent = dir.path().join("no-such-folder").join("rung.safetensors");
    for (e, what) in [
        (
            t.save_checkpoint(&absent).unwrap_err(),
            "writing checkpoint",
        ),
        (
            t.load_checkpoint(&absent).unwrap_err(),
            "reading checkpoint",
        ),
    ] {
        match &e {
            ModelError::Io(io) => {
                assert_eq!((io.what, io.path.as_path()), (what, absent.as_path()));
                assert_eq!(io.source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("{what}: expected an IoError, got {other:?}"),
        }
        assert!(
            e.to_string()
                .starts_with(&format!("{what} {}: ", absent.display())),
            "{e}"
        );
    }
    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"not safetensors").unwrap();
    assert!(matches!(
        t.load_checkpoint(&garbage),
        Err(ModelError::Checkpoint { .. })
    ));
    // What was written reads back.
    let path = dir.path().join("rung.safetensors");
    t.save_checkpoint(&path).unwrap();
    t.load_checkpoint(&path).unwrap();
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let input = image(1, 8, 8, 10);
    assert!(matches!(
        Trainer::new(&settings("nope", "sgd", 0.1), &input),
        Err(ModelError::UnknownModel { .. })
    ));
    // An unknown optimizer cannot reach a trainer: its name is refused where it is parsed.
    assert!("lbfgs".parse::<greenbench_core::Optimizer>().is_err());
    let mut momentum = settings("mlp-small", "sgd", 0.1);
    momentum.momentum = 1.5;
    assert!(matches!(
        Trainer::new(&momentum, &input),
        Err(ModelError::Setting { .. })
    ));
    assert!(matches!(
        Trainer::new(&settings("char-gpt", "sgd", 0.1), &input),
        Err(ModelError::InputMismatch { .. })
    ));
    let mut bad = settings("mlp-small", "sgd", 0.1);
    bad.device = DeviceName::Cuda(0);
    let err = Trainer::new(&bad, &input)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    if cfg!(not(feature = "cuda")) {
        assert!(err.contains("scripts/build-cuda.sh"), "{err}");
    }
    assert!(
        DeviceName::parse("tpu").is_err()
            && DeviceName::parse("cuda:x").is_err()
            && open_device(DeviceName::Cpu).is_ok()
    );
    let mut t = Trainer::new(&settings("mlp-small", "sgd", 0.1), &input).unwrap();
    assert!(matches!(
        t.train_step(&[0.0; 64], &[1], 2),
        Err(ModelError::Batch(_))
    ));
    assert!(matches!(
        t.train_step(&[0.0; 64], &[10], 1),
        Err(ModelError::Batch(_))
    ));
    assert!(matches!(t.evaluate(&[], &[], 0), Err(ModelError::Batch(_))));
    let text = InputSpec {
        sample_shape: vec![8],
        classes: 5,
        text: true,
    };
    let mut g = Trainer::new(&settings("char-gpt", "adamw", 0.1), &text).unwrap();
    assert!(matches!(
        g.train_step(&[7.0; 8], &[0; 8], 1),
        Err(ModelError::Batch(_))
    ));
    assert!(matches!(
        g.train_step(&[0.5; 8], &[0; 8], 1),
        Err(ModelError::Batch(_))
    ));
    assert!(g.train_step(&[1.0; 8], &[0; 8], 1).is_ok());
}

#[test]
fn the_learning_rate_warms_up_linearly_then_follows_the_schedule() {
    let input = image(1, 8, 8, 10);
    let mut s = settings("mlp-small", "sgd", 0.4);
    s.steps_per_epoch = 4;
    s.epochs = 3;
    s.warmup_epochs = 1.0;
    let mut t = Trainer::new(&s, &input).unwrap();
    let mut rates = Vec::new();
    for step in 0..6 {
        t.set_step(step);
        rates.push(t.lr());
    }
    let want = [0.1, 0.2, 0.3, 0.4, 0.4, 0.4];
    for (got, want) in rates.iter().zip(want) {
        assert!((got - want).abs() < 1e-12, "{rates:?}");
    }
    // Half an epoch of warm-up on 4 steps an epoch is 2 steps; none is the schedule alone.
    s.warmup_epochs = 0.5;
    let t = Trainer::new(&s, &input).unwrap();
    assert!((t.lr() - 0.2).abs() < 1e-12);
    s.warmup_epochs = 0.0;
    let t = Trainer::new(&s, &input).unwrap();
    assert!((t.lr() - 0.4).abs() < 1e-12);
}

/// Batch-norm recalibration ("precise BN") makes the running statistics those of the weights as
/// they are: recalibrated on one batch, the eval-mode loss on that batch equals the training-mode
/// loss (batch statistics) up to the unbiased-variance factor, while the initial running
/// statistics (mean 0, variance 1) give a different loss; the result does not depend on the
/// running averages before it (twice gives the same), and the weights do not move.
#[test]
fn recalibrated_batch_norm_statistics_are_those_of_the_current_weights() {
    let input = image(3, 32, 32, 10);
    let (x, y) = random_batch(&input, 8, &mut Lcg(21));
    let (x2, y2) = random_batch(&input, 8, &mut Lcg(22));
    let mut t = Trainer::new(&settings("mobilenet", "sgd", 0.01), &input).unwrap();
    let eval_loss = |t: &Trainer| {
        let e = t.evaluate(&x, &y, 8).unwrap();
        e.loss_sum / e.count as f64
    };
    let stale = eval_loss(&t);
    // Other statistics first, so the test would see a recalibration that only blends in.
    t.recalibrate_batch_norm(&[(&x2, &y2, 8)]).unwrap();
    t.recalibrate_batch_norm(&[(&x, &y, 8)]).unwrap();
    let once = eval_loss(&t);
    t.recalibrate_batch_norm(&[(&x, &y, 8)]).unwrap();
    let twice = eval_loss(&t);
    assert!(
        (once - twice).abs() <= 1e-4 * once.abs(),
        "{once} vs {twice}"
    );
    // The training step's loss is computed before its update, on batch statistics.
    let train = t.train_step(&x, &y, 8).unwrap().loss;
    assert!(
        (once - train).abs() <= 0.02 * train.abs(),
        "eval {once} vs train {train}"
    );
    assert!(
        (stale - train).abs() > 5.0 * (once - train).abs().max(1e-3),
        "the initial statistics should be much further off: eval {stale} (recalibrated {once}) \
         vs train {train}"
    );
}
