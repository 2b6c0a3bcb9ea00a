//! One run in its worker process: spawn `greenbench worker` with the request on stdin, follow its
//! JSON-line events (progress, epochs, the result) and its stderr (logged, tail kept), enforce the
//! run's time limit, and turn what was seen into the run's record.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use greenbench_core::ComponentPower;
use greenbench_core::{RunSpec, SweepConfig};
use greenbench_core::{WorkerEvent, WorkerRequest};

use crate::error::RunnerError;
use crate::interference::{wait_for_quiet, wait_with_cpu, Live, Window};
use crate::options::SweepOptions;
use crate::progress::Progress;
use crate::record_builder::{RecordBuilder, Seen};

/// Bytes of a worker's stderr kept for the record of a run that did not end ok.
const STDERR_TAIL: usize = 4000;

/// Runs one spec in a worker process and gives its record as far as the worker tells it (the
/// caller finishes it: net energy, flags, carbon). A run stopped by Ctrl-C or SIGTERM is [`RunnerError::Interrupted`].
pub(crate) fn run_one(
    cfg: &SweepConfig,
    opts: &SweepOptions,
    spec: &RunSpec,
    idle_power: &ComponentPower,
    progress: &mut Progress,
) -> Result<RecordBuilder, RunnerError> {
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
    Ok(RecordBuilder::new(cfg, opts, spec, idle_power)
        .worker_outcome(started_at, seen, status, &stderr_tail)
        .interference(interference, quiet_wait_s, cfg)
        .short_windows(opts.sampler_hz))
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
