//! One run of an external command (a `[workload]` run, or `greenbench exec`) inside the worker
//! process: the command is this worker's child, metered as its process tree (RAPL and NVML where
//! readable, else the estimate charged by the tree's CPU time), its protocol lines turned into
//! epoch and inference windows, and the outcome reported as the same events a model's run sends,
//! so the sweep records, resumes, times out and interrupts it like any other run.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use greenbench_core::{parse_line, CommandEvent, Metrics};
use greenbench_core::{CommandRecord, ComponentEnergy};
use greenbench_core::{EpochRecord, InferenceRecord, ModelInfo, TrainRecord};
use greenbench_core::{ExternalRun, EVENTS_ENV};
use greenbench_core::{Outcome, Phase, WorkerEvent, WorkerRequest, WorkerResult};
use greenbench_meter::EstimateSource;
use greenbench_meter::{
    EnergySource, Meter, MeterError, MeterOptions, ProcessTarget, Window, SOURCES,
};

/// How long the output of a command that has exited is still read (a process it left running
/// in the background may hold its stdout open for ever).
const DRAIN: Duration = Duration::from_secs(1);

/// Writes one event as a JSON line on stdout (the sweep reads it).
fn emit(ev: &WorkerEvent) {
    if let Ok(line) = serde_json::to_string(ev) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Runs `run` for `req` under a meter opened with `options`; returns the worker's exit code: 0
/// when the command exited 0, 2 (after a `failed` event that says how it ended) otherwise.
pub fn serve(req: &WorkerRequest, run: &ExternalRun, options: &MeterOptions) -> u8 {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER only sets a flag on this process: a process the
    // command leaves running is re-parented to this worker, so it stays in the metered tree and
    // is found (and reported) after the command exits.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1);
    }
    let meter = match tree_meter(options) {
        Ok(m) => m,
        Err(e) => {
            emit(&WorkerEvent::Failed {
                message: format!("energy meter: {e}"),
            });
            return 2;
        }
    };
    match execute(req, run, &meter) {
        Ok((result, None)) => {
            emit(&WorkerEvent::Finished(Box::new(result)));
            0
        }
        Ok((result, Some(how))) => {
            // The measurements of a command that failed are kept: its energy was spent.
            emit(&WorkerEvent::Finished(Box::new(result)));
            emit(&WorkerEvent::Failed { message: how });
            2
        }
        Err(message) => {
            emit(&WorkerEvent::Failed { message });
            2
        }
    }
}

/// The meter of a command's process tree: every source [`Meter::auto`] would open, with the
/// CPU-time estimate following this worker's descendants instead of the worker itself.
fn tree_meter(options: &MeterOptions) -> Result<Meter, MeterError> {
    let mut sources: Vec<Box<dyn EnergySource>> = Vec::new();
    for def in SOURCES {
        let opened = if def.name == "estimate" {
            EstimateSource::for_process(ProcessTarget::Descendants, options.watts_per_core)
                .map(|s| Box::new(s) as Box<dyn EnergySource>)
        } else {
            (def.open)(options)
        };
        match opened {
            Ok(s) => sources.push(s),
            Err(e) if def.required => return Err(e),
            Err(_) => {}
        }
    }
    Ok(Meter::from_sources(sources))
}

/// A line of the command's output: which stream, its 1-based number, its text.
enum Line {
    Stdout(usize, String),
    StdoutClosed,
}

/// Runs the command to its end. `Ok((result, None))` when it exited 0, `Ok((result,
/// Some(how)))` when it exited otherwise, `Err` when it could not start.
fn execute(
    req: &WorkerRequest,
    run: &ExternalRun,
    meter: &Meter,
) -> Result<(WorkerResult, Option<String>), String> {
    let (program, args) = run
        .command
        .split_first()
        .ok_or("the workload's command is empty")?;
    let events_path = events_file(req);
    std::fs::write(&events_path, b"")
        .map_err(|e| format!("creating the events file {}: {e}", events_path.display()))?;
    let sampler = match (&req.trace_path, req.sampler_hz > 0.0) {
        (Some(p), true) => Some(
            meter
                .start_sampler(p, Duration::from_secs_f64(1.0 / req.sampler_hz.max(0.1)))
                .map_err(|e| format!("starting the power trace: {e}"))?,
        ),
        _ => None,
    };
    let cpu0 = cpu_seconds();
    let whole = meter.begin().map_err(|e| format!("energy meter: {e}"))?;
    let t0 = Instant::now();
    let mut cmd = Command::new(program);
    cmd.args(args)
        .envs(&run.env)
        .env(EVENTS_ENV, &events_path)
        .env("GREENBENCH_RUN_ID", req.spec.run_id())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // SAFETY: the closure only calls prctl, which is async-signal-safe: a command whose worker
    // is killed (time limit, killed sweep) is killed with it.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "cannot start the command `{}`: {e} (check that the program exists and is executable, \
             and that [workload] command names it as the first item)",
            run.command.join(" ")
        )
    })?;
    emit(&WorkerEvent::Phase {
        phase: Phase::Train,
    });
    let lines = read_stdout(&mut child);
    let mut phases = Phases::new(meter);
    let mut tail = EventsTail::new(events_path.clone());
    let status = loop {
        while let Ok(line) = lines.try_recv() {
            if let Line::Stdout(n, text) = line {
                phases.line("stdout", n, &text);
            }
        }
        for (n, text) in tail.new_lines() {
            phases.line(EVENTS_ENV, n, &text);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for the command: {e}")),
        }
    };
    let duration_s = t0.elapsed().as_secs_f64();
    let deadline = Instant::now() + DRAIN;
    while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        match line {
            Line::Stdout(n, text) => phases.line("stdout", n, &text),
            Line::StdoutClosed => break,
        }
    }
    for (n, text) in tail.new_lines() {
        phases.line(EVENTS_ENV, n, &text);
    }
    let _ = std::fs::remove_file(&events_path);
    let left = greenbench_meter::descendants();
    let cpu_s = cpu_seconds() - cpu0;
    let whole = whole.end().map_err(|e| format!("energy meter: {e}"))?;
    let stats = sampler.map(|s| s.stop());
    let mut warnings = std::mem::take(&mut phases.warnings);
    warnings.extend(phases.unclosed());
    if !left.is_empty() {
        let list: Vec<String> = left
            .iter()
            .map(|p| format!("pid {} ({})", p.pid, p.name))
            .collect();
        warnings.push(format!(
            "the command left {} process(es) running in the background: {}; their CPU time up to \
             the command's exit is charged to this run, what they spend after it is not metered",
            left.len(),
            list.join(", ")
        ));
    }
    if let Some(Err(e)) = &stats {
        warnings.push(format!("power trace: {e}"));
    }
    warnings.extend(whole.problems.iter().cloned());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let cpu_util = (duration_s > 0.0).then(|| 100.0 * cpu_s / (duration_s * cores));
    let gpu_util = stats
        .as_ref()
        .and_then(|s| s.as_ref().ok())
        .and_then(|s| s.mean_gpu_util);
    let mut meters = meter.described_choices();
    meters.insert(
        "scope".into(),
        "the external command's process tree (estimate); RAPL and NVML read the whole machine"
            .into(),
    );
    let how = match (status.code(), status.signal()) {
        (Some(0), _) => None,
        (Some(code), _) => Some(format!("the command exited with code {code}")),
        (_, Some(sig)) => Some(format!(
            "the command was killed by signal {sig} ({})",
            signal_name(sig)
        )),
        _ => Some("the command ended abnormally".into()),
    };
    if phases.metrics.params.is_some() != phases.metrics.macs.is_some() {
        warnings.push(
            "the command reported only one of params and macs: the record's model size needs both, \
             so it is missing"
                .into(),
        );
    }
    let phases_reported = !phases.epochs.is_empty() || phases.inference.is_some();
    let mut train = phases.train_record(&whole.energy, whole.duration.0);
    train.cpu_util_mean = cpu_util;
    train.gpu_util_mean = gpu_util;
    let result = WorkerResult {
        status: Outcome::Ok,
        error: None,
        model: phases.model(),
        train: Some(train),
        inference: phases.inference.take(),
        meters,
        gpu: None,
        command: Some(CommandRecord {
            argv: run.command.clone(),
            exit_code: status.code(),
            signal: status.signal(),
            duration_s,
            cpu_s: cpu_s.is_finite().then_some(cpu_s),
            energy: whole.energy,
            train_samples: phases.metrics.train_samples,
            phases_reported,
            warnings,
        }),
    };
    Ok((result, how))
}

/// The file the command may write protocol lines to: beside the trace when there is one, else in
/// the temporary folder.
fn events_file(req: &WorkerRequest) -> PathBuf {
    let name = format!(
        "greenbench-{}-{}.events",
        req.spec.run_id(),
        std::process::id()
    );
    std::env::temp_dir().join(name)
}

/// CPU seconds of this worker's descendants (the command's tree).
fn cpu_seconds() -> f64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let clk = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    greenbench_meter::descendants_cpu_seconds(if clk > 0 { clk as f64 } else { 100.0 })
}

/// The command's stdout as numbered lines on a channel, read by a thread; lines that are not
/// protocol lines are copied to this worker's stderr (the run's log).
fn read_stdout(child: &mut std::process::Child) -> mpsc::Receiver<Line> {
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take();
    std::thread::spawn(move || {
        if let Some(stdout) = stdout {
            let mut reader = BufReader::new(stdout);
            let mut buf = Vec::new();
            let mut n = 0;
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        n += 1;
                        let text = String::from_utf8_lossy(&buf).trim_end().to_string();
                        if !text
                            .trim_start()
                            .starts_with(greenbench_core::WORKLOAD_EVENT_PREFIX)
                        {
                            let _ = writeln!(std::io::stderr(), "{text}");
                        }
                        if tx.send(Line::Stdout(n, text)).is_err() {
                            return;
                        }
                    }
                }
            }
        }
        let _ = tx.send(Line::StdoutClosed);
    });
    rx
}

/// Follows the events file: the complete lines written since the last look.
struct EventsTail {
    path: PathBuf,
    offset: u64,
    partial: String,
    lines: usize,
}

impl EventsTail {
    fn new(path: PathBuf) -> Self {
        EventsTail {
            path,
            offset: 0,
            partial: String::new(),
            lines: 0,
        }
    }

    fn new_lines(&mut self) -> Vec<(usize, String)> {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.path) {
            if f.seek(SeekFrom::Start(self.offset)).is_ok() {
                let mut bytes = Vec::new();
                if let Ok(n) = f.read_to_end(&mut bytes) {
                    self.offset += n as u64;
                    text = String::from_utf8_lossy(&bytes).into_owned();
                }
            }
        }
        self.partial.push_str(&text);
        let mut out = Vec::new();
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            self.lines += 1;
            out.push((self.lines, line.trim_end().to_string()));
        }
        out
    }
}

/// The phases of a command as its protocol lines open and close them, each in its own meter
/// window.
struct Phases<'m> {
    meter: &'m Meter,
    /// The window of the next epoch: opened at `epoch_start`, or at the command's start and
    /// after each `epoch_end` for a command that only reports ends.
    epoch: Option<(Option<usize>, bool, Window)>,
    epochs: Vec<EpochRecord>,
    energies: Vec<ComponentEnergy>,
    inference_window: Option<Window>,
    inference: Option<InferenceRecord>,
    metrics: Metrics,
    warnings: Vec<String>,
}

impl<'m> Phases<'m> {
    fn new(meter: &'m Meter) -> Self {
        let mut p = Phases {
            meter,
            epoch: None,
            epochs: Vec::new(),
            energies: Vec::new(),
            inference_window: None,
            inference: None,
            metrics: Metrics::default(),
            warnings: Vec::new(),
        };
        p.open_epoch(None, false);
        p
    }

    fn open_epoch(&mut self, epoch: Option<usize>, started: bool) {
        match self.meter.begin() {
            Ok(w) => self.epoch = Some((epoch, started, w)),
            Err(e) => {
                self.epoch = None;
                self.warnings.push(format!("epoch window: {e}"));
            }
        }
    }

    /// Reads one line of the command's output from `stream`.
    fn line(&mut self, stream: &str, n: usize, text: &str) {
        match parse_line(n, text) {
            Ok(None) => {}
            Ok(Some(ev)) => self.event(ev),
            Err(w) => {
                let warning = format!("{stream}: {w}");
                let _ = writeln!(std::io::stderr(), "greenbench: warning: {warning}");
                if self.warnings.len() < 50 {
                    self.warnings.push(warning);
                }
            }
        }
    }

    fn event(&mut self, ev: CommandEvent) {
        match ev {
            CommandEvent::EpochStart(epoch) => self.open_epoch(epoch, true),
            CommandEvent::EpochEnd(epoch, m) => self.close_epoch(epoch, &m),
            CommandEvent::InferenceStart => {
                self.epoch = None;
                emit(&WorkerEvent::Phase {
                    phase: Phase::Inference,
                });
                match self.meter.begin() {
                    Ok(w) => self.inference_window = Some(w),
                    Err(e) => self.warnings.push(format!("inference window: {e}")),
                }
            }
            CommandEvent::InferenceEnd(m) => {
                self.metrics.update(&m);
                let Some(w) = self.inference_window.take() else {
                    self.warnings
                        .push("inference_end without inference_start: ignored".into());
                    return;
                };
                match w.end() {
                    Ok(meas) => {
                        let samples = m.samples.or(self.metrics.samples);
                        self.inference = Some(InferenceRecord::measured(
                            samples,
                            meas.duration.0,
                            meas.energy,
                            self.metrics.test_accuracy.unwrap_or(f64::NAN),
                            None,
                        ));
                    }
                    Err(e) => self.warnings.push(format!("inference window: {e}")),
                }
            }
            CommandEvent::Metrics(m) => {
                self.metrics.update(&m);
                // Validation accuracy measured after an epoch's window closed belongs to it.
                if let (Some(last), Some(acc)) = (self.epochs.last_mut(), m.val_accuracy) {
                    if last.val_acc.is_none() {
                        last.val_acc = Some(acc);
                    }
                }
                if let (Some(inf), Some(acc)) = (self.inference.as_mut(), m.test_accuracy) {
                    inf.accuracy = acc;
                }
            }
        }
    }

    fn close_epoch(&mut self, epoch: Option<usize>, m: &Metrics) {
        self.metrics.update(m);
        let number = epoch
            .or_else(|| self.epoch.as_ref().and_then(|(e, _, _)| *e))
            .unwrap_or(self.epochs.len() + 1);
        let Some((_, _, w)) = self.epoch.take() else {
            self.warnings.push(format!(
                "epoch_end of epoch {number} without an open epoch window: ignored"
            ));
            self.open_epoch(None, false);
            return;
        };
        match w.end() {
            Ok(meas) => {
                let rec = EpochRecord {
                    epoch: number,
                    duration_s: meas.duration.0,
                    energy_j: meas.energy.total_j,
                    net_energy_j: None,
                    loss: m.loss.unwrap_or(f64::NAN),
                    train_acc: m.train_accuracy.unwrap_or(f64::NAN),
                    val_acc: m.val_accuracy,
                };
                emit(&WorkerEvent::Epoch(rec.clone()));
                emit(&WorkerEvent::EpochEnergy {
                    epoch: number,
                    energy: meas.energy.clone(),
                });
                self.epochs.push(rec);
                self.energies.push(meas.energy);
            }
            Err(e) => self.warnings.push(format!("epoch {number} window: {e}")),
        }
        self.open_epoch(None, false);
    }

    /// Warnings for phases opened and never closed.
    fn unclosed(&self) -> Vec<String> {
        let mut w = Vec::new();
        if let Some((e, true, _)) = &self.epoch {
            w.push(format!(
                "epoch {} started and never ended: its energy is in command.energy only",
                e.unwrap_or(self.epochs.len() + 1)
            ));
        }
        if self.inference_window.is_some() {
            w.push(
                "inference started and never ended: its energy is in command.energy only".into(),
            );
        }
        w
    }

    /// The training record: the reported epochs and their windows, or, for a command that
    /// reported none, the whole command with its phases missing.
    fn train_record(&self, whole: &ComponentEnergy, whole_s: f64) -> TrainRecord {
        let last = self.epochs.last();
        if last.is_none() {
            return TrainRecord {
                duration_s: whole_s,
                samples_per_s: f64::NAN,
                energy: whole.clone(),
                final_loss: self.metrics.loss.unwrap_or(f64::NAN),
                train_acc: self.metrics.train_accuracy.unwrap_or(f64::NAN),
                val_acc: self.metrics.val_accuracy,
                validation_samples: self.metrics.validation_samples,
                ..Default::default()
            };
        }
        let samples = self
            .metrics
            .train_samples
            .map(|n| n * self.epochs.len() as u64);
        TrainRecord {
            validation_samples: self.metrics.validation_samples,
            ..TrainRecord::from_epochs(
                self.epochs.clone(),
                None,
                samples,
                ComponentEnergy::sum(&self.energies),
            )
        }
    }

    /// Model size, when the command reported both its parameters and its MACs per sample.
    fn model(&self) -> Option<ModelInfo> {
        let (params, macs) = (self.metrics.params?, self.metrics.macs?);
        Some(ModelInfo {
            params,
            macs_per_sample: macs,
            macs_per_param: if params > 0 {
                macs as f64 / params as f64
            } else {
                f64::NAN
            },
        })
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        _ => "signal",
    }
}
