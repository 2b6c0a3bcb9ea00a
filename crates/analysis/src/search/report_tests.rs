//! The report's Search section and figure on real digits sweeps committed under `tests/data/`:
//! `search-digits` (a halving search, eta 3, 1 → 3 → 9 epochs, 12 configurations),
//! `search-digits-budget` (the same search with an energy budget that refused two runs) and
//! `grid-digits` (the same 12 configurations run as a full grid, 9 epochs each).
//!
//! Expected figures are derived here from the records by other means than the crate uses (rungs
//! by epochs, chains by following `continues` by hand).

use crate::test_common::{copy, data};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::numbers::sig;
use crate::search::{search_config, summarize, SearchSummary};
use crate::{write_report, ReportOptions, Sweep};
use greenbench_core::RunRecord;
use greenbench_core::RunStatus;

fn summary(dir: &Path) -> (Sweep, SearchSummary) {
    let sweep = Sweep::load(dir).unwrap();
    let cfg = search_config(&sweep)
        .unwrap()
        .expect("a config in the manifest");
    let s = summarize(&cfg, &sweep.records);
    (sweep, s)
}

fn report(dir: &Path, grid: Option<PathBuf>) -> String {
    let s = write_report(
        dir,
        &ReportOptions {
            figures: false,
            compare_grid: grid,
            ..Default::default()
        },
    )
    .unwrap();
    std::fs::read_to_string(s.report).unwrap()
}

fn section(md: &str) -> &str {
    let start = md.find("## Search").expect("a Search section");
    let end = md[start..].find("\n## Correlations").unwrap() + start;
    &md[start..end]
}

fn train_j(r: &RunRecord) -> f64 {
    r.train.as_ref().unwrap().energy.total_j.unwrap()
}

/// Energy as the section prints it: J below 0.1 Wh.
fn energy(j: f64) -> String {
    format!("{} J", sig(j, 3))
}

/// Raw training energy of `r` and every run it continues, following `continues` by hand.
fn chain_j(r: &RunRecord, by_id: &HashMap<&str, &RunRecord>) -> f64 {
    let mut total = train_j(r);
    let mut at = r;
    while let Some(c) = &at.spec.continues {
        at = by_id[c.run_id.as_str()];
        total += train_j(at);
    }
    total
}

#[test]
fn rungs_promotions_and_energy_sums_follow_the_records() {
    let (sweep, s) = summary(&data("search-digits"));
    let recs = &sweep.records;
    assert_eq!(s.rungs.len(), 3);
    for (rung, epochs) in [1, 3, 9].into_iter().enumerate() {
        let of_rung: Vec<&RunRecord> = recs.iter().filter(|r| r.spec.epochs == epochs).collect();
        let r = &s.rungs[rung];
        assert_eq!(
            (r.epochs, r.runs, r.ok),
            (epochs, of_rung.len(), of_rung.len())
        );
        let sum: f64 = of_rung.iter().map(|r| train_j(r)).sum();
        assert!(
            (r.energy_j - sum).abs() < 1e-12,
            "rung {rung}: {} vs {sum}",
            r.energy_j
        );
        // Promoted: the rung's runs that a run of the next rung continues.
        let continued: Vec<&str> = recs
            .iter()
            .filter_map(|x| x.spec.continues.as_ref().map(|c| c.run_id.as_str()))
            .collect();
        let mut want: Vec<String> = of_rung
            .iter()
            .filter(|x| continued.contains(&x.run_id.as_str()))
            .map(|x| x.run_id.clone())
            .collect();
        let mut got: Vec<String> = r
            .promoted
            .iter()
            .map(|&i| s.configurations[i].run_ids[rung].clone())
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "rung {rung}");
    }
    assert_eq!(
        s.rungs.iter().map(|r| r.runs).collect::<Vec<_>>(),
        [12, 4, 1]
    );
    assert_eq!(s.configurations.len(), 12);
}

#[test]
fn the_choice_is_the_best_validation_accuracy_of_the_last_rung_with_its_chain_energy() {
    let dir = copy("search-digits");
    let (sweep, s) = summary(dir.path());
    let by_id: HashMap<&str, &RunRecord> = sweep
        .records
        .iter()
        .map(|r| (r.run_id.as_str(), r))
        .collect();
    let best = sweep
        .records
        .iter()
        .filter(|r| r.spec.epochs == 9 && r.status == RunStatus::Ok)
        .max_by(|a, b| {
            let v = |r: &RunRecord| r.train.as_ref().unwrap().val_acc.unwrap();
            v(a).total_cmp(&v(b))
        })
        .unwrap();
    let chosen = &s.configurations[s.chosen.unwrap()];
    assert_eq!(s.chosen_rung, Some(2));
    assert_eq!(chosen.run_ids.last().unwrap(), &best.run_id);
    let want_j = chain_j(best, &by_id);
    assert!((chosen.judged_energy_j.unwrap() - want_j).abs() < 1e-12);
    assert!(want_j > train_j(best), "the chain has earlier rungs");

    let md = report(dir.path(), None);
    let sec = section(&md);
    let val = best.train.as_ref().unwrap().val_acc.unwrap() * 100.0;
    let test = best.inference.as_ref().unwrap().accuracy * 100.0;
    for want in [
        format!("**Chosen configuration: {} b32 lr 0.05**", best.spec.model),
        "on validation accuracy among the last rung (rung 2)".to_string(),
        format!("validation accuracy {val:.2} % after 9 epochs"),
        format!("test accuracy {test:.2} % (359 images)"),
        format!("training energy {} over its 3 rung(s)", energy(want_j)),
        "validation accuracy (144 held-out training samples)".to_string(),
        "| 0 | 1 | 12 | 12 | 0 | 0 | 0 |".to_string(),
        "No budget was set.".to_string(),
    ] {
        assert!(sec.contains(&want), "missing `{want}` in\n{sec}");
    }
    // Choices and the front are on validation accuracy; the header says where each comes from.
    assert!(md.contains("use validation accuracy (144 held-out training samples)"));
    assert!(md.contains("higher validation accuracy, on the split held out of training"));
}

#[test]
fn without_a_grid_the_full_grid_is_predicted_from_the_first_rung() {
    let dir = copy("search-digits");
    let (sweep, _) = summary(dir.path());
    let predicted: f64 = sweep
        .records
        .iter()
        .filter(|r| r.spec.continues.is_none())
        .map(|r| train_j(r) / r.train.as_ref().unwrap().epochs.len() as f64 * 9.0)
        .sum();
    let sec_md = report(dir.path(), None);
    let sec = section(&sec_md);
    let want = format!(
        "Full grid, **predicted** (not measured): {} of training energy for 12 configurations × 9 epochs",
        energy(predicted)
    );
    assert!(sec.contains(&want), "missing `{want}` in\n{sec}");
}

#[test]
fn a_budget_shows_each_limit_spent_and_left_and_lists_the_refused_runs() {
    let dir = copy("search-digits-budget");
    let (sweep, s) = summary(dir.path());
    let recs = &sweep.records;
    let skipped: Vec<&RunRecord> = recs
        .iter()
        .filter(|r| r.status == RunStatus::Skipped)
        .collect();
    assert_eq!(skipped.len(), 2);
    assert_eq!(s.skipped.len(), 2);
    assert!(skipped
        .iter()
        .all(|r| r.error.as_deref().unwrap().starts_with("budget: ")));
    // Spent = training + inference of every record, as the budget counts it.
    let spent: f64 = recs
        .iter()
        .filter_map(|r| {
            let t = r.train.as_ref()?.energy.total_j?;
            Some(
                t + r
                    .inference
                    .as_ref()
                    .and_then(|i| i.energy.total_j)
                    .unwrap_or(0.0),
            )
        })
        .sum();
    assert!((s.spent.total_j() - spent).abs() < 1e-12);
    // The last rung was refused: the choice is the best of rung 1 (3 epochs) that ended ok.
    assert_eq!(s.chosen_rung, Some(1));
    let best = recs
        .iter()
        .filter(|r| r.spec.epochs == 3 && r.status == RunStatus::Ok)
        .max_by(|a, b| {
            let v = |r: &RunRecord| r.train.as_ref().unwrap().val_acc.unwrap();
            v(a).total_cmp(&v(b))
        })
        .unwrap();
    let chosen = &s.configurations[s.chosen.unwrap()];
    assert_eq!(chosen.run_ids[1], best.run_id);

    let md = report(dir.path(), None);
    let sec = section(&md);
    let limit = 8e-8;
    let used = spent / 3.6e6;
    for want in [
        format!(
            "| energy (kWh) | {} | {} | 0 (over by {}) |",
            sig(limit, 3),
            sig(used, 3),
            sig(used - limit, 3)
        ),
        "among rung 1, the deepest with an ok run (the last rung, 2, has none)".into(),
        "2 run(s) refused by the budget (status `skipped`):".into(),
        format!("- `{}` ", skipped[0].run_id),
        skipped[1].error.as_deref().unwrap().to_string(),
        "| 2 | 9 | 1 | 0 | 0 | 1 | 0 | 0 J |".into(),
    ] {
        assert!(sec.contains(&want), "missing `{want}` in\n{sec}");
    }
}

#[test]
fn compare_grid_reports_measured_energy_saving_and_the_half_point_verdict() {
    let dir = copy("search-digits");
    let grid = Sweep::load(&data("grid-digits")).unwrap();
    let (sweep, s) = summary(dir.path());
    let train = |rs: &[RunRecord]| rs.iter().map(train_j).sum::<f64>();
    let saving = (1.0 - train(&sweep.records) / train(&grid.records)) * 100.0;
    let grid_best = grid
        .records
        .iter()
        .map(|r| r.train.as_ref().unwrap().val_acc.unwrap())
        .fold(0.0, f64::max);
    let chosen = s.configurations[s.chosen.unwrap()].val_acc.unwrap();
    let md = report(dir.path(), Some(data("grid-digits")));
    let sec = section(&md);
    assert!(sec.contains("Full grid, **measured**"), "{sec}");
    let row = format!(
        "| training | {} | {} | {saving:.1} % |",
        energy(train(&sweep.records)),
        energy(train(&grid.records))
    );
    assert!(sec.contains(&row), "missing `{row}` in\n{sec}");
    // In these records the search's choice is 0.69 points below the grid's best.
    assert!((grid_best - chosen) * 100.0 > 0.5);
    assert!(sec.contains(&format!(
        "The grid's best validation accuracy: {:.2} %",
        grid_best * 100.0
    )));
    assert!(
        sec.contains("**NOT within 0.5 percentage points**"),
        "{sec}"
    );

    // A grid whose best is within half a point of the choice gets "within".
    let near = tempfile::tempdir().unwrap();
    std::fs::copy(
        data("grid-digits/manifest.json"),
        near.path().join("manifest.json"),
    )
    .unwrap();
    let lines: Vec<String> = grid
        .records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let t = r.train.as_mut().unwrap();
            t.val_acc = t.val_acc.map(|v| v.min(chosen + 0.004));
            serde_json::to_string(&r).unwrap()
        })
        .collect();
    std::fs::write(near.path().join("runs.jsonl"), lines.join("\n") + "\n").unwrap();
    let md = report(dir.path(), Some(near.path().to_path_buf()));
    assert!(
        section(&md).contains("**within 0.5 percentage points**"),
        "{md}"
    );
}

#[test]
fn a_grid_sweep_has_no_search_section_and_skips_the_figure() {
    let dir = copy("grid-digits");
    let s = write_report(dir.path(), &ReportOptions::default()).unwrap();
    let md = std::fs::read_to_string(&s.report).unwrap();
    assert!(!md.contains("## Search"));
    let fig = s.figures.iter().find(|f| f.name == "search").unwrap();
    assert!(fig.skipped.as_deref().unwrap().contains("not a search"));
}

#[test]
fn a_halving_search_draws_the_figure_with_the_chosen_configuration_labelled() {
    let dir = copy("search-digits");
    let s = write_report(dir.path(), &ReportOptions::default()).unwrap();
    let fig = s.figures.iter().find(|f| f.name == "search").unwrap();
    assert_eq!(fig.skipped, None);
    let svg = std::fs::read_to_string(dir.path().join("figures/search.svg")).unwrap();
    assert!(
        svg.contains("black: the chosen mlp-32 b32 lr 0.05"),
        "title"
    );
    assert!(
        svg.contains("mlp-small b32 lr0.05 +"),
        "a promoted configuration"
    );
    assert!(svg.contains("cumulative training energy of the configuration, raw [J]"));
}

#[test]
fn older_records_without_a_validation_split_fall_back_to_test_accuracy_and_say_so() {
    let dir = copy("quick");
    let md = report(dir.path(), None);
    assert!(!md.contains("## Search"));
    assert!(
        md.contains("these records predate the validation split"),
        "{md}"
    );
    assert!(md.contains("higher test accuracy: these records have no held-out validation split"));
}
