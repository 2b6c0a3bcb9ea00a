//! Shared helpers of the integration tests.
#![allow(dead_code)]

use greenbench_core::{DeviceName, Schedule};
use greenbench_models::{InputSpec, TrainSettings};

/// Deterministic pseudo-random numbers in [0, 1).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn uniform(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 40) as f32) / (1u64 << 24) as f32
    }
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f32) as usize).min(n - 1)
    }
}

pub fn settings(model: &str, optimizer: &str, lr: f64) -> TrainSettings {
    TrainSettings {
        model: model.into(),
        batch_size: 16,
        lr,
        optimizer: optimizer
            .parse()
            .unwrap_or_else(|e| panic!("test settings: {e}")),
        momentum: 0.9,
        weight_decay: 0.0,
        schedule: Schedule::Constant,
        epochs: 1,
        steps_per_epoch: 1000,
        warmup_epochs: 0.0,
        seed: 1,
        device: DeviceName::Cpu,
    }
}

pub fn image(c: usize, h: usize, w: usize, classes: usize) -> InputSpec {
    InputSpec {
        sample_shape: vec![c, h, w],
        classes,
        text: false,
    }
}

/// `n` random inputs for `spec` and matching random targets.
pub fn random_batch(spec: &InputSpec, n: usize, rng: &mut Lcg) -> (Vec<f32>, Vec<u32>) {
    let len = spec.sample_shape.iter().product::<usize>() * n;
    let x = if spec.text {
        (0..len).map(|_| rng.below(spec.classes) as f32).collect()
    } else {
        (0..len).map(|_| rng.uniform() * 2.0 - 1.0).collect()
    };
    let t = if spec.text { len } else { n };
    let y = (0..t).map(|_| rng.below(spec.classes) as u32).collect();
    (x, y)
}
