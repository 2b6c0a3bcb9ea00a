//! `predict` (the entry point of `greenbench predict`) on synthetic sweeps and a committed one.

mod common;

use common::{sweep, Shape};
use greenbench_analysis::{predict, EnergyBasis, PredictionMethod as Method};

#[test]
fn measured_configuration_is_extrapolated_from_its_epochs() {
    let records = sweep(&Shape::default());
    let r = records
        .iter()
        .find(|r| r.spec.model == "model-02" && r.spec.batch_size == 64)
        .unwrap();
    let m = r.model.clone().unwrap();
    let p = predict(&records, m.params, m.macs_per_sample, 64, 100, 0).unwrap();
    assert_eq!(p.basis.method, Method::Profile);
    assert_eq!(p.basis.energy, EnergyBasis::Net);
    assert_eq!(p.basis.runs, 2);
    let per_epoch = r.train.as_ref().unwrap().net_energy.total_j.unwrap() / 4.0;
    assert!(
        (p.energy_j / (per_epoch * 100.0) - 1.0).abs() < 0.05,
        "{p:?}"
    );
    assert!(
        p.interval.energy_j[0] <= p.energy_j && p.energy_j <= p.interval.energy_j[1],
        "{p:?}"
    );
    assert!((p.energy_wh - p.energy_j / 3600.0).abs() < 1e-9);

    let json: serde_json::Value = serde_json::to_value(&p).unwrap();
    for k in ["energy_j", "duration_s", "interval"] {
        assert!(json.get(k).is_some(), "{json}");
    }
    assert!(
        json["interval"]["energy_j"].as_array().unwrap().len() == 2,
        "{json}"
    );
    assert_eq!(json["basis"]["method"], "profile");
}

#[test]
fn unseen_model_uses_the_estimator_with_a_cv_interval() {
    let records = sweep(&Shape::default());
    // A model between model-02 and model-03 in size, at a batch size and epoch count not run.
    let params = 20_000 * 12;
    let macs = params * 17;
    let p = predict(&records, params, macs, 32, 50, 0).unwrap();
    assert_eq!(p.basis.method, Method::Estimator);
    assert!(
        p.energy_j.is_finite() && p.energy_j > 0.0 && p.duration_s > 0.0,
        "{p:?}"
    );
    let [lo, hi] = p.interval.energy_j;
    assert!(lo <= p.energy_j && p.energy_j <= hi, "{p:?}");
    assert!(
        p.interval.source.contains("leave-one-model-out"),
        "{}",
        p.interval.source
    );
    assert!(
        p.basis.description.contains("ln epochs"),
        "epochs not varied, so proportional: {}",
        p.basis.description
    );
    // Synthetic physics: time ∝ MACs × samples × (1 + 32/batch) → energy of 50 epochs at batch 32.
    let per_sample_s = macs as f64 * 2e-9 * 2.0;
    let expect = per_sample_s * 2000.0 * 50.0 * (25.0 - 5.0 + 3.0);
    assert!(
        (p.energy_j / expect - 1.0).abs() < 0.3,
        "{} vs {expect}",
        p.energy_j
    );
}

#[test]
fn predict_errors_say_why() {
    let err = predict(&[], 1, 1, 1, 1, 0).unwrap_err().to_string();
    assert!(err.contains("no ok runs"), "{err}");
    let records = sweep(&Shape {
        models: 1,
        ..Shape::default()
    });
    let err = predict(&records, 0, 1, 1, 1, 0).unwrap_err().to_string();
    assert!(err.contains("positive"), "{err}");
    // One model at a batch size it was not run with: the estimator works but says its band is
    // in-sample. (An unseen model is refused: see the test below.)
    let m = records[0].model.clone().unwrap();
    let p = predict(&records, m.params, m.macs_per_sample, 32, 10, 0).unwrap();
    assert!(
        p.interval.source.contains("in-sample"),
        "{}",
        p.interval.source
    );
}

#[test]
fn a_model_outside_a_single_model_sweep_is_refused_not_given_the_same_answer() {
    let records = sweep(&Shape {
        models: 1,
        ..Shape::default()
    });
    let m = records[0].model.clone().unwrap();
    // The model of the sweep at another batch size: answerable.
    assert!(predict(&records, m.params, m.macs_per_sample, 32, 10, 0).is_ok());
    // Any other model: the sweep cannot say how energy grows with size.
    for scale in [2, 100] {
        let e = predict(
            &records,
            m.params * scale,
            m.macs_per_sample * scale,
            64,
            10,
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("do not vary model size"), "{e}");
    }
}

/// The committed quick sweep has two MLPs: leave-one-model-out cross-validation keeps no size
/// term, so an unseen model (mlp-large) would get the same answer as any other — refused, while
/// a model of the sweep at another batch size is still answered.
#[test]
fn a_model_outside_a_sweep_whose_cross_validation_chose_no_size_term_is_refused() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/quick/runs.jsonl");
    let records = greenbench_core::read_records(&path).unwrap();
    let small = records
        .iter()
        .find(|r| r.spec.model == "mlp-small")
        .and_then(|r| r.model.clone())
        .unwrap();
    assert!(predict(&records, small.params, small.macs_per_sample, 128, 10, 0).is_ok());
    let e = predict(&records, 2_383_370, 2_380_800, 128, 10, 0)
        .unwrap_err()
        .to_string();
    assert!(e.contains("chose no model-size term"), "{e}");
}
