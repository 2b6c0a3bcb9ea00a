//! A run's record, built in one place: the parent's base (sweep, spec, host, idle power), the
//! worker's result or what the parent saw of a worker that died (`Seen`), the run's window and
//! interference, then the derived per-run figures (net energy, average power, carbon and their
//! flags, in `accounting.rs`) and the attempts of an earlier record of the same run.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use greenbench_core::short_window;
use greenbench_core::ComponentEnergy;
use greenbench_core::ComponentPower;
use greenbench_core::GridIntensity;
use greenbench_core::Interference;
use greenbench_core::{EpochRecord, Flag, ModelInfo, RunRecord, RunStatus, TrainRecord};
use greenbench_core::{Outcome, WorkerResult};
use greenbench_core::{RunSpec, SweepConfig};

use crate::accounting::add_net_and_carbon;
use crate::options::SweepOptions;
use crate::records::attempts_before;

/// A run's record under construction; [`RecordBuilder::finish`] gives the record as written.
#[derive(Debug)]
pub(crate) struct RecordBuilder {
    rec: RunRecord,
}

impl RecordBuilder {
    /// A record of `spec` with nothing measured yet (status `crashed` until an outcome is set).
    pub(crate) fn new(
        cfg: &SweepConfig,
        opts: &SweepOptions,
        spec: &RunSpec,
        idle_power: &ComponentPower,
    ) -> RecordBuilder {
        RecordBuilder {
            rec: base_record(cfg, opts, spec, idle_power),
        }
    }

    /// A run that no worker ran: skipped by the budget, or failed before it started, and why.
    pub(crate) fn not_run(mut self, status: RunStatus, why: String) -> RecordBuilder {
        self.rec.status = status;
        self.rec.error = Some(why);
        self
    }

    /// The worker's outcome: what it reported (or, if it died, what was seen of it) and how
    /// it exited, in the window from `started_at` to now.
    pub(crate) fn worker_outcome(
        mut self,
        started_at: String,
        seen: Seen,
        status: ExitStatus,
        stderr_tail: &str,
    ) -> RecordBuilder {
        self.rec.started_at = started_at;
        let spec = self.rec.spec.clone();
        apply_outcome(&mut self.rec, seen, status, stderr_tail, &spec);
        self.rec.finished_at = chrono::Utc::now().to_rfc3339();
        self
    }

    /// What else the machine did during the run and how long the quiet gate waited.
    pub(crate) fn interference(
        mut self,
        interference: Option<Interference>,
        quiet_wait_s: Option<f64>,
        cfg: &SweepConfig,
    ) -> RecordBuilder {
        record_interference(&mut self.rec, interference, quiet_wait_s, cfg);
        self
    }

    /// Flags the phases shorter than the meters resolve at `sampler_hz`.
    pub(crate) fn short_windows(mut self, sampler_hz: f64) -> RecordBuilder {
        flag_short_windows(&mut self.rec, sampler_hz);
        self
    }

    /// The record as written: net energy, average power and carbon (at `grid` × `pue`) for a
    /// run that measured anything, and the attempts of an `earlier` record of the same run.
    pub(crate) fn finish(
        mut self,
        grid: &GridIntensity,
        pue: f64,
        earlier: Option<&RunRecord>,
    ) -> RunRecord {
        let rec = &mut self.rec;
        if rec.train.is_some() || rec.inference.is_some() {
            let idle = rec.idle_power_w.clone();
            add_net_and_carbon(rec, &idle, grid, pue);
        }
        if let Some(old) = earlier {
            rec.attempts = if old.status == RunStatus::Skipped && rec.status == RunStatus::Skipped {
                // Skipped again by the budget: one skip is worth keeping, not one per sweep.
                old.attempts.clone()
            } else {
                attempts_before(old)
            };
        }
        self.rec
    }
}

/// What the parent saw of a worker until its stdout closed (or the run was killed).
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// The `finished` event's result.
    pub(crate) result: Option<WorkerResult>,
    /// The `failed` event's message.
    pub(crate) failed: Option<String>,
    /// Every `epoch` event.
    pub(crate) epochs: Vec<EpochRecord>,
    /// Every `epoch_energy` event: each finished epoch's energy per component.
    pub(crate) epoch_energies: Vec<ComponentEnergy>,
    /// The `loaded` event: family, model, training samples.
    pub(crate) loaded: Option<(greenbench_core::Family, ModelInfo, u64)>,
    /// Killed for exceeding `run_timeout`.
    pub(crate) timed_out: bool,
}

/// A record of `spec` with nothing measured yet (status `crashed` until set).
fn base_record(
    cfg: &SweepConfig,
    opts: &SweepOptions,
    spec: &RunSpec,
    idle_power: &ComponentPower,
) -> RunRecord {
    let now = chrono::Utc::now().to_rfc3339();
    RunRecord {
        started_at: now.clone(),
        finished_at: now,
        family: opts.catalog.family(&spec.model),
        host: opts.host.clone(),
        idle_power_w: idle_power.clone(),
        ..RunRecord::new(&cfg.name, spec.clone())
    }
}

/// Sets the record's status, error and measurements from what was seen and how the worker
/// exited: timeout, then a result with exit 0 (`ok` or `diverged`), then `failed`, else
/// `crashed` with the exit code or signal and the stderr tail.
fn apply_outcome(
    rec: &mut RunRecord,
    mut seen: Seen,
    status: ExitStatus,
    stderr_tail: &str,
    spec: &RunSpec,
) {
    if let Some((family, model, train_samples)) = seen.loaded {
        rec.family = Some(family);
        rec.model = Some(model);
        rec.train_samples = train_samples;
    }
    if seen.timed_out {
        rec.status = RunStatus::Timeout;
        rec.error = Some(format!(
            "exceeded run_timeout of {} s and was killed",
            spec.timeout_s.unwrap_or_default()
        ));
        rec.train = partial_train(&seen.epochs, &seen.epoch_energies);
    } else if let Some(r) = seen.result.take_if(|_| status.success()) {
        rec.status = match r.status {
            Outcome::Diverged => RunStatus::Diverged,
            Outcome::Ok => RunStatus::Ok,
        };
        rec.error = r.error;
        rec.model = r.model.or(rec.model.take());
        rec.train = r.train;
        rec.inference = r.inference;
        rec.meters = r.meters;
        rec.command = r.command;
        if r.gpu.is_some() {
            rec.host.gpu = r.gpu;
        }
    } else if let Some(message) = seen.failed {
        rec.status = RunStatus::Failed;
        rec.error = Some(message);
        if let Some(r) = seen.result {
            // An external command that did not exit 0 still spent what was measured of it.
            rec.model = r.model.or(rec.model.take());
            rec.train = r.train;
            rec.inference = r.inference;
            rec.meters = r.meters;
            rec.command = r.command;
        }
    } else {
        rec.status = RunStatus::Crashed;
        let how = match (status.code(), status.signal()) {
            (_, Some(sig)) => format!("worker killed by signal {sig} ({})", signal_name(sig)),
            (Some(code), _) => format!("worker exited with code {code}"),
            _ => "worker ended abnormally".into(),
        };
        let tail = stderr_tail.trim();
        let tail = if tail.is_empty() {
            String::new()
        } else {
            format!("\nstderr (last lines):\n{tail}")
        };
        rec.error = Some(format!("{how}{tail}"));
        rec.train = partial_train(&seen.epochs, &seen.epoch_energies);
    }
    if let Some(n) = rec.command.as_ref().and_then(|c| c.train_samples) {
        rec.train_samples = n;
    }
    // A killed run's training record is built from its finished epochs alone (`partial_train`).
    if rec.train.is_some() && matches!(rec.status, RunStatus::Timeout | RunStatus::Crashed) {
        rec.flags.push(unfinished_epoch_flag(rec));
    }
}

/// The flag of a killed run's training energy: it covers the finished epochs, not the one the
/// worker was in when it was killed, whose window never closed.
fn unfinished_epoch_flag(rec: &RunRecord) -> Flag {
    let done = rec.train.as_ref().map_or(0, |t| t.epochs.len());
    Flag {
        field: "train.energy".into(),
        reason: format!(
            "the worker was stopped ({}) during epoch {}: the energy covers the {done} finished \
             epoch(s) only, so it is a lower bound of what the run spent (the unfinished epoch's \
             window was never closed)",
            rec.status.name(),
            rec.spec.first_epoch() + done
        ),
    }
}

/// Keeps what else the machine did during the run in its record, flagged `interference` when
/// others used more than the config's threshold of the machine.
fn record_interference(
    rec: &mut RunRecord,
    interference: Option<Interference>,
    quiet_wait_s: Option<f64>,
    cfg: &SweepConfig,
) {
    rec.interference = interference.map(|i| Interference { quiet_wait_s, ..i });
    let flag = rec
        .interference
        .as_ref()
        .and_then(|i| i.run_flag(cfg.interference_threshold.value));
    rec.flags.extend(flag);
}

/// Flags a training or inference phase shorter than the record's meters resolve: its energy is
/// approximate, and the record says so instead of publishing it as exact.
fn flag_short_windows(rec: &mut RunRecord, sampler_hz: f64) {
    let phases = [
        ("train", rec.train.as_ref().map(|t| t.duration_s)),
        ("inference", rec.inference.as_ref().map(|i| i.duration_s)),
    ];
    for (phase, duration) in phases {
        if let Some(d) = duration {
            rec.flags
                .extend(short_window(phase, d, sampler_hz, &rec.meters));
        }
    }
}

/// A signal's name and, where it helps, its usual cause.
fn signal_name(sig: i32) -> &'static str {
    match sig {
        6 => "SIGABRT: abort",
        9 => "SIGKILL: killed, often by the out-of-memory killer",
        11 => "SIGSEGV: segmentation fault",
        15 => "SIGTERM",
        2 => "SIGINT",
        _ => "signal",
    }
}

/// Training record from the epochs a killed worker reported before it died, with their energy
/// (per component where the worker reported it, else missing).
fn partial_train(epochs: &[EpochRecord], energies: &[ComponentEnergy]) -> Option<TrainRecord> {
    let last = epochs.last()?;
    let energy = if energies.len() == epochs.len() {
        ComponentEnergy::sum(energies)
    } else {
        ComponentEnergy::default()
    };
    Some(TrainRecord {
        energy,
        duration_s: epochs.iter().map(|e| e.duration_s).sum(),
        final_loss: last.loss,
        train_acc: last.train_acc,
        val_acc: last.val_acc,
        epochs: epochs.to_vec(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RunRecord {
        let spec: RunSpec = serde_json::from_str(
            r#"{"model":"mlp-small","dataset":"digits","batch_size":32,"lr":0.01,"optimizer":"sgd",
            "momentum":0.9,"weight_decay":0.0005,"schedule":"cosine","epochs":2,"device":"cpu",
            "threads":1,"seed":0,"repeat":0,"precision":"f32","warmup_batches":0,"replicate_test":1,
            "timeout_s":2.5}"#,
        )
        .unwrap();
        RunRecord::new("t", spec)
    }

    fn epoch(n: usize) -> EpochRecord {
        EpochRecord {
            epoch: n,
            duration_s: 1.5,
            energy_j: Some(3.0),
            net_energy_j: None,
            loss: 0.5,
            train_acc: 0.8,
            val_acc: None,
        }
    }

    /// CPU energy of `j` joules with `quality`, the only component.
    fn cpu_energy(j: f64, quality: greenbench_core::Quality) -> ComponentEnergy {
        let mut parts = std::collections::BTreeMap::new();
        parts.insert(
            greenbench_core::Component::Cpu,
            (Some(greenbench_core::Joules(j)), quality),
        );
        ComponentEnergy::from_parts(&parts)
    }

    fn estimated(j: f64) -> ComponentEnergy {
        cpu_energy(j, greenbench_core::Quality::Estimated)
    }

    #[test]
    fn a_timeout_keeps_the_epochs_reported_before_the_kill_and_their_energy() {
        let mut rec = record();
        let spec = rec.spec.clone();
        let seen = Seen {
            epochs: vec![epoch(1)],
            epoch_energies: vec![estimated(3.0)],
            timed_out: true,
            ..Default::default()
        };
        apply_outcome(&mut rec, seen, ExitStatus::from_raw(9), "", &spec);
        assert_eq!(rec.status, RunStatus::Timeout);
        assert_eq!(
            rec.error.as_deref(),
            Some("exceeded run_timeout of 2.5 s and was killed")
        );
        let train = rec.train.as_ref().unwrap();
        assert_eq!(train.duration_s, 1.5);
        // Energy spent is energy spent: the finished epoch's joules count in the total…
        assert_eq!(train.energy.total_j, Some(3.0));
        assert_eq!(rec.raw_energy_j(), Some((3.0, 0.0)));
        // …flagged as a lower bound, since epoch 2 was cut off with its window open.
        assert!(rec.is_flagged("train.energy"), "{:?}", rec.flags);
        assert!(
            rec.flags[0].reason.contains("during epoch 2"),
            "{:?}",
            rec.flags
        );
    }

    #[test]
    fn a_crash_names_the_signal_and_keeps_the_stderr_tail() {
        let mut rec = record();
        let spec = rec.spec.clone();
        // Killed by signal 6 (wait status: the signal in the low bits).
        apply_outcome(
            &mut rec,
            Seen::default(),
            ExitStatus::from_raw(6),
            "boom\n",
            &spec,
        );
        assert_eq!(rec.status, RunStatus::Crashed);
        let e = rec.error.unwrap();
        assert!(e.starts_with("worker killed by signal 6 (SIGABRT"), "{e}");
        assert!(e.ends_with("stderr (last lines):\nboom"), "{e}");
    }

    #[test]
    fn a_failed_command_keeps_what_was_measured_of_it() {
        let result = WorkerResult {
            train: Some(TrainRecord {
                energy: estimated(5.0),
                ..Default::default()
            }),
            command: Some(greenbench_core::CommandRecord {
                signal: Some(9),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut rec = record();
        let spec = rec.spec.clone();
        let seen = Seen {
            result: Some(result),
            failed: Some("the command was killed by signal 9 (SIGKILL)".into()),
            ..Default::default()
        };
        apply_outcome(&mut rec, seen, ExitStatus::from_raw(2 << 8), "", &spec);
        assert_eq!(rec.status, RunStatus::Failed);
        assert_eq!(rec.raw_energy_j(), Some((5.0, 0.0)));
        assert_eq!(rec.command.as_ref().and_then(|c| c.signal), Some(9));
    }

    #[test]
    fn a_result_counts_only_with_exit_code_zero() {
        let result = WorkerResult {
            status: Outcome::Diverged,
            error: Some("loss became NaN".into()),
            ..Default::default()
        };
        let mut rec = record();
        let spec = rec.spec.clone();
        let seen = Seen {
            result: Some(result.clone()),
            ..Default::default()
        };
        apply_outcome(&mut rec, seen, ExitStatus::from_raw(0), "", &spec);
        assert_eq!(rec.status, RunStatus::Diverged);
        // Exit code 3 (wait status 3 << 8) after a result: the result is not trusted.
        let mut rec = record();
        let seen = Seen {
            result: Some(result),
            ..Default::default()
        };
        apply_outcome(&mut rec, seen, ExitStatus::from_raw(3 << 8), "", &spec);
        assert_eq!(rec.status, RunStatus::Crashed);
        assert_eq!(rec.error.as_deref(), Some("worker exited with code 3"));
    }

    fn builder(rec: RunRecord) -> RecordBuilder {
        RecordBuilder { rec }
    }

    fn measured(j: f64) -> ComponentEnergy {
        cpu_energy(j, greenbench_core::Quality::Measured)
    }

    #[test]
    fn finish_derives_net_energy_from_the_records_own_idle_power() {
        let mut rec = record();
        rec.idle_power_w
            .set(greenbench_core::Component::Cpu, Some(1.0));
        rec.status = RunStatus::Ok;
        rec.train = Some(TrainRecord {
            energy: measured(10.0),
            duration_s: 2.0,
            ..Default::default()
        });
        let rec = builder(rec).finish(&GridIntensity::Fixed(360.0), 1.0, None);
        let train = rec.train.as_ref().unwrap();
        assert_eq!(train.net_energy.total_j, Some(8.0));
        assert_eq!(train.avg_power_w.total_w, Some(5.0));
        // 8 J = 8 / 3.6e6 kWh at 360 g/kWh.
        assert!((rec.carbon_g.train.unwrap() - 8e-4).abs() < 1e-12);
        assert!(rec.attempts.is_empty());
    }

    #[test]
    fn finish_keeps_one_skip_and_every_other_earlier_attempt() {
        let skipped = || builder(record()).not_run(RunStatus::Skipped, "over budget".into());
        let grid = GridIntensity::Fixed(100.0);
        let first = skipped().finish(&grid, 1.0, None);
        let again = skipped().finish(&grid, 1.0, Some(&first));
        assert!(again.attempts.is_empty(), "{:?}", again.attempts);
        assert_eq!(again.carbon_g.intensity_g_per_kwh, None);
        let ran = builder(record()).finish(&grid, 1.0, Some(&again));
        assert_eq!(ran.attempts.len(), 1);
        assert_eq!(ran.attempts[0].status, RunStatus::Skipped);
    }
}
