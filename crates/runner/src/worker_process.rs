//! One run in its worker process: spawn `greenbench worker` with the request on stdin, follow its
//! JSON-line events (progress, epochs, the result) and its stderr (logged, tail kept), enforce the
//! run's time limit, and turn what was seen into the run's record.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use greenbench_core::interference::Interference;
use greenbench_core::record::{EpochRecord, Flag, ModelInfo, RunRecord, RunStatus, TrainRecord};
use greenbench_core::short_window;
use greenbench_core::ComponentEnergy;
use greenbench_core::ComponentPower;
use greenbench_core::{Outcome, WorkerEvent, WorkerRequest, WorkerResult};
use greenbench_core::{RunSpec, SweepConfig};

use crate::error::RunnerError;
use crate::interference::{wait_for_quiet, wait_with_cpu, Live, Window};
use crate::options::SweepOptions;
use crate::progress::Progress;

/// Bytes of a worker's stderr kept for the record of a run that did not end ok.
const STDERR_TAIL: usize = 4000;

/// Runs one spec in a worker process and builds its record (raw energy; the caller adds net
/// energy, flags and carbon). A run stopped by Ctrl-C or SIGTERM is [`RunnerError::Interrupted`].
pub(crate) fn run_one(
    cfg: &SweepConfig,
    opts: &SweepOptions,
    spec: &RunSpec,
    idle_power: &ComponentPower,
    progress: &mut Progress,
) -> Result<RunRecord, RunnerError> {
    let run_id = spec.run_id();
    let quiet_wait_s = quiet_gate(cfg, opts, progress);
    progress.run_started(&run_id, spec);
    let started_at = chrono::Utc::now().to_rfc3339();
    let window = Window::open(&opts.proc_root);
    let mut child = spawn_worker(cfg, opts, spec)?;
    let (events, out_thread) = stdout_lines(&mut child);
    let log_path = opts.out.join("logs").join(format!("{run_id}.stderr"));
    let err_thread = stderr_log(&mut child, log_path);
    let mut live = Live::new(&opts.out, &run_id, &window, child.id());
    let seen = watch(&mut child, &events, spec, progress, &mut live)?;
    drop(live);
    let (status, worker_cpu_s) = wait_with_cpu(&mut child)?;
    let interference = window.close(worker_cpu_s);
    if stopped_by_user(status.signal()) {
        // Ctrl-C in a terminal and Slurm's scancel or time limit signal the whole process group:
        // the worker may die of it before this process has seen its own signal. A run stopped
        // by the user or the scheduler is not a result: it is not recorded, and runs again.
        return Err(RunnerError::Interrupted);
    }
    let _ = out_thread.join();
    let stderr_tail = err_thread.join().unwrap_or_default();
    let mut rec = base_record(cfg, opts, spec, idle_power);
    rec.started_at = started_at;
    apply_outcome(&mut rec, seen, status, &stderr_tail, spec);
    rec.finished_at = chrono::Utc::now().to_rfc3339();
    record_interference(&mut rec, interference, quiet_wait_s, cfg);
    flag_short_windows(&mut rec, opts.sampler_hz);
    Ok(rec)
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

/// With a `quiet_gate`, waits (bounded) for a quiet machine; the seconds waited, `None` without
/// a gate or when the machine's counters cannot be read.
fn quiet_gate(cfg: &SweepConfig, opts: &SweepOptions, progress: &Progress) -> Option<f64> {
    let gate = cfg.quiet_gate.as_ref()?.value;
    let (waited, quiet) = wait_for_quiet(&opts.proc_root, &gate)?;
    if !quiet {
        progress.println(&format!(
            "quiet gate: other processes still used more than {:.1} % of the machine after {waited:.0} s; \
             starting the run anyway (its record keeps the figures)",
            gate.max_share * 100.0
        ));
    }
    Some(waited)
}

/// Starts the worker with the run's request written to its stdin.
fn spawn_worker(
    cfg: &SweepConfig,
    opts: &SweepOptions,
    spec: &RunSpec,
) -> Result<Child, RunnerError> {
    let run_id = spec.run_id();
    let request = WorkerRequest {
        sweep: cfg.name.clone(),
        spec: spec.clone(),
        trace_path: (opts.sampler_hz > 0.0)
            .then(|| opts.out.join("traces").join(format!("{run_id}.csv"))),
        datasets_root: opts.datasets_root.clone(),
        meter: opts.meter.clone(),
        sampler_hz: opts.sampler_hz,
        checkpoint_dir: (cfg.search.strategy == greenbench_core::Strategy::Halving)
            .then(|| opts.out.join(crate::folder::CHECKPOINTS)),
    };
    let request =
        serde_json::to_string(&request).map_err(|e| RunnerError::Protocol(e.to_string()))?;
    let (program, args) = opts
        .worker_command
        .split_first()
        .ok_or_else(|| RunnerError::Protocol("empty worker command".into()))?;
    let mut child = Command::new(program)
        .args(args)
        .env("RAYON_NUM_THREADS", spec.threads.to_string())
        .envs(opts.worker_env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| RunnerError::Spawn {
            program: program.to_string_lossy().into(),
            source,
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A worker that dies at once closes its stdin; its exit status tells why.
        let _ = stdin.write_all(request.as_bytes());
    }
    Ok(child)
}

/// The worker's stdout as a channel of lines (`None` once it closes), read by a thread.
fn stdout_lines(child: &mut Child) -> (mpsc::Receiver<Option<String>>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Option<String>>();
    let stdout = child.stdout.take();
    let thread = std::thread::spawn(move || {
        if let Some(stdout) = stdout {
            for line in BufReader::new(stdout).lines() {
                let Ok(l) = line else { break };
                if tx.send(Some(l)).is_err() {
                    return;
                }
            }
        }
        let _ = tx.send(None);
    });
    (rx, thread)
}

/// Copies the worker's stderr to `log_path` in a thread that returns its last
/// [`STDERR_TAIL`] bytes.
fn stderr_log(child: &mut Child, log_path: std::path::PathBuf) -> JoinHandle<String> {
    let stderr = child.stderr.take();
    std::thread::spawn(move || -> String {
        let mut tail: VecDeque<u8> = VecDeque::with_capacity(STDERR_TAIL);
        let mut log = std::fs::File::create(&log_path).ok();
        if let Some(mut stderr) = stderr {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Some(f) = log.as_mut() {
                    let _ = f.write_all(&buf[..n]);
                }
                for &b in &buf[..n] {
                    if tail.len() == STDERR_TAIL {
                        tail.pop_front();
                    }
                    tail.push_back(b);
                }
            }
        }
        String::from_utf8_lossy(tail.make_contiguous()).into_owned()
    })
}

/// What the parent saw of a worker until its stdout closed (or the run was killed).
#[derive(Debug, Default)]
struct Seen {
    /// The `finished` event's result.
    result: Option<WorkerResult>,
    /// The `failed` event's message.
    failed: Option<String>,
    /// Every `epoch` event.
    epochs: Vec<EpochRecord>,
    /// Every `epoch_energy` event: each finished epoch's energy per component.
    epoch_energies: Vec<ComponentEnergy>,
    /// The `loaded` event: family, model, training samples.
    loaded: Option<(greenbench_core::Family, ModelInfo, u64)>,
    /// Killed for exceeding `run_timeout`.
    timed_out: bool,
}

/// Follows the worker's events until its stdout closes, killing it at the run's time limit or
/// when the sweep is asked to stop (then [`RunnerError::Interrupted`]).
fn watch(
    child: &mut Child,
    events: &mpsc::Receiver<Option<String>>,
    spec: &RunSpec,
    progress: &mut Progress,
    live: &mut Live,
) -> Result<Seen, RunnerError> {
    let run_id = spec.run_id();
    let deadline = spec
        .timeout_s
        .map(|t| Instant::now() + Duration::from_secs_f64(t));
    let mut seen = Seen::default();
    loop {
        let wait = deadline.map_or(Duration::from_millis(500), |d| {
            d.saturating_duration_since(Instant::now())
                .min(Duration::from_millis(500))
        });
        match events.recv_timeout(wait) {
            Ok(Some(line)) => {
                if let Ok(ev) = serde_json::from_str::<WorkerEvent>(&line) {
                    progress.event(&run_id, spec, &ev);
                    seen.take(ev);
                }
            }
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(seen),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        live.tick();
        if deadline.is_some_and(|d| Instant::now() >= d) {
            seen.timed_out = true;
            let _ = child.kill();
            return Ok(seen);
        }
        if crate::interrupt::is_requested() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RunnerError::Interrupted);
        }
    }
}

impl Seen {
    /// Keeps what an event says about the run's outcome.
    fn take(&mut self, ev: WorkerEvent) {
        match ev {
            WorkerEvent::Loaded {
                family,
                model,
                train_samples,
                ..
            } => self.loaded = Some((family, model, train_samples)),
            WorkerEvent::Epoch(e) => self.epochs.push(e),
            WorkerEvent::EpochEnergy { energy, .. } => self.epoch_energies.push(energy),
            WorkerEvent::Finished(r) => self.result = Some(*r),
            WorkerEvent::Failed { message } => self.failed = Some(message),
            _ => {}
        }
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

/// A record of `spec` with nothing measured yet (status `crashed` until set).
pub(crate) fn base_record(
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

/// Whether a worker that died of `signal` was stopped with the sweep (SIGINT or SIGTERM while
/// this process was asked to stop too). Waits up to a second for this process's own handler,
/// which runs at about the same time as the worker dies.
fn stopped_by_user(signal: Option<i32>) -> bool {
    if !matches!(signal, Some(libc::SIGINT) | Some(libc::SIGTERM)) {
        return crate::interrupt::is_requested();
    }
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(1) {
        if crate::interrupt::is_requested() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

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

    fn estimated(j: f64) -> ComponentEnergy {
        let mut parts = std::collections::BTreeMap::new();
        parts.insert(
            greenbench_core::Component::Cpu,
            (
                Some(greenbench_core::Joules(j)),
                greenbench_core::Quality::Estimated,
            ),
        );
        ComponentEnergy::from_parts(&parts)
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
}
