use super::*;
use candle_core::Device;

fn run(kind: Kind, wd: f64, lr: f64, steps: usize, generic: bool) -> Vec<f32> {
    let dev = Device::Cpu;
    let p = Var::from_vec(vec![1.0f32, 1.0], 2, &dev).unwrap();
    let g = Tensor::from_vec(vec![0.5f32, 0.5], 2, &dev).unwrap();
    let mut o = Optimizer::new(kind, wd, vec![p.clone()]).unwrap();
    if generic {
        o = o.with_generic_updates();
    }
    for _ in 0..steps {
        let mut gs = GradStore::default();
        gs.insert(p.as_tensor(), g.clone());
        o.step(&gs, lr).unwrap();
    }
    p.as_tensor().to_vec1::<f32>().unwrap()
}

fn check(kind: Kind, steps: usize, want: f32) {
    for generic in [false, true] {
        let got = run(kind, 0.1, 0.1, steps, generic);
        for v in got {
            assert!(
                (v - want).abs() < 1e-6,
                "{kind:?} generic={generic}: {v} vs {want}"
            );
        }
    }
}

#[test]
fn sgd_matches_hand_computed_pytorch_steps() {
    // p=1, g=0.5, lr=0.1, wd=0.1: d=0.6 → p=0.94.
    check(
        Kind::Sgd {
            momentum: 0.0,
            nesterov: false,
        },
        1,
        0.94,
    );
    // μ=0.9: step 2 d=0.594, buf=0.9·0.6+0.594=1.134, p=0.94−0.1134.
    check(
        Kind::Sgd {
            momentum: 0.9,
            nesterov: false,
        },
        1,
        0.94,
    );
    check(
        Kind::Sgd {
            momentum: 0.9,
            nesterov: false,
        },
        2,
        0.8266,
    );
    // Nesterov: step 1 p=1−0.1·(0.6+0.54)=0.886; step 2 d=0.5886, buf=1.1286, p=0.886−0.160434.
    check(
        Kind::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
        1,
        0.886,
    );
    check(
        Kind::Sgd {
            momentum: 0.9,
            nesterov: true,
        },
        2,
        0.725566,
    );
}

#[test]
fn adamw_one_step_matches_hand_computed() {
    // m̂ = 0.5, v̂ = 0.25: p = 1·(1 − 0.01) − 0.1·0.5/0.5 = 0.89.
    check(Kind::AdamW, 1, 0.89);
}

#[test]
fn in_place_and_tensor_paths_agree_on_random_values() {
    let dev = Device::Cpu;
    // Two full parallel blocks of the in-place kernels (16384 elements each) and a partial one.
    let n = 2 * 16384 + 37;
    for kind in [
        Kind::Sgd {
            momentum: 0.9,
            nesterov: false,
        },
        Kind::Sgd {
            momentum: 0.8,
            nesterov: true,
        },
        Kind::AdamW,
    ] {
        let mut out = Vec::new();
        for generic in [false, true] {
            let init: Vec<f32> = (0..n)
                .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
                .collect();
            let p = Var::from_vec(init, (n,), &dev).unwrap();
            let mut o = Optimizer::new(kind, 5e-4, vec![p.clone()]).unwrap();
            if generic {
                o = o.with_generic_updates();
            }
            for s in 0..3 {
                let g: Vec<f32> = (0..n)
                    .map(|i| (((i + s) * 31) % 17) as f32 / 8.0 - 1.0)
                    .collect();
                let mut gs = GradStore::default();
                gs.insert(p.as_tensor(), Tensor::from_vec(g, n, &dev).unwrap());
                o.step(&gs, 0.05).unwrap();
            }
            out.push(p.as_tensor().to_vec1::<f32>().unwrap());
        }
        for (a, b) in out[0].iter().zip(&out[1]) {
            assert!((a - b).abs() < 1e-5, "{kind:?}: {a} vs {b}");
        }
    }
}

#[test]
fn bad_settings_are_errors() {
    // Unknown optimizer names are refused when the config is read (greenbench_core::choices);
    // every name it accepts maps to an update rule.
    use greenbench_core::{Choice, Optimizer as Name};
    let kinds: Vec<Kind> = Name::ALL.iter().map(|&o| Kind::new(o, 0.9)).collect();
    assert_eq!(
        kinds,
        [
            Kind::Sgd {
                momentum: 0.9,
                nesterov: false
            },
            Kind::Sgd {
                momentum: 0.9,
                nesterov: true
            },
            Kind::AdamW
        ]
    );
    assert!(Optimizer::new(
        Kind::Sgd {
            momentum: 1.5,
            nesterov: false
        },
        0.0,
        vec![]
    )
    .is_err());
    assert!(Optimizer::new(
        Kind::Sgd {
            momentum: 0.0,
            nesterov: true
        },
        0.0,
        vec![]
    )
    .is_err());
    assert!(Optimizer::new(Kind::AdamW, -1.0, vec![]).is_err());
}
