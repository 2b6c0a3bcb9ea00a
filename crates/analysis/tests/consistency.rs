//! report.md on the committed quick sweep (2 models × 2 batch sizes) must not contradict itself:
//! the estimator's table, its cross-validation sentence and the figures agree with the data.

mod common;

use common::copy;

use std::path::Path;

use greenbench_analysis::{write_report, ReportOptions};

fn report(dir: &Path) -> (greenbench_analysis::ReportSummary, String) {
    let s = write_report(dir, &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(&s.report).unwrap();
    (s, md)
}

#[test]
fn collinear_terms_are_not_called_constant() {
    let dir = copy("quick");
    let (_, md) = report(dir.path());
    // The quick sweep's MLPs differ in params and MACs, which move in step (MACs = params for an
    // MLP), so ln MACs/sample is collinear, not constant; epochs and samples are constant.
    let row = |term: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {term} |")))
            .unwrap_or_else(|| panic!("no row {term} in\n{md}"))
            .to_string()
    };
    assert!(
        row("ln MACs/sample").contains("collinear with ln params"),
        "{}",
        row("ln MACs/sample")
    );
    assert!(
        row("ln epochs").contains("not varied"),
        "{}",
        row("ln epochs")
    );
    assert!(!row("ln params").contains("dropped"));
}

#[test]
fn cross_validation_sentence_matches_the_model_count() {
    let dir = copy("quick");
    let (s, md) = report(dir.path());
    assert!(md.contains("of 2 models"), "{md}");
    assert!(!md.contains("one model only"), "{md}");
    assert!(!md.contains("the sweep has one model"), "{md}");
    assert!(!md.contains("0 points"), "{md}");
    // With 2 models each fold fits on one model's two runs, where model size does not vary: the
    // ridge fit still predicts the other model (energy proportional to epochs × samples, batch
    // size if chosen), and the report gives that nested cross-validation's error.
    assert!(
        md.contains("Leave-one-model-out cross-validation (2 folds), nested"),
        "{md}"
    );
    assert!(
        !md.contains("no leave-one-model-out fold could be fitted"),
        "{md}"
    );
    let pred = s
        .figures
        .iter()
        .find(|f| f.name == "predicted_vs_measured")
        .unwrap();
    assert!(pred.skipped.is_none(), "{:?}", pred.skipped);
}

#[test]
fn epoch_figure_names_the_test_set_and_batch_size_and_has_integer_epochs() {
    let dir = copy("quick");
    let (s, _) = report(dir.path());
    let svg = std::fs::read_to_string(dir.path().join("figures/epochs.svg")).unwrap();
    assert!(
        !svg.contains("Validation accuracy"),
        "epochs.svg says validation"
    );
    assert!(svg.contains("Test accuracy (batch 64)"), "{svg}");
    assert!(svg.contains("Training loss (batch 64)"));
    // Every tick label on the epoch axes is a whole number: labels are the text elements just
    // above the "epoch" axis description; the quick sweep ran 3 epochs.
    let ticks: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| t.split_once('>').map(|(_, rest)| rest))
        .filter_map(|t| t.split('<').next())
        .map(str::trim)
        .filter(|t| t.contains('.') && t.parse::<f64>().is_ok())
        .collect();
    assert!(
        !ticks.iter().any(|t| ["1.5", "2.5", "0.5"].contains(t)),
        "fractional epoch ticks: {ticks:?}"
    );
    assert!(s
        .figures
        .iter()
        .any(|f| f.name == "epochs" && f.skipped.is_none()));
}
