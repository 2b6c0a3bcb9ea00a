//! The committed results folders hold every run their config expands to: a change to the
//! expansion (its order of axes, a default, how a spec is built) that changed a run id would
//! orphan the committed records.

use greenbench_core::AcceptAll;
use greenbench_core::SweepConfig;
use std::collections::HashSet;
use std::path::Path;

#[test]
fn every_committed_results_folder_holds_the_runs_of_its_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut checked = 0;
    for name in [
        "paper-cpu",
        "paper-batch-cpu",
        "search-grid",
        "search-halving",
    ] {
        let cfg = SweepConfig::load(&root.join(format!("configs/{name}.toml"))).unwrap();
        cfg.validate(&AcceptAll).unwrap();
        let records =
            std::fs::read_to_string(root.join(format!("results/{name}/runs.jsonl"))).unwrap();
        let ids: HashSet<String> = records
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["run_id"].as_str().unwrap_or_default().to_string()
            })
            .collect();
        let runs = cfg.expand();
        assert!(!runs.is_empty(), "{name}: no runs");
        for spec in &runs {
            assert!(
                ids.contains(&spec.run_id()),
                "{name}: run {} ({spec:?}) is not in results/{name}/runs.jsonl",
                spec.run_id()
            );
        }
        checked += runs.len();
    }
    assert_eq!(checked, 48 + 165 + 16 + 16);
}
