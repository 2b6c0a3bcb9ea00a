//! Checks that need the whole grid: no two runs share a run id, and every `[[exclude]]` table
//! removes some runs but the tables leave at least one.

use greenbench_core::AcceptAll;
use greenbench_core::SweepConfig;
use std::path::Path;

const BASE: &str = "name = \"t\"
dataset = \"digits\"
batch_size = 8
model = [\"mlp-small\", \"mlp-medium\"]
";

fn errors(text: &str) -> String {
    match SweepConfig::parse(text, Path::new("t.toml")).and_then(|c| c.validate(&AcceptAll)) {
        Ok(()) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn runs(text: &str) -> usize {
    let c = SweepConfig::parse(text, Path::new("t.toml")).unwrap();
    c.validate(&AcceptAll).unwrap();
    c.expand().len()
}

#[test]
fn a_value_repeated_in_an_axis_is_refused_where_it_is_written() {
    let e = errors(&format!("{BASE}lr = [0.05, 0.05]\n"));
    assert!(e.contains("t.toml:5:6: field `lr`"), "{e}");
    assert!(e.contains("0.05 is given twice"), "{e}");
    assert!(
        e.contains("repeats"),
        "the hint names the way to repeat a run: {e}"
    );
    // The same number written two ways is the same value.
    let e = errors(&format!("{BASE}lr = [0.05, 5e-2]\n"));
    assert!(e.contains("0.05 is given twice"), "{e}");
    let e = errors(&BASE.replace("\"mlp-medium\"", "\"mlp-small\""));
    assert!(e.contains("t.toml:4:9: field `model`"), "{e}");
    assert!(e.contains("mlp-small is given twice"), "{e}");
    let e = errors(&format!("{BASE}[grid]\nseed = [3, 1, 3]\n"));
    assert!(e.contains("field `grid.seed`: 3 is given twice"), "{e}");
    assert_eq!(runs(&format!("{BASE}lr = [0.05, 0.5]\n")), 4);
}

#[test]
fn two_values_that_give_the_same_runs_are_refused() {
    // The default validation fraction is 0.1, so both entries are the same dataset.
    let text = BASE.replace(
        "dataset = \"digits\"",
        "dataset = [\"digits\", { name = \"digits\", validation = 0.1 }]",
    );
    let e = errors(&text);
    assert!(e.contains("t.toml:2:11: field `dataset`"), "{e}");
    assert!(e.contains("give the same runs"), "{e}");
    assert!(e.contains("run id"), "{e}");
    let other = text.replace("validation = 0.1", "validation = 0.2");
    assert_eq!(runs(&other), 4);
}

#[test]
fn an_exclude_that_matches_no_run_is_refused_naming_its_entry() {
    let e = errors(&format!(
        "{BASE}\n[[exclude]]\nmodel = \"mlp-small\"\n\n[[exclude]]\nmodel = \"mlp-medum\"\n"
    ));
    assert!(e.contains("t.toml:9:1: field `exclude`"), "{e}");
    assert!(e.contains("matches no run"), "{e}");
    assert!(e.contains("model = \"mlp-medum\""), "{e}");
    assert!(
        e.contains("mlp-small, mlp-medium"),
        "the grid's values are listed: {e}"
    );
    // Each key matches some run, but no run has both.
    let e = errors(&format!(
        "{BASE}lr = [0.1, 0.2]\n[[exclude]]\nmodel = \"mlp-small\"\nbatch_size = 16\n"
    ));
    assert!(e.contains("t.toml:6:1: field `exclude`"), "{e}");
    assert!(e.contains("batch_size = 16"), "{e}");
    // An axis that is not set (no power limits) matches no run either.
    let e = errors(&format!("{BASE}[[exclude]]\npower_limit_w = 100\n"));
    assert!(e.contains("matches no run"), "{e}");
    assert_eq!(
        runs(&format!("{BASE}[[exclude]]\nmodel = \"mlp-small\"\n")),
        1
    );
}

#[test]
fn excludes_that_remove_every_run_are_refused_naming_the_entries() {
    let e = errors(&format!("{BASE}\n[[exclude]]\ndataset = \"digits\"\n"));
    assert!(e.contains("t.toml:6:1: field `exclude`"), "{e}");
    assert!(e.contains("removes every run"), "{e}");
    let e = errors(&format!(
        "{BASE}[[exclude]]\nmodel = \"mlp-small\"\n[[exclude]]\nmodel = \"mlp-medium\"\n"
    ));
    assert!(e.contains("t.toml:5:1: field `exclude`"), "{e}");
    assert!(
        e.contains("the [[exclude]] tables at lines 5, 7 remove all 2 runs"),
        "{e}"
    );
}
