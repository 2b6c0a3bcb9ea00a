//! A halving search's rungs as functions of the config and the records: the brackets and the
//! runs a search plans, which runs of a rung are promoted (decided once, from the records), the
//! training energy spent on a configuration across its rungs, and the checkpoints a decision
//! leaves unused.

use std::collections::HashMap;

use greenbench_core::{configuration_train_j, rungs_up_to};
use greenbench_core::{keep_count, next_rung, promote, unranked, Candidate};
use greenbench_core::{RunRecord, RunStatus};
use greenbench_core::{RunSpec, Strategy, SweepConfig};

use crate::folder::CHECKPOINTS;
use crate::progress::say;

/// Deletes the checkpoints of `stage`'s runs that `next` does not continue: no later rung can
/// use them (a ResNet's is 45 MB). Those of the last rung stay, as the search's trained models.
pub(crate) fn prune_checkpoints(out: &std::path::Path, stage: &[RunSpec], next: &[RunSpec]) {
    let kept: Vec<&str> = next
        .iter()
        .filter_map(|s| s.continues.as_ref().map(|c| c.run_id.as_str()))
        .collect();
    for spec in stage {
        let id = spec.run_id();
        if !kept.contains(&id.as_str()) {
            let path = out.join(CHECKPOINTS).join(format!("{id}.safetensors"));
            if let Err(e) = std::fs::remove_file(&path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    say(&format!(
                        "could not delete the unused checkpoint {}: {e}",
                        path.display()
                    ));
                }
            }
        }
    }
}

/// The first-stage runs of each bracket, in bracket order: for a halving search the runs that
/// start at each rung's epochs (bracket 0 at `min_epochs`), otherwise all runs as one group.
pub fn brackets(cfg: &SweepConfig, first_stage: Vec<RunSpec>) -> Vec<Vec<RunSpec>> {
    if cfg.search.strategy != Strategy::Halving {
        return vec![first_stage];
    }
    let rungs = cfg.search.rung_epochs();
    rungs
        .iter()
        .take(cfg.search.bracket_count())
        .map(|&e| {
            first_stage
                .iter()
                .filter(|s| s.epochs == e)
                .cloned()
                .collect::<Vec<_>>()
        })
        .filter(|b| !b.is_empty())
        .collect()
}

/// Runs a search plans: every run of the first stage, and for a halving search each later
/// rung's share of every bracket (the best `1/eta` of the rung before, at least one); other
/// strategies have no rungs past the first.
pub fn planned_runs(cfg: &SweepConfig, first_stage: &[RunSpec]) -> usize {
    let rungs = cfg.search.rung_epochs();
    brackets(cfg, first_stage.to_vec())
        .iter()
        .map(|b| {
            let start = b.first().map_or(0, |s| s.epochs);
            let later = rungs.iter().filter(|&&e| e > start).count();
            let (mut n, mut total) = (b.len(), b.len());
            for _ in 0..later {
                n = keep_count(n, cfg.search.eta);
                total += n;
            }
            total
        })
        .sum()
}

/// The runs of the rung after `prev`'s in a halving search: the best of `prev` by the objective
/// on validation accuracy, each continued from its checkpoint to the next rung's epochs. `None`
/// when `prev` is the last rung, or while a run of it has no record (the sweep was stopped), so
/// nothing is decided on part of a rung. See [`rung_decision`].
pub fn next_rung_runs(
    cfg: &SweepConfig,
    prev: &[RunSpec],
    records: &HashMap<String, RunRecord>,
) -> Option<Vec<RunSpec>> {
    rung_decision(cfg, prev, records).map(|d| d.next)
}

/// A halving search's decision on one rung, and what a user should be told about it.
#[derive(Debug, Clone, PartialEq)]
pub struct RungDecision {
    /// The promoted runs, continued to the next rung's epochs.
    pub next: Vec<RunSpec>,
    /// Runs of the rung that ended ok but that an energy-weighing objective could not rank,
    /// because their training energy has no figure: (run id, what the search did).
    pub unranked: Vec<String>,
    /// Runs of the rung recorded after the decision was taken and acted on (retried with
    /// `--retry-failed`): they keep their place in the rung but do not change the decision.
    pub after_decision: Vec<String>,
}

/// Decides the rung after `prev`'s (see [`next_rung_runs`]). A decision is taken once: when runs
/// of the next rung are already recorded, it is taken again from the records as they stood when
/// the first of those runs started, so a run retried afterwards (`--retry-failed`) takes its
/// place in its rung without promoting a second set of runs over the first.
pub fn rung_decision(
    cfg: &SweepConfig,
    prev: &[RunSpec],
    records: &HashMap<String, RunRecord>,
) -> Option<RungDecision> {
    // Other strategies have no rungs, so there is no next one.
    let current = prev.first()?.epochs;
    let epochs = cfg
        .search
        .rung_epochs()
        .into_iter()
        .find(|&e| e > current)?;
    let ids: Vec<String> = prev.iter().map(RunSpec::run_id).collect();
    let taken_at = decided_at(&ids, records);
    let mut cands = Vec::new();
    let mut specs = Vec::new();
    let mut after_decision = Vec::new();
    for (spec, id) in prev.iter().zip(&ids) {
        let rec = records.get(id)?;
        let val = rec.train.as_ref().and_then(|t| t.val_acc);
        let (RunStatus::Ok, Some(val_acc)) = (rec.status, val) else {
            continue;
        };
        if taken_at.is_some_and(|t| finished_at(rec).is_some_and(|f| f > t)) {
            after_decision.push(id.clone());
            continue;
        }
        cands.push(Candidate {
            run_id: id.clone(),
            val_acc,
            energy_j: configuration_energy_j(rec, records),
        });
        specs.push(spec);
    }
    let keep = keep_count(prev.len(), cfg.search.eta);
    let chosen = promote(&cands, keep, cfg.search.objective);
    let unranked = unranked(&cands, cfg.search.objective)
        .into_iter()
        .map(|i| cands[i].run_id.clone())
        .collect();
    Some(RungDecision {
        next: chosen
            .into_iter()
            .map(|i| next_rung(specs[i], &cands[i].run_id, epochs))
            .collect(),
        unranked,
        after_decision,
    })
}

/// When the rung of `ids` was decided: the start of the first recorded run that continues one
/// of them (`None` while none is recorded).
fn decided_at(
    ids: &[String],
    records: &HashMap<String, RunRecord>,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    records
        .values()
        .filter(|r| {
            r.spec
                .continues
                .as_ref()
                .is_some_and(|c| ids.contains(&c.run_id))
        })
        .filter_map(|r| chrono::DateTime::parse_from_rfc3339(&r.started_at).ok())
        .min()
}

fn finished_at(rec: &RunRecord) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(&rec.finished_at).ok()
}

/// Training energy spent on a configuration up to and including `rec`: its own and that of the
/// runs it continues (core's [`configuration_train_j`]), joules; `None` when one of them has no
/// record or no figure.
pub fn configuration_energy_j(
    rec: &RunRecord,
    records: &HashMap<String, RunRecord>,
) -> Option<f64> {
    configuration_train_j(&rungs_up_to(rec, |id| records.get(id))?)
}
