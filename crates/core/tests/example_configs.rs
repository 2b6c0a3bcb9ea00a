//! The side-by-side example configs: `configs/pytorch-example.toml` (the PyTorch script as an
//! external workload) and `configs/candle-example.toml` (greenbench's own models) must stay valid
//! and describe the same runs, and the PyTorch one may only name networks the script can build.

use greenbench_core::AcceptAll;
use greenbench_core::{RunSpec, SweepConfig};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The runs of a committed config, validated as the sweep would.
fn runs(name: &str) -> Vec<RunSpec> {
    let cfg = SweepConfig::load(&root().join(format!("configs/{name}.toml")))
        .unwrap_or_else(|e| panic!("configs/{name}.toml: {e}"));
    cfg.validate(&AcceptAll)
        .unwrap_or_else(|e| panic!("configs/{name}.toml: {e}"));
    cfg.expand()
}

/// What a side-by-side compares a run on: everything but who trains it.
fn setting(s: &RunSpec) -> String {
    format!(
        "{} {} {:?} {:?} {:?} {} {} {:?} {} {} {:?} {} {:?} {} {}",
        s.model,
        s.dataset,
        s.subset,
        s.test_subset,
        s.validation.unwrap_or(0.1),
        s.batch_size,
        s.lr,
        s.optimizer,
        s.momentum,
        s.weight_decay,
        s.schedule,
        s.epochs,
        s.device,
        s.threads,
        s.repeat,
    )
}

#[test]
fn pytorch_and_candle_examples_run_the_same_settings() {
    let torch = runs("pytorch-example");
    let candle = runs("candle-example");
    assert!(torch.iter().all(|s| s.workload.is_some()));
    assert!(candle.iter().all(|s| s.workload.is_none()));
    let a: BTreeSet<String> = torch.iter().map(setting).collect();
    let b: BTreeSet<String> = candle.iter().map(setting).collect();
    assert_eq!(a.len(), torch.len());
    assert_eq!(a, b);
}

#[test]
fn pytorch_example_names_only_networks_the_script_builds() {
    let zoo = std::fs::read_to_string(root().join("scripts/bench/pytorch_zoo.py"))
        .unwrap_or_else(|e| panic!("scripts/bench/pytorch_zoo.py: {e}"));
    for s in runs("pytorch-example") {
        assert!(
            zoo.contains(&format!("    \"{}\": (", s.model)),
            "configs/pytorch-example.toml: model `{}` is not a key of MODELS in scripts/bench/pytorch_zoo.py",
            s.model
        );
    }
}
