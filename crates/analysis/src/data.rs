//! Loading a sweep folder and reading the figures analysis needs out of records.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use greenbench_core::{one_per_run_id, read_records, EpochRecord, RunRecord};
use greenbench_core::{ComponentEnergy, CoreError, Manifest, Quality, RunStatus};
use serde::Serialize;

use crate::carbon::CarbonSettings;
use crate::AnalysisError;

/// Which energy figure the statistics use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnergyBasis {
    /// Net of idle power (`E_raw − P_idle × t`), the paper's definition; used when every run has it.
    Net,
    /// Raw energy, used when some run lacks a net figure or has one that cannot be true.
    Raw,
}

impl EnergyBasis {
    /// Net when every run has a net training total that can be true (not below zero, not
    /// flagged), else raw.
    pub fn choose(runs: &[&RunRecord]) -> EnergyBasis {
        Self::choose_explained(runs).0
    }

    /// [`EnergyBasis::choose`] with the reason, in a sentence for the report.
    pub fn choose_explained(runs: &[&RunRecord]) -> (EnergyBasis, String) {
        let net = |r: &RunRecord| r.train.as_ref().and_then(|t| t.net_energy.total_j);
        if runs.is_empty() {
            return (EnergyBasis::Raw, "Raw: there are no ok runs.".into());
        }
        let without = runs.iter().filter(|r| net(r).is_none()).count();
        if without > 0 {
            return (
                EnergyBasis::Raw,
                format!("Raw (idle power not subtracted) because {without} ok run(s) have no net figure."),
            );
        }
        let impossible: Vec<&str> = runs
            .iter()
            .filter(|r| r.is_flagged("train.net_energy") || net(r).is_some_and(|j| j < 0.0))
            .map(|r| r.run_id.as_str())
            .collect();
        if !impossible.is_empty() {
            let estimated_idle = runs.iter().any(|r| {
                impossible.contains(&r.run_id.as_str())
                    && r.train.as_ref().is_some_and(|t| {
                        t.energy.quality == Some(Quality::Estimated) && !t.energy.is_model_net()
                    })
            });
            let why = if estimated_idle {
                "the idle baseline subtracted from those estimates was itself an estimate of the \
                 orchestrating greenbench process while it waited (its CPU time and memory), not the \
                 machine's idle power, and exceeded them. A sweep of this greenbench gives estimates \
                 net figures of their own (the model's dynamic part)"
            } else {
                "the idle baseline drew more power than those runs, so it was measured under other \
                 load. Measure the baseline on a quiet machine to get net figures"
            };
            return (
                EnergyBasis::Raw,
                format!(
                    "**Warning: raw energy (idle power not subtracted) because the net figure of {} ok run(s) \
                     is below zero** ({}): {why}.",
                    impossible.len(),
                    impossible.join(", ")
                ),
            );
        }
        let model_net = runs
            .iter()
            .filter(|r| r.train.as_ref().is_some_and(|t| t.energy.is_model_net()))
            .count();
        let text = if model_net == runs.len() {
            "Net = the estimate's dynamic part: its power above its own model's zero-load power, \
             × duration (an estimate has no idle measurement to subtract); every ok run has it."
        } else if model_net > 0 {
            "Net = raw − baseline × duration: the measured idle power for measured components, the \
             model's own zero-load power for estimated ones (an estimate has no idle measurement); \
             every ok run has it."
        } else {
            "Net = raw − idle power × duration (the paper's ∫P − ∫P_idle); every ok run has it."
        };
        (EnergyBasis::Net, text.into())
    }

    /// `net` or `raw`.
    pub fn name(self) -> &'static str {
        match self {
            EnergyBasis::Net => "net",
            EnergyBasis::Raw => "raw",
        }
    }

    /// The energy object of this basis for the training phase.
    pub fn train(self, r: &RunRecord) -> Option<&ComponentEnergy> {
        r.train.as_ref().map(|t| match self {
            EnergyBasis::Net => &t.net_energy,
            EnergyBasis::Raw => &t.energy,
        })
    }

    /// The energy object of this basis for the inference phase.
    pub fn inference(self, r: &RunRecord) -> Option<&ComponentEnergy> {
        r.inference.as_ref().map(|t| match self {
            EnergyBasis::Net => &t.net_energy,
            EnergyBasis::Raw => &t.energy,
        })
    }

    /// Total training energy in joules.
    pub fn train_j(self, r: &RunRecord) -> Option<f64> {
        self.train(r)
            .and_then(|e| e.total_j)
            .filter(|v| v.is_finite())
    }

    /// Total inference energy in joules.
    pub fn inference_j(self, r: &RunRecord) -> Option<f64> {
        self.inference(r)
            .and_then(|e| e.total_j)
            .filter(|v| v.is_finite())
    }

    /// Energy of one epoch in joules.
    pub fn epoch_j(self, e: &EpochRecord) -> Option<f64> {
        match self {
            EnergyBasis::Net => e.net_energy_j,
            EnergyBasis::Raw => e.energy_j,
        }
        .filter(|v| v.is_finite())
    }
}

/// A sweep folder: its records, carbon settings and paths.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The folder.
    pub dir: PathBuf,
    /// Every record of `runs.jsonl`, in file order.
    pub records: Vec<RunRecord>,
    /// `manifest.json`, if present.
    pub manifest: Option<Manifest>,
    /// Carbon intensity and PUE.
    pub carbon: CarbonSettings,
    /// Records dropped because another record of the same run id was kept (an `ok` one wins,
    /// else the last): a folder written by two concurrent sweeps of an older greenbench.
    pub duplicates_dropped: usize,
    /// Runs of the sweep (or shard) that the manifest expects and no record holds; `None`
    /// without a manifest.
    pub missing_runs: Option<usize>,
}

impl Sweep {
    /// Reads `dir/runs.jsonl` and, if present, `dir/manifest.json`.
    pub fn load(dir: &Path) -> Result<Sweep, AnalysisError> {
        let runs = dir.join("runs.jsonl");
        if !runs.is_file() {
            return Err(AnalysisError::NoRecords {
                dir: dir.to_path_buf(),
            });
        }
        let (records, duplicates_dropped) = one_per_run_id(read_records(&runs)?);
        let mpath = dir.join("manifest.json");
        let manifest = match Manifest::read(&mpath) {
            Ok(m) => m,
            Err(CoreError::Manifest { message, .. }) => {
                return Err(AnalysisError::Manifest {
                    path: mpath.clone(),
                    message: format!("not a greenbench manifest: {message}"),
                })
            }
            Err(e) => return Err(e.into()),
        };
        let mut carbon = match &manifest {
            Some(m) => {
                CarbonSettings::from_manifest(m, dir).map_err(|e| AnalysisError::Manifest {
                    path: mpath.clone(),
                    message: e.to_string(),
                })?
            }
            None => {
                CarbonSettings::default_with_source("default: no manifest.json in the sweep folder")
            }
        };
        let missing_runs = manifest
            .as_ref()
            .and_then(Manifest::expected_runs)
            .map(|n| n.saturating_sub(records.len()));
        carbon
            .resolve_runs(&records)
            .map_err(|e| AnalysisError::Manifest {
                path: mpath.clone(),
                message: e.to_string(),
            })?;
        Ok(Sweep {
            dir: dir.to_path_buf(),
            records,
            manifest,
            carbon,
            duplicates_dropped,
            missing_runs,
        })
    }

    /// Runs with status `ok` and a training record: the only ones that enter statistics.
    pub fn ok_runs(&self) -> Vec<&RunRecord> {
        ok_runs(&self.records)
    }
}

/// Runs with status `ok`, a training record and energy that can be true: the only ones that
/// enter statistics.
pub fn ok_runs(records: &[RunRecord]) -> Vec<&RunRecord> {
    records
        .iter()
        .filter(|r| left_out_because(r).is_none())
        .collect()
}

/// The field of the in-memory flag `report --exclude-flagged` gives a run measured beside other
/// work ([`crate::flagged::exclude_flagged`]), which [`left_out_because`] leaves out.
pub const EXCLUDED_AS_FLAGGED: &str = "excluded";

/// Why a record does not enter the statistics (`None` when it does): it did not end ok (its
/// error), has no training record, its energy is flagged as impossible (the flag's reason), or
/// `--exclude-flagged` left it out.
pub fn left_out_because(r: &RunRecord) -> Option<String> {
    if r.status != RunStatus::Ok || r.train.is_none() {
        let why = r.error.as_deref().unwrap_or(if r.train.is_none() {
            "no training record"
        } else {
            ""
        });
        return Some(why.to_string());
    }
    r.flags
        .iter()
        .find(|f| {
            f.field == "train.energy"
                || f.field == "inference.energy"
                || f.field == EXCLUDED_AS_FLAGGED
        })
        .map(|f| format!("{}: {}", f.field, f.reason))
}

/// A label for the quality of a set of energy figures: `measured`, `estimated`, `missing`, or
/// `mixed (3 measured, 2 estimated)`.
pub fn quality_label(qualities: impl IntoIterator<Item = Option<Quality>>) -> String {
    let mut counts: BTreeMap<Quality, usize> = BTreeMap::new();
    for q in qualities {
        *counts.entry(q.unwrap_or(Quality::Missing)).or_default() += 1;
    }
    match counts.len() {
        0 => "no data".into(),
        1 => counts
            .keys()
            .next()
            .map(|q| q.to_string())
            .unwrap_or_default(),
        _ => format!(
            "mixed ({})",
            counts
                .iter()
                .map(|(q, n)| format!("{n} {q}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Parameters of a run's model, if known.
pub fn params(r: &RunRecord) -> Option<f64> {
    r.model
        .as_ref()
        .map(|m| m.params as f64)
        .filter(|v| *v > 0.0)
}

/// MACs per sample of a run's model, if known.
pub fn macs(r: &RunRecord) -> Option<f64> {
    r.model
        .as_ref()
        .map(|m| m.macs_per_sample as f64)
        .filter(|v| *v > 0.0)
}

/// MACs per parameter of a run's model, if known.
pub fn macs_per_param(r: &RunRecord) -> Option<f64> {
    r.model
        .as_ref()
        .map(|m| m.macs_per_param)
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// Test accuracy (0..1) of a run, if it reached inference.
pub fn accuracy(r: &RunRecord) -> Option<f64> {
    r.inference
        .as_ref()
        .map(|i| i.accuracy)
        .filter(|v| v.is_finite())
}

/// Average training power of a run in watts (raw, every metered or estimated component), if
/// known.
pub fn train_power_w(r: &RunRecord) -> Option<f64> {
    r.train
        .as_ref()
        .and_then(|t| t.avg_power_w.total_w)
        .filter(|v| v.is_finite())
}

/// CPU cores a run's worker kept busy while training, on average: its mean utilisation of all
/// cores × the machine's logical cores; `None` when either was not recorded.
pub fn train_cores(r: &RunRecord) -> Option<f64> {
    let util = r.train.as_ref()?.cpu_util_mean?;
    (r.host.cores > 0 && util.is_finite()).then(|| util / 100.0 * r.host.cores as f64)
}

/// Epochs recorded by the run with the most (0 when none trained).
pub fn most_epochs(runs: &[&RunRecord]) -> usize {
    runs.iter()
        .filter_map(|r| r.train.as_ref())
        .map(|t| t.epochs.len())
        .max()
        .unwrap_or(0)
}

/// Joules to watt-hours.
pub fn wh(j: f64) -> f64 {
    j / 3600.0
}

/// Which accuracy a "best configuration" or a Pareto front is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccuracySource {
    /// Validation accuracy after the last epoch, on the split held out of the training samples.
    Validation,
    /// Test accuracy (records written before the validation split existed, whose per-epoch
    /// `val_acc` came from the test set).
    Test,
}

impl AccuracySource {
    /// Validation when every run that has an accuracy also has a held-out validation accuracy
    /// (`validation_samples` recorded), else test.
    pub fn choose(runs: &[&RunRecord]) -> AccuracySource {
        let with_any: Vec<&&RunRecord> = runs
            .iter()
            .filter(|r| accuracy(r).is_some() || validation_accuracy(r).is_some())
            .collect();
        if !with_any.is_empty() && with_any.iter().all(|r| validation_accuracy(r).is_some()) {
            AccuracySource::Validation
        } else {
            AccuracySource::Test
        }
    }

    /// The run's accuracy (0..1) from this source, if it has one.
    pub fn of(self, r: &RunRecord) -> Option<f64> {
        match self {
            AccuracySource::Validation => validation_accuracy(r),
            AccuracySource::Test => accuracy(r),
        }
    }

    /// `validation accuracy` or `test accuracy`.
    pub fn name(self) -> &'static str {
        match self {
            AccuracySource::Validation => "validation accuracy",
            AccuracySource::Test => "test accuracy",
        }
    }
}

/// Validation accuracy (0..1) after a run's last epoch, when it was measured on a split held out
/// of training (`validation_samples` recorded; older records measured `val_acc` on the test set).
pub fn validation_accuracy(r: &RunRecord) -> Option<f64> {
    let t = r.train.as_ref()?;
    t.validation_samples?;
    t.val_acc.filter(|v| v.is_finite())
}

/// Test images a run's test accuracy was measured on: its `test_subset`, else the inference
/// samples divided by the replication factor.
pub fn test_images(r: &RunRecord) -> Option<u64> {
    if let Some(n) = r.spec.test_subset {
        return Some(n as u64);
    }
    let i = r.inference.as_ref()?;
    Some(i.samples? / r.spec.replicate_test.max(1) as u64).filter(|&n| n > 0)
}

/// Distinct values of `f` over `runs`, ascending, joined with " or " (empty when none).
pub(crate) fn distinct(runs: &[&RunRecord], f: impl Fn(&RunRecord) -> Option<u64>) -> String {
    let mut v: Vec<u64> = runs.iter().filter_map(|r| f(r)).collect();
    v.sort_unstable();
    v.dedup();
    v.iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}
