//! The record of one run: one JSON object per line of `runs.jsonl`.
//!
//! `schema_version` comes first. Readers accept records of this version; a different version is
//! an error that names the line.

use serde::{Deserialize, Serialize};
use std::io::BufRead;
use std::path::Path;

use crate::choices::Family;
use crate::energy::{ComponentEnergy, ComponentPower};
use crate::error::{CoreError, RecordError};
use crate::spec::RunSpec;

pub use crate::flag::Flag;

/// Version of the record schema written by this build.
pub const SCHEMA_VERSION: u32 = 1;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Trained and evaluated.
    Ok,
    /// Loss became non-finite; stopped early.
    Diverged,
    /// The worker died (panic, abort, signal, OOM).
    Crashed,
    /// The worker exceeded its time limit and was killed.
    Timeout,
    /// The run could not start (bad spec, missing dataset).
    Failed,
    /// Not started: a search's budget would have been exceeded (the record's `error` says which
    /// limit, with the prediction and what was left).
    Skipped,
}

impl RunStatus {
    /// Every status is terminal: a resumed sweep does not run it again unless asked to retry.
    pub fn is_terminal(self) -> bool {
        true
    }
    /// Whether `--retry-failed` runs it again: `crashed`, `failed` and `timeout` are faults of
    /// the run (a killed worker, a missing dataset, a limit too short) that a retry can mend;
    /// `ok` and `diverged` are results of the configuration and are kept.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            RunStatus::Crashed | RunStatus::Failed | RunStatus::Timeout
        )
    }
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Diverged => "diverged",
            RunStatus::Crashed => "crashed",
            RunStatus::Timeout => "timeout",
            RunStatus::Failed => "failed",
            RunStatus::Skipped => "skipped",
        }
    }
}

/// The machine a run ran on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    /// CPU model name from /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical cores.
    pub cores: usize,
    /// Total memory in GB.
    pub mem_gb: f64,
    /// GPU name, if one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<String>,
    /// Operating system and kernel.
    pub os: String,
    /// Host name.
    #[serde(default)]
    pub hostname: String,
    /// Version of the greenbench that wrote the record (its Cargo package version).
    pub greenbench_version: String,
    /// Version of candle the models were trained with.
    pub candle_version: String,
    /// Vector width greenbench's own CPU kernels ran at (`avx512`, `avx2` or `baseline`; the
    /// width changes time, not results). Empty in records written before it was recorded.
    #[serde(default)]
    pub cpu_kernels: String,
}

/// Model complexity figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// Trainable parameters.
    pub params: u64,
    /// Multiply-accumulates per sample (forward pass; convolutions, linear layers, attention).
    pub macs_per_sample: u64,
    /// MACs per sample divided by parameters.
    pub macs_per_param: f64,
}

/// One training epoch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch.
    pub epoch: usize,
    /// Wall time in seconds.
    pub duration_s: f64,
    /// Raw energy in joules (all components), `None` when missing.
    pub energy_j: Option<f64>,
    /// Energy net of idle power, `None` when missing.
    pub net_energy_j: Option<f64>,
    /// Mean training loss over the epoch (`null` in JSON, NaN here, when an external command
    /// did not report it).
    #[serde(deserialize_with = "nan_if_null")]
    pub loss: f64,
    /// Training accuracy over the epoch (0..1; `null`/NaN when not reported).
    #[serde(deserialize_with = "nan_if_null")]
    pub train_acc: f64,
    /// Accuracy (0..1) after the epoch on the validation split held out of the training samples
    /// (never the test set); `None` when the run held nothing out (`validation = 0`).
    pub val_acc: Option<f64>,
}

/// The training phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainRecord {
    /// Metered training wall time in seconds (warmup excluded).
    pub duration_s: f64,
    /// Training samples per second (`null`/NaN when an external command did not say how many
    /// samples it trained on).
    #[serde(deserialize_with = "nan_if_null")]
    pub samples_per_s: f64,
    /// Raw energy.
    pub energy: ComponentEnergy,
    /// Energy net of idle power.
    pub net_energy: ComponentEnergy,
    /// Average power.
    pub avg_power_w: ComponentPower,
    /// Mean GPU utilisation (0..100 %), if a GPU was metered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_util_mean: Option<f64>,
    /// Mean CPU utilisation of the worker (0..100 % of all cores), if sampled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_util_mean: Option<f64>,
    /// Loss of the last epoch (`null` in JSON, NaN here, when no epoch finished: a run that
    /// diverged in its first epoch).
    #[serde(deserialize_with = "nan_if_null")]
    pub final_loss: f64,
    /// Training accuracy of the last epoch (`null`/NaN when not reported).
    #[serde(deserialize_with = "nan_if_null")]
    pub train_acc: f64,
    /// Validation-split accuracy after the last epoch (see [`EpochRecord::val_acc`]).
    pub val_acc: Option<f64>,
    /// Samples of the validation split `val_acc` was measured on (absent in records written
    /// before the split existed, whose `val_acc` came from the test set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_samples: Option<u64>,
    /// Per-epoch figures (finished epochs only).
    pub epochs: Vec<EpochRecord>,
    /// The epoch that stopped part-way (the loss became non-finite): its batches were trained
    /// and its energy spent, so `duration_s` and `energy` include it; absent when every epoch
    /// finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_epoch: Option<PartialEpoch>,
}

/// An epoch that stopped part-way, with what it spent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartialEpoch {
    /// 1-based epoch.
    pub epoch: usize,
    /// Batches trained in it, the last one included.
    pub batches: usize,
    /// Wall time in seconds.
    pub duration_s: f64,
    /// Raw energy in joules (all components), `None` when missing.
    pub energy_j: Option<f64>,
}

/// Reads a float written as `null` (serde_json writes NaN so) as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The inference phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InferenceRecord {
    /// Samples classified (test set × replicate_test); `null` when an external command reported
    /// no count (unknown, never 0).
    #[serde(default)]
    pub samples: Option<u64>,
    /// Wall time in seconds.
    pub duration_s: f64,
    /// Samples per second (`null`/NaN when not reported).
    #[serde(deserialize_with = "nan_if_null")]
    pub samples_per_s: f64,
    /// Raw energy.
    pub energy: ComponentEnergy,
    /// Energy net of idle power.
    pub net_energy: ComponentEnergy,
    /// Average power.
    #[serde(default)]
    pub avg_power_w: ComponentPower,
    /// Accuracy (0..1) on the test split (its `test_subset` when the spec gives one), measured
    /// once at the end of the run; next-token top-1 for language models (`null`/NaN when an
    /// external command did not report it).
    #[serde(deserialize_with = "nan_if_null")]
    pub accuracy: f64,
    /// Perplexity, for language models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perplexity: Option<f64>,
}

/// Carbon in grams CO2-eq.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CarbonRecord {
    /// Training emissions in g (net energy when available, else raw).
    pub train: Option<f64>,
    /// Inference emissions in g.
    pub inference: Option<f64>,
    /// Grid intensity the grams were computed with, g CO2-eq per kWh (the config's figure, its
    /// country's yearly average, or the mean of an hourly series over this run's window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intensity_g_per_kwh: Option<f64>,
}

/// An earlier attempt at the same run that did not end `ok` (kept when `--retry-failed` ran it
/// again, so the reason is not lost).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// How that attempt ended.
    pub status: RunStatus,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// RFC 3339 start time of that attempt.
    pub started_at: String,
    /// RFC 3339 end time of that attempt.
    pub finished_at: String,
}

/// One run: a line of `runs.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Always first; see [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Sweep name.
    pub sweep: String,
    /// Stable id of the spec.
    pub run_id: String,
    /// How the run ended.
    pub status: RunStatus,
    /// Why it did not end `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// RFC 3339 start time.
    pub started_at: String,
    /// RFC 3339 end time.
    pub finished_at: String,
    /// The run spec, with the model family.
    pub spec: RunSpec,
    /// Model family (`mlp`, `cnn`, `transformer`); `None`, written `""`, until the model loaded.
    #[serde(with = "family_name")]
    pub family: Option<Family>,
    /// The machine the run ran on (CPU, cores, memory, GPU, OS, versions).
    pub host: HostInfo,
    /// Complexity; absent when the model could not be built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelInfo>,
    /// Training; absent when the run failed before training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<TrainRecord>,
    /// Inference; absent when the run did not reach it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference: Option<InferenceRecord>,
    /// Idle baseline used for net energy.
    #[serde(default)]
    pub idle_power_w: ComponentPower,
    /// Emissions.
    #[serde(default)]
    pub carbon_g: CarbonRecord,
    /// Which source metered each component, e.g. `{"cpu": "estimate: 10 W/core × CPU time"}`.
    #[serde(default)]
    pub meters: std::collections::BTreeMap<String, String>,
    /// Training-set size in samples (for estimators).
    #[serde(default)]
    pub train_samples: u64,
    /// What else the machine did during the run (other processes' CPU time, steal, load);
    /// absent in records written before it was measured, or where it could not be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interference: Option<crate::interference::Interference>,
    /// Figures that cannot be true as measured, each with its reason (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
    /// Earlier attempts at this run that did not end `ok`, oldest first (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// The external command the run executed (a `[workload]` run or `greenbench exec`); absent
    /// for runs of greenbench's own models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<crate::command_record::CommandRecord>,
}

impl RunRecord {
    /// A record of `spec` in sweep `sweep` with nothing measured yet: status `crashed` until the
    /// run says otherwise, no times, family, host, model or phases. Builders fill what they know
    /// with struct update syntax (`RunRecord { status, ..RunRecord::new(sweep, spec) }`).
    pub fn new(sweep: &str, spec: RunSpec) -> RunRecord {
        RunRecord {
            schema_version: SCHEMA_VERSION,
            sweep: sweep.to_string(),
            run_id: spec.run_id(),
            status: RunStatus::Crashed,
            error: None,
            started_at: String::new(),
            finished_at: String::new(),
            spec,
            family: None,
            host: HostInfo::default(),
            model: None,
            train: None,
            inference: None,
            idle_power_w: ComponentPower::default(),
            carbon_g: CarbonRecord::default(),
            meters: Default::default(),
            train_samples: 0,
            interference: None,
            flags: Vec::new(),
            attempts: Vec::new(),
            command: None,
        }
    }

    /// The flag on `field` (e.g. `train.net_energy`, `interference`), if there is one.
    pub fn flag(&self, field: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.field == field)
    }

    /// Whether a flag concerns `field` (e.g. `train.net_energy`).
    pub fn is_flagged(&self, field: &str) -> bool {
        self.flag(field).is_some()
    }

    /// Wall seconds from `started_at` to `finished_at` (fractions kept), if both parse.
    pub fn wall_s(&self) -> Option<f64> {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
        let d = t(&self.finished_at)? - t(&self.started_at)?;
        Some(d.num_nanoseconds()? as f64 / 1e9)
    }

    /// Raw training and inference energy in joules — what a search's budget counts — for a run
    /// with a finite training figure; inference without a figure counts 0.
    pub fn raw_energy_j(&self) -> Option<(f64, f64)> {
        let train = self
            .train
            .as_ref()?
            .energy
            .total_j
            .filter(|j| j.is_finite())?;
        let inference = self.inference.as_ref().and_then(|i| i.energy.total_j);
        Some((train, inference.filter(|j| j.is_finite()).unwrap_or(0.0)))
    }

    /// Emissions of training plus inference, grams CO₂e; `None` when neither has a figure.
    pub fn co2_g(&self) -> Option<f64> {
        match (self.carbon_g.train, self.carbon_g.inference) {
            (None, None) => None,
            (t, i) => Some(t.unwrap_or(0.0) + i.unwrap_or(0.0)),
        }
    }
}

/// One complete line of `runs.jsonl`: its 1-based number, its text (with the newline) and the
/// record parsed from it.
#[derive(Debug, Clone)]
pub struct RecordLine {
    /// 1-based line number.
    pub line_no: usize,
    /// The line as written, newline included (merging copies it verbatim).
    pub text: String,
    /// The parsed record.
    pub record: RunRecord,
}

/// Reads every complete line of a `runs.jsonl` file with its record.
///
/// A trailing line without a newline is kept when it is a whole record (a file edited by hand or
/// copied without its last newline) and ignored when it does not parse (a write cut by a crash);
/// any other malformed line is an error naming the line.
pub fn read_record_lines(path: &Path) -> Result<Vec<RecordLine>, CoreError> {
    let io = |source| CoreError::from(crate::error::io("reading records", path)(source));
    let file = std::fs::File::open(path).map_err(io)?;
    let mut reader = std::io::BufReader::new(file);
    let mut out = Vec::new();
    let mut line = String::new();
    let mut n = 0;
    loop {
        line.clear();
        let read = reader.read_line(&mut line).map_err(io)?;
        if read == 0 {
            break;
        }
        n += 1;
        if line.trim().is_empty() {
            continue;
        }
        let record = match parse_record(&line) {
            Ok(r) => r,
            // The last line, cut short by an interrupted write.
            Err(_) if !line.ends_with('\n') => break,
            Err(e) => {
                return Err(CoreError::Record {
                    path: path.to_path_buf(),
                    line: n,
                    message: e.to_string(),
                })
            }
        };
        if !line.ends_with('\n') {
            line.push('\n');
        }
        out.push(RecordLine {
            line_no: n,
            text: line.clone(),
            record,
        });
    }
    Ok(out)
}

/// Reads every complete record of a `runs.jsonl` file (see [`read_record_lines`]).
pub fn read_records(path: &Path) -> Result<Vec<RunRecord>, CoreError> {
    Ok(read_record_lines(path)?
        .into_iter()
        .map(|l| l.record)
        .collect())
}

/// One record per run id, in file order: an `ok` record wins, else the last; with the number
/// of records dropped.
pub fn one_per_run_id(records: Vec<RunRecord>) -> (Vec<RunRecord>, usize) {
    let total = records.len();
    let mut at: std::collections::HashMap<String, usize> = Default::default();
    let mut kept: Vec<RunRecord> = Vec::with_capacity(total);
    for r in records {
        match at.get(&r.run_id) {
            Some(&i) if kept[i].status == RunStatus::Ok => {}
            Some(&i) => kept[i] = r,
            None => {
                at.insert(r.run_id.clone(), kept.len());
                kept.push(r);
            }
        }
    }
    let dropped = total - kept.len();
    (kept, dropped)
}

/// Parses one record line, checking its schema version.
pub fn parse_record(line: &str) -> Result<RunRecord, RecordError> {
    let v: serde_json::Value = serde_json::from_str(line)?;
    match v.get("schema_version").and_then(|s| s.as_u64()) {
        Some(s) if s == SCHEMA_VERSION as u64 => {}
        Some(found) => return Err(RecordError::SchemaVersion { found }),
        None => return Err(RecordError::NoSchemaVersion),
    }
    Ok(serde_json::from_value(v)?)
}

/// A record's family as its name, the empty name for none, as records have always held it.
mod family_name {
    use crate::choices::{Choice, Family};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(f: &Option<Family>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(f.map_or("", Family::name))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Family>, D::Error> {
        let name = String::deserialize(d)?;
        if name.is_empty() {
            return Ok(None);
        }
        Family::parse(&name)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn wall_time_energy_and_emissions_of_a_record() {
        let mut r = record();
        r.started_at = "2026-11-30T10:46:20.250Z".into();
        r.finished_at = "2026-11-30T10:46:21.125+00:00".into();
        assert!((r.wall_s().unwrap() - 0.875).abs() < 1e-9, "fractions kept");
        r.finished_at = "not a time".into();
        assert_eq!(r.wall_s(), None);
        r.train = None;
        assert_eq!(r.raw_energy_j(), None, "no training figure, no energy");
        r.carbon_g = CarbonRecord::default();
        assert_eq!(r.co2_g(), None);
        r.carbon_g.inference = Some(0.5);
        assert_eq!(r.co2_g(), Some(0.5));
    }

    fn record() -> RunRecord {
        let spec: RunSpec = serde_json::from_str(
            r#"{"model":"mlp-small","dataset":"digits","batch_size":32,"lr":0.01,"optimizer":"sgd",
            "momentum":0.9,"weight_decay":0.0005,"schedule":"cosine","epochs":1,"device":"cpu",
            "threads":1,"seed":0,"repeat":0,"precision":"f32","warmup_batches":0,"replicate_test":1}"#,
        )
        .unwrap();
        RunRecord {
            status: RunStatus::Ok,
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:00:01Z".into(),
            family: Some(Family::Mlp),
            ..RunRecord::new("t", spec)
        }
    }

    #[test]
    fn family_is_one_of_the_zoo_families_written_as_before() {
        let line = serde_json::to_string(&record()).unwrap();
        assert!(line.contains(r#""family":"mlp""#), "{line}");
        // A record before its model loaded has no family, written as the empty name.
        let unknown = RunRecord::new("t", record().spec);
        let empty = serde_json::to_string(&unknown).unwrap();
        assert!(empty.contains(r#""family":"""#), "{empty}");
        assert_eq!(parse_record(&empty).unwrap(), unknown);
        // A name outside the zoo's families is refused, naming them.
        let e = parse_record(&line.replace(r#""family":"mlp""#, r#""family":"rnn""#))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rnn") && e.contains("mlp, cnn, transformer"),
            "{e}"
        );
    }

    #[test]
    fn record_line_errors_are_typed_and_keep_their_text() {
        use crate::error::RecordError;
        let line = serde_json::to_string(&record()).unwrap();
        let other = parse_record(&line.replace("\"schema_version\":1", "\"schema_version\":9"))
            .unwrap_err();
        assert!(matches!(other, RecordError::SchemaVersion { found: 9 }));
        assert_eq!(
            other.to_string(),
            "schema_version 9, this greenbench reads version 1"
        );
        let none = parse_record(&line.replace("\"schema_version\":1,", "")).unwrap_err();
        assert!(matches!(none, RecordError::NoSchemaVersion));
        assert_eq!(none.to_string(), "no schema_version field");
        let json = parse_record("not json").unwrap_err();
        assert!(matches!(json, RecordError::Json(_)));
        assert_eq!(
            json.to_string(),
            serde_json::from_str::<serde_json::Value>("not json")
                .unwrap_err()
                .to_string()
        );
        // read_record_lines puts the same text after file and line.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("runs.jsonl");
        std::fs::write(&p, "{}\n").unwrap();
        assert_eq!(
            read_records(&p).unwrap_err().to_string(),
            format!(
                "{}:1: not a valid greenbench record: no schema_version field",
                p.display()
            )
        );
    }

    #[test]
    fn schema_version_is_first_and_round_trips() {
        let r = record();
        let line = serde_json::to_string(&r).unwrap();
        assert!(line.starts_with("{\"schema_version\":1,"));
        assert_eq!(parse_record(&line).unwrap(), r);
    }

    #[test]
    fn reader_ignores_partial_last_line_and_names_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("runs.jsonl");
        let line = serde_json::to_string(&record()).unwrap();
        let mut f = std::fs::File::create(&p).unwrap();
        writeln!(f, "{line}").unwrap();
        write!(f, "{}", &line[..line.len() / 2]).unwrap();
        drop(f);
        assert_eq!(read_records(&p).unwrap().len(), 1);

        // A whole last record without its newline is a record, not a partial write.
        std::fs::write(&p, format!("{line}\n{line}")).unwrap();
        let lines = read_record_lines(&p).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines[1].text.ends_with('\n'));

        std::fs::write(&p, format!("{line}\nnot json\n")).unwrap();
        let err = read_records(&p).unwrap_err().to_string();
        assert!(err.contains("runs.jsonl:2"), "{err}");

        std::fs::write(
            &p,
            line.replace("\"schema_version\":1", "\"schema_version\":9") + "\n",
        )
        .unwrap();
        let err = read_records(&p).unwrap_err().to_string();
        assert!(err.contains("schema_version 9"), "{err}");
    }
}
