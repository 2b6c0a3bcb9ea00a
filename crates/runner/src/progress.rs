//! Progress display: an overall bar (runs done/total, ETA) and a run bar (epoch, batch,
//! samples/s, live watts) on a terminal; one line per finished run otherwise; JSON lines with
//! `--json`.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

use greenbench_core::RunRecord;
use greenbench_core::{DeviceName, RunSpec};

use greenbench_core::WorkerEvent;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Bars on a terminal, plain lines otherwise.
    Auto,
    /// Machine-readable JSON lines on stdout.
    Json,
    /// Nothing but errors.
    Quiet,
}

/// Draws sweep progress.
pub struct Progress {
    mode: ProgressMode,
    bars: Option<(MultiProgress, ProgressBar, ProgressBar)>,
    total: usize,
    done: usize,
}

/// One-line description of a run.
pub fn describe(spec: &RunSpec) -> String {
    let mut s = format!(
        "{} bs={} lr={} {} ep={}",
        spec.model,
        spec.batch_size,
        greenbench_core::compact_number(spec.lr),
        spec.optimizer,
        spec.epochs
    );
    if spec.device != DeviceName::Cpu {
        s.push_str(&format!(" {}", spec.device));
    }
    if let Some(w) = spec.power_limit_w {
        s.push_str(&format!(" cap={w}W"));
    }
    if spec.repeat > 0 {
        s.push_str(&format!(" rep={}", spec.repeat));
    }
    s
}

impl Progress {
    /// A progress display for `total` runs to do.
    pub fn new(mode: ProgressMode, total: usize) -> Progress {
        let bars = (mode == ProgressMode::Auto && std::io::stderr().is_terminal()).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(total as u64));
            overall.set_style(
                ProgressStyle::with_template(
                    "sweep [{bar:30}] {pos}/{len} runs  elapsed {elapsed}  ETA {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            overall.enable_steady_tick(std::time::Duration::from_secs(1));
            let run = multi.add(ProgressBar::new(1));
            run.set_style(
                ProgressStyle::with_template("  run [{bar:30}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            (multi, overall, run)
        });
        Progress {
            mode,
            bars,
            total,
            done: 0,
        }
    }

    /// Prints a line above the bars (or to stderr).
    pub fn println(&self, line: &str) {
        match (&self.bars, self.mode) {
            (Some((multi, _, _)), _) => {
                let _ = multi.println(line);
            }
            (None, ProgressMode::Quiet) => {}
            (None, _) => say(line),
        }
    }

    /// A run starts.
    pub fn run_started(&mut self, run_id: &str, spec: &RunSpec) {
        match self.mode {
            ProgressMode::Json => json_line(
                serde_json::json!({"event": "run_started", "run_id": run_id, "spec": spec}),
            ),
            _ => {
                if let Some((_, _, run)) = &self.bars {
                    run.reset();
                    run.set_length(1);
                    run.set_message(format!("{} · starting", describe(spec)));
                }
            }
        }
    }

    /// A worker event arrived.
    pub fn event(&mut self, run_id: &str, spec: &RunSpec, ev: &WorkerEvent) {
        if self.mode == ProgressMode::Json {
            let mut v = serde_json::to_value(ev).unwrap_or(serde_json::Value::Null);
            if let Some(o) = v.as_object_mut() {
                o.insert("run_id".into(), run_id.into());
            }
            json_line(v);
            return;
        }
        let Some((_, _, run)) = &self.bars else {
            return;
        };
        match ev {
            WorkerEvent::Loaded {
                batches_per_epoch, ..
            } => {
                run.set_length((batches_per_epoch * spec.epochs).max(1) as u64);
                run.set_position(0);
            }
            WorkerEvent::Phase { phase } => {
                run.set_message(format!("{} · {phase}", describe(spec)))
            }
            WorkerEvent::Progress {
                epoch,
                batch,
                batches,
                samples_per_s,
                loss,
                watts,
            } => {
                run.set_position(((epoch - 1) * batches + batch) as u64);
                let w = watts.map(|w| format!(" · {w:.1} W")).unwrap_or_default();
                run.set_message(format!(
                    "{} · epoch {epoch}/{} · batch {batch}/{batches} · {samples_per_s:.0} samples/s · loss {loss:.3}{w}",
                    describe(spec),
                    spec.epochs
                ));
            }
            _ => {}
        }
    }

    /// A run ended and its record was written.
    pub fn run_finished(&mut self, rec: &RunRecord) {
        self.done += 1;
        let line = summary_line(rec, self.done, self.total);
        match self.mode {
            ProgressMode::Json => json_line(serde_json::json!({
                "event": "run_finished", "run_id": rec.run_id, "status": rec.status.name(),
                "error": rec.error, "summary": line,
            })),
            ProgressMode::Quiet => {}
            ProgressMode::Auto => {
                self.println(&line);
                if let Some((_, overall, _)) = &self.bars {
                    overall.inc(1);
                }
            }
        }
    }

    /// The sweep is over.
    pub fn finish(&self) {
        if let Some((_, overall, run)) = &self.bars {
            run.finish_and_clear();
            overall.finish();
        }
    }
}

/// Writes a line to stderr; a closed stderr is not a reason to stop a sweep.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// One JSON line on stdout. A closed stdout (`greenbench sweep --json | head -3`) is ignored:
/// the sweep goes on and records every run.
fn json_line(v: serde_json::Value) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{v}");
}

/// A human summary of a finished run, with units and energy quality.
pub fn summary_line(rec: &RunRecord, done: usize, total: usize) -> String {
    let mut s = format!(
        "[{done}/{total}] {:<8} {}",
        rec.status.name(),
        describe(&rec.spec)
    );
    if let Some(t) = &rec.train {
        let e = match (t.energy.total_j, t.energy.quality) {
            (Some(j), Some(q)) => format!("{j:.1} J ({q})"),
            _ => "energy missing".into(),
        };
        s.push_str(&format!("  train {:.1} s {e}", t.duration_s));
    }
    if let Some(i) = &rec.inference {
        s.push_str(&format!("  test acc {:.2} %", i.accuracy * 100.0));
        if let Some(n) = rec.spec.test_subset {
            s.push_str(&format!(" (test_subset {n})"));
        }
    }
    if let Some(err) = &rec.error {
        let first = err.lines().next().unwrap_or("");
        s.push_str(&format!("  ({first})"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use greenbench_core::InferenceRecord;

    #[test]
    fn the_summary_says_when_test_accuracy_is_on_a_test_subset() {
        let spec: RunSpec =
            serde_json::from_str(r#"{"model":"lenet","dataset":"digits","batch_size":8,"lr":0.1,"optimizer":"sgd","momentum":0.9,"weight_decay":0.0,"schedule":"cosine","epochs":1,"device":"cpu","threads":1,"seed":0,"repeat":0,"precision":"f32","warmup_batches":0,"replicate_test":1}"#)
                .unwrap();
        let mut rec = RunRecord::new("s", spec);
        rec.inference = Some(InferenceRecord {
            accuracy: 0.5,
            ..Default::default()
        });
        let line = summary_line(&rec, 1, 2);
        assert!(line.ends_with("test acc 50.00 %"), "{line}");
        rec.spec.test_subset = Some(500);
        let line = summary_line(&rec, 1, 2);
        assert!(
            line.ends_with("test acc 50.00 % (test_subset 500)"),
            "{line}"
        );
        // A learning rate of 1e300 is printed as such, not with 301 digits.
        rec.spec.lr = 1e300;
        assert!(
            describe(&rec.spec).contains(" lr=1e300 "),
            "{}",
            describe(&rec.spec)
        );
    }
}
