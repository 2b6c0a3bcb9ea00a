//! A search's course read back from its records: its rungs and promotions, the configuration it
//! chose, the energy it spent against its budget, and what the full grid costs (predicted from
//! the search's first rung, or measured in another sweep folder).
//!
//! A configuration is a chain of runs: a first-rung run and the runs that continue it
//! (`spec.continues`), each recording only its own epochs. Energies here are raw training energy
//! (idle power not subtracted), as the search's decisions and its budget count them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use greenbench_core::configuration_train_j;
use greenbench_core::RunRecord;
use greenbench_core::{promote, Candidate};
use greenbench_core::{RunStatus, SearchConfig, Strategy, SweepConfig};

use crate::data::{self, Sweep};
use crate::AnalysisError;

/// One rung of a search: the runs that brought configurations to the same epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Rung {
    /// 0-based Hyperband bracket (0 for plain successive halving and other strategies).
    pub bracket: usize,
    /// 0-based rung within its bracket.
    pub rung: usize,
    /// Epochs the rung's configurations reach (counted from the first rung).
    pub epochs: usize,
    /// Runs of the rung (every status).
    pub runs: usize,
    /// Runs that ended `ok`.
    pub ok: usize,
    /// Runs that diverged.
    pub diverged: usize,
    /// Runs the budget refused.
    pub skipped: usize,
    /// Runs that crashed, failed or timed out.
    pub other: usize,
    /// Raw training energy of the rung's runs (their own epochs only), J.
    pub energy_j: f64,
    /// Runs of the rung that trained and have no energy figure (left out of `energy_j`).
    pub energy_missing: usize,
    /// Indices into [`SearchSummary::configurations`] of the rung's configurations that a run of
    /// the next rung continues (run or refused by the budget).
    pub promoted: Vec<usize>,
}

/// One configuration of the search and the chain of runs that trained it.
#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    /// Model, batch size and lr (`mlp-small b32 lr 0.05`).
    pub label: String,
    /// Run ids of the chain, first rung first.
    pub run_ids: Vec<String>,
    /// Deepest rung whose run ended ok with a validation accuracy (`None`: none did).
    pub rung: Option<usize>,
    /// Status of the chain's last record.
    pub status: RunStatus,
    /// Epochs trained over the whole chain.
    pub epochs: usize,
    /// Epochs trained up to and including the run at `rung`.
    pub judged_epochs: usize,
    /// Validation accuracy (0..1) after the run at `rung`.
    pub val_acc: Option<f64>,
    /// Test accuracy (0..1) of the run at `rung`, measured once at that run's end.
    pub test_acc: Option<f64>,
    /// Test images of that measurement.
    pub test_images: Option<u64>,
    /// Whether those images are the spec's `test_subset`.
    pub test_subset: bool,
    /// Raw training energy over the whole chain, J; `None` when a run of it has no figure.
    pub energy_j: Option<f64>,
    /// Raw training energy up to and including the run at `rung`, J (what the objective
    /// weighs, as when the search promoted).
    pub judged_energy_j: Option<f64>,
    /// After each epoch of the chain: (cumulative raw training energy J, validation accuracy).
    pub curve: Vec<(f64, f64)>,
    /// Raw training energy per epoch of its first-rung run, J.
    pub first_rung_j_per_epoch: Option<f64>,
}

/// What a sweep's records spent, counted as its budget counts it (core's one definition).
pub use greenbench_core::Spent;

/// The full grid's training energy predicted from the search's first rung: each configuration's
/// first-rung energy per epoch × `max_epochs`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridPrediction {
    /// Predicted raw training energy, J.
    pub energy_j: f64,
    /// Configurations predicted.
    pub configurations: usize,
    /// Configurations without a first-rung energy figure (left out).
    pub left_out: usize,
    /// Epochs each configuration of the grid would train.
    pub max_epochs: usize,
}

/// What a search's records say; see the module doc.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchSummary {
    /// The `[search]` table of the sweep's config.
    pub config: SearchConfig,
    /// Rungs, first first.
    pub rungs: Vec<Rung>,
    /// Configurations, in the order of their first-rung records.
    pub configurations: Vec<Configuration>,
    /// The chosen configuration (index into `configurations`).
    pub chosen: Option<usize>,
    /// The rung it was chosen among (the deepest with an ok run that has a validation accuracy).
    pub chosen_rung: Option<usize>,
    /// Hyperband brackets the records hold (1 for plain successive halving and other strategies).
    pub brackets: usize,
    /// What every record spent.
    pub spent: Spent,
    /// The full grid's training energy, predicted.
    pub grid_prediction: Option<GridPrediction>,
    /// Runs the budget refused: (run id, configuration label, reason).
    pub skipped: Vec<(String, String, String)>,
    /// Samples of the validation split, when recorded.
    pub validation_samples: Option<u64>,
}

/// Why the config kept in a sweep's `manifest.json` cannot be read for its `[search]` table.
#[derive(Debug, thiserror::Error)]
#[error("the config kept in {} does not parse: {source}", manifest.display())]
pub struct SearchConfigError {
    /// The manifest.json holding the config.
    pub manifest: PathBuf,
    /// What the config parser said (file, line and field); boxed, as it is large.
    #[source]
    pub source: Box<greenbench_core::CoreError>,
}

/// The `[search]` table of a sweep's manifest config, or why it cannot be read; `Ok(None)` when
/// there is no manifest or no config in it (nothing says it was a search).
pub fn search_config(sweep: &Sweep) -> Result<Option<SearchConfig>, SearchConfigError> {
    let Some(text) = sweep.manifest.as_ref().and_then(|m| m.config_text()) else {
        return Ok(None);
    };
    let manifest = sweep.dir.join("manifest.json");
    match SweepConfig::parse(text, &manifest) {
        Ok(c) => Ok(Some(c.search)),
        Err(source) => Err(SearchConfigError {
            manifest,
            source: Box::new(source),
        }),
    }
}

/// Whether a report has a Search section: a strategy other than grid, or a budget.
pub fn is_search(cfg: &SearchConfig) -> bool {
    cfg.strategy != Strategy::Grid || cfg.budget.is_set()
}

/// The label of a run's configuration.
pub fn label(r: &RunRecord) -> String {
    format!(
        "{} b{} lr {}",
        r.spec.model,
        r.spec.batch_size,
        greenbench_core::compact_number(r.spec.lr)
    )
}

/// Raw training energy of a record, J.
fn train_j(r: &RunRecord) -> Option<f64> {
    r.train.as_ref()?.energy.total_j.filter(|j| j.is_finite())
}

/// Chains of runs: for each first-rung record (in file order), its record indices, first first.
fn chains(records: &[RunRecord]) -> Vec<Vec<usize>> {
    let by_id: HashMap<&str, usize> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.run_id.as_str(), i))
        .collect();
    let mut next: HashMap<usize, usize> = HashMap::new();
    let mut roots = Vec::new();
    for (i, r) in records.iter().enumerate() {
        match r.spec.continues.as_ref() {
            Some(c) => match by_id.get(c.run_id.as_str()) {
                Some(&p) => {
                    next.insert(p, i);
                }
                // The run it continues has no record: a chain of its own.
                None => roots.push(i),
            },
            None => roots.push(i),
        }
    }
    roots
        .into_iter()
        .map(|root| {
            let mut chain = vec![root];
            while let Some(&n) = chain.last().and_then(|l| next.get(l)) {
                if chain.contains(&n) {
                    break;
                }
                chain.push(n);
            }
            chain
        })
        .collect()
}

/// Whether a record ended ok with a validation accuracy (it can be chosen or promoted).
fn judged(r: &RunRecord) -> bool {
    r.status == RunStatus::Ok && r.train.as_ref().and_then(|t| t.val_acc).is_some()
}

/// (cumulative raw training energy J, validation accuracy) after each epoch of `runs`, and the
/// epochs they trained; the curve stops at the first epoch without an energy figure.
fn curve(runs: &[&RunRecord]) -> (Vec<(f64, f64)>, usize) {
    let mut points = Vec::new();
    let mut cumulative = Some(0.0);
    let mut epochs = 0;
    for t in runs.iter().filter_map(|r| r.train.as_ref()) {
        for e in &t.epochs {
            epochs += 1;
            cumulative = cumulative.zip(e.energy_j).map(|(a, b)| a + b);
            if let (Some(x), Some(y)) = (cumulative, e.val_acc) {
                points.push((x, y));
            }
        }
    }
    (points, epochs)
}

/// A configuration from its chain of record indices. Its accuracies are those of the deepest
/// run that ended ok (a later run may have diverged or been refused by the budget).
fn configuration(records: &[RunRecord], chain: &[usize]) -> Configuration {
    let runs: Vec<&RunRecord> = chain.iter().map(|&i| &records[i]).collect();
    let judged_at = runs.iter().rposition(|r| judged(r));
    let at = judged_at.map(|k| runs[k]);
    let first = runs[0];
    let first_epochs = first.train.as_ref().map_or(0, |t| t.epochs.len());
    let (points, epochs) = curve(&runs);
    Configuration {
        label: label(first),
        run_ids: runs.iter().map(|r| r.run_id.clone()).collect(),
        rung: judged_at,
        status: runs[runs.len() - 1].status,
        epochs,
        judged_epochs: judged_at.map_or(0, |k| curve(&runs[..=k]).1),
        val_acc: at.and_then(|r| r.train.as_ref()?.val_acc),
        test_acc: at.and_then(data::accuracy),
        test_images: at.and_then(data::test_images),
        test_subset: at.is_some_and(|r| r.spec.test_subset.is_some()),
        energy_j: configuration_train_j(&runs),
        judged_energy_j: judged_at.and_then(|k| configuration_train_j(&runs[..=k])),
        curve: points,
        first_rung_j_per_epoch: train_j(first)
            .filter(|_| first_epochs > 0)
            .map(|j| j / first_epochs as f64),
    }
}

/// Rung `rung` of `bracket`'s summary over its `members` (index into the configurations, chain).
fn rung_summary(
    records: &[RunRecord],
    members: &[(usize, &Vec<usize>)],
    (bracket, rung): (usize, usize),
    epochs: usize,
) -> Rung {
    let mut r = Rung {
        bracket,
        rung,
        epochs,
        runs: 0,
        ok: 0,
        diverged: 0,
        skipped: 0,
        other: 0,
        energy_j: 0.0,
        energy_missing: 0,
        promoted: Vec::new(),
    };
    for &(ci, chain) in members {
        let Some(&i) = chain.get(rung) else { continue };
        let rec = &records[i];
        r.runs += 1;
        match rec.status {
            RunStatus::Ok => r.ok += 1,
            RunStatus::Diverged => r.diverged += 1,
            RunStatus::Skipped => r.skipped += 1,
            _ => r.other += 1,
        }
        match train_j(rec) {
            Some(j) => r.energy_j += j,
            None if rec.train.is_some() || rec.status == RunStatus::Ok => r.energy_missing += 1,
            None => {}
        }
        if chain.len() > rung + 1 {
            r.promoted.push(ci);
        }
    }
    r
}

/// The configuration the search chose: best by the objective on validation accuracy among the
/// deepest rung that has an ok run with one, energy counted over each configuration's chain
/// (the same rule halving promotes by). Returns (configuration, rung).
fn choose(cfg: &SearchConfig, configs: &[Configuration]) -> Option<(usize, usize)> {
    // Deepest by epochs, so the finalists of every Hyperband bracket compete.
    let deepest = configs
        .iter()
        .filter(|c| c.rung.is_some())
        .map(|c| c.judged_epochs)
        .max()?;
    let (idx, cands): (Vec<usize>, Vec<Candidate>) = configs
        .iter()
        .enumerate()
        .filter(|(_, c)| c.rung.is_some() && c.judged_epochs == deepest)
        .filter_map(|(i, c)| {
            let cand = Candidate {
                run_id: c.run_ids.last()?.clone(),
                val_acc: c.val_acc?,
                energy_j: c.judged_energy_j,
            };
            Some((i, cand))
        })
        .unzip();
    let best = *promote(&cands, 1, cfg.objective).first()?;
    Some((idx[best], configs[idx[best]].rung?))
}

/// The full grid's training energy predicted from first-rung energy per epoch × `max_epochs`
/// (halving only).
fn predict_grid(cfg: &SearchConfig, configs: &[Configuration]) -> Option<GridPrediction> {
    let max_epochs = cfg
        .max_epochs
        .filter(|_| cfg.strategy == Strategy::Halving)?;
    let per_epoch: Vec<f64> = configs
        .iter()
        .filter_map(|c| c.first_rung_j_per_epoch)
        .collect();
    (!per_epoch.is_empty()).then(|| GridPrediction {
        energy_j: per_epoch.iter().sum::<f64>() * max_epochs as f64,
        configurations: per_epoch.len(),
        left_out: configs.len() - per_epoch.len(),
        max_epochs,
    })
}

/// Reads a search's course from its records (`cfg` from [`search_config`]).
pub fn summarize(cfg: &SearchConfig, records: &[RunRecord]) -> SearchSummary {
    let chains = chains(records);
    let configurations: Vec<Configuration> =
        chains.iter().map(|c| configuration(records, c)).collect();
    let rung_epochs = cfg.rung_epochs();
    // A chain's bracket: the rung its first run starts at (halving), else 0.
    let bracket_of = |chain: &Vec<usize>| {
        let start = records[chain[0]].spec.epochs;
        rung_epochs
            .iter()
            .position(|&e| e == start)
            .filter(|_| cfg.strategy == Strategy::Halving)
            .unwrap_or(0)
    };
    let mut brackets: Vec<usize> = chains.iter().map(bracket_of).collect();
    brackets.sort_unstable();
    brackets.dedup();
    let mut rungs = Vec::new();
    for &b in &brackets {
        let members: Vec<(usize, &Vec<usize>)> = chains
            .iter()
            .enumerate()
            .filter(|(_, c)| bracket_of(c) == b)
            .collect();
        let depth = members.iter().map(|(_, c)| c.len()).max().unwrap_or(0);
        for r in 0..depth {
            let epochs = rung_epochs.get(b + r).copied().unwrap_or_else(|| {
                members
                    .iter()
                    .find_map(|(_, c)| Some(records[*c.get(r)?].spec.epochs))
                    .unwrap_or(0)
            });
            rungs.push(rung_summary(records, &members, (b, r), epochs));
        }
    }
    let chosen = choose(cfg, &configurations);
    let skipped = records
        .iter()
        .filter(|r| r.status == RunStatus::Skipped)
        .map(|r| {
            let why = r
                .error
                .clone()
                .unwrap_or_else(|| "no reason recorded".into());
            (r.run_id.clone(), label(r), why)
        })
        .collect();
    let validation_samples = records
        .iter()
        .filter_map(|r| r.train.as_ref()?.validation_samples)
        .max();
    SearchSummary {
        config: cfg.clone(),
        grid_prediction: predict_grid(cfg, &configurations),
        rungs,
        configurations,
        chosen: chosen.map(|c| c.0),
        chosen_rung: chosen.map(|c| c.1),
        brackets: brackets.len().max(1),
        spent: Spent::of(records),
        skipped,
        validation_samples,
    }
}

/// A full grid of the same configurations, measured in another sweep folder.
#[derive(Debug, Clone, PartialEq)]
pub struct GridComparison {
    /// The grid's folder.
    pub dir: std::path::PathBuf,
    /// What the grid's records spent.
    pub spent: Spent,
    /// Its ok runs.
    pub runs_ok: usize,
    /// Its runs in all.
    pub runs: usize,
    /// Its best configuration by validation accuracy after the last epoch: (label, accuracy).
    pub best_val: Option<(String, f64)>,
}

impl GridComparison {
    /// Reads the sweep folder `dir`.
    pub fn load(dir: &Path) -> Result<GridComparison, AnalysisError> {
        let sweep = Sweep::load(dir)?;
        let ok = sweep.ok_runs();
        let best_val = ok
            .iter()
            .filter_map(|r| Some((label(r), r.train.as_ref()?.val_acc?)))
            .filter(|(_, a)| a.is_finite())
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
        Ok(GridComparison {
            dir: dir.to_path_buf(),
            spent: Spent::of(&sweep.records),
            runs_ok: ok.len(),
            runs: sweep.records.len(),
            best_val,
        })
    }
}

/// The verdict's tolerance: a choice within this many percentage points of the grid's best
/// validation accuracy is as good as the grid's.
pub const WITHIN_PP: f64 = 0.5;

/// Percentage of `grid_j` a search spending `search_j` saved (negative when it spent more).
pub fn saving_pct(search_j: f64, grid_j: f64) -> Option<f64> {
    (grid_j > 0.0).then(|| (1.0 - search_j / grid_j) * 100.0)
}

/// Whether `chosen` validation accuracy is within [`WITHIN_PP`] points of `best` (both 0..1).
pub fn within(chosen: f64, best: f64) -> bool {
    (best - chosen) * 100.0 <= WITHIN_PP + 1e-9
}

#[cfg(test)]
mod report_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_that_does_not_parse_is_a_typed_error_naming_the_manifest() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/search-digits");
        let mut sweep = Sweep::load(&dir).unwrap();
        sweep.manifest = Some(greenbench_core::Manifest {
            config: "name = [".into(),
            ..Default::default()
        });
        let e: SearchConfigError = search_config(&sweep).unwrap_err();
        let manifest = dir.join("manifest.json");
        assert_eq!(e.manifest, manifest);
        assert_eq!(
            e.to_string(),
            format!(
                "the config kept in {} does not parse: {}",
                manifest.display(),
                e.source
            )
        );
        sweep.manifest = None;
        assert!(search_config(&sweep).unwrap().is_none());
    }

    #[test]
    fn saving_and_verdict() {
        assert_eq!(saving_pct(25.0, 100.0), Some(75.0));
        assert_eq!(saving_pct(1.0, 0.0), None);
        assert!(within(0.953, 0.957));
        assert!(within(0.96, 0.95));
        assert!(!within(0.95, 0.956));
    }
}
