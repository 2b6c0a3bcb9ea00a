//! Every optimizer and schedule a config may name (core's closed sets) trains inside a worker:
//! a name the config accepts must never fail there. (The models match on the same enums, so a
//! name they offer is reachable from a config by construction.)

use greenbench_core::{Choice, DeviceName, Optimizer, Schedule};
use greenbench_models::{InputSpec, TrainSettings, Trainer};

#[test]
fn every_optimizer_and_schedule_a_config_accepts_trains() {
    let input = InputSpec {
        sample_shape: vec![1, 4, 4],
        classes: 3,
        text: false,
    };
    let x: Vec<f32> = (0..4 * 16).map(|i| (i % 7) as f32 / 7.0).collect();
    let y = [0u32, 1, 2, 1];
    for &optimizer in Optimizer::ALL {
        for &schedule in Schedule::ALL {
            let s = TrainSettings {
                model: "mlp-8".into(),
                batch_size: 4,
                lr: 0.1,
                optimizer,
                momentum: 0.9,
                weight_decay: 5e-4,
                schedule,
                epochs: 2,
                steps_per_epoch: 2,
                warmup_epochs: 0.0,
                seed: 0,
                device: DeviceName::Cpu,
            };
            let mut t =
                Trainer::new(&s, &input).unwrap_or_else(|e| panic!("{optimizer} {schedule}: {e}"));
            for _ in 0..4 {
                let stats = t
                    .train_step(&x, &y, 4)
                    .unwrap_or_else(|e| panic!("{optimizer} {schedule}: {e}"));
                assert!(stats.loss.is_finite(), "{optimizer} {schedule}");
            }
            assert_eq!(t.step_count(), 4);
        }
    }
}
