//! `bn_recalibration_samples`: every run of the config re-estimates its batch-norm statistics
//! over that many training samples after each epoch; absent or 0 changes nothing (not even run
//! ids); a negative count is refused where it is written.

use greenbench_core::{AcceptAll, SweepConfig};
use std::path::Path;

const BASE: &str = "name = \"t\"
dataset = \"digits\"
model = \"mlp-small\"
batch_size = [32, 128]
lr = 0.1
";

fn config(text: &str) -> SweepConfig {
    let c = SweepConfig::parse(text, Path::new("t.toml")).unwrap();
    c.validate(&AcceptAll).unwrap();
    c
}

#[test]
fn every_run_carries_the_count_and_without_it_nothing_changes() {
    let c = config(&format!("{BASE}bn_recalibration_samples = 512\n"));
    assert!(c
        .expand()
        .iter()
        .all(|s| s.bn_recalibration_samples == Some(512)));
    let plain = config(BASE);
    let zero = config(&format!("{BASE}bn_recalibration_samples = 0\n"));
    let ids = |c: &SweepConfig| -> Vec<String> { c.expand().iter().map(|s| s.run_id()).collect() };
    assert!(plain
        .expand()
        .iter()
        .all(|s| s.bn_recalibration_samples.is_none()));
    assert_eq!(ids(&zero), ids(&plain));
    assert_ne!(ids(&c), ids(&plain), "a recalibrated run is another run");
}

#[test]
fn a_negative_count_is_refused_where_it_is_written() {
    let text = format!("{BASE}bn_recalibration_samples = -5\n");
    let e =
        match SweepConfig::parse(&text, Path::new("t.toml")).and_then(|c| c.validate(&AcceptAll)) {
            Ok(()) => panic!("expected an error"),
            Err(e) => e.to_string(),
        };
    assert!(
        e.contains("t.toml:6:28: field `bn_recalibration_samples`") && e.contains("found -5"),
        "{e}"
    );
}
