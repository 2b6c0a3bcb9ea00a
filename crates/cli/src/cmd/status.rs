//! `greenbench status DIR`: where a sweep folder stands — runs done, running and left, elapsed
//! time and ETA, energy and CO₂ so far, the best configuration so far on validation accuracy, and
//! the live power of the run in progress. Reads the folder only; works while a sweep runs.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use greenbench_analysis::format_energy as energy;
use greenbench_catalog::ZooCatalog;
use greenbench_core::human_duration;
use greenbench_runner::current_holder;
use greenbench_runner::{sweep_status, BestRun, IdleMeasurement, RunningRun, SweepStatus};

/// Arguments of `greenbench status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// The sweep folder (what `sweep` wrote to, e.g. results/quick).
    dir: PathBuf,
    /// Print one JSON object (one per line with --watch) instead of text.
    #[arg(long)]
    json: bool,
    /// Print again every SECONDS (default 5) until no sweep holds the folder (also while a sweep
    /// that holds it has not written its manifest yet).
    #[arg(long, value_name = "SECONDS", num_args = 0..=1, default_missing_value = "5")]
    watch: Option<f64>,
}

/// Prints the status once, or repeatedly with `--watch`.
pub fn run(a: StatusArgs) -> anyhow::Result<()> {
    if let Some(every) = a.watch {
        if !(every.is_finite() && every >= 0.5) {
            anyhow::bail!("--watch takes seconds between updates, at least 0.5 (got {every})");
        }
    }
    let zoo = ZooCatalog::new(greenbench_data::default_root());
    loop {
        let st = match (sweep_status(&a.dir, chrono::Utc::now(), &zoo), a.watch) {
            (Ok(st), _) => st,
            // A sweep holds the folder but cannot be read yet (it is starting): keep watching.
            (Err(e), Some(every)) if current_holder(&a.dir).is_some() => {
                eprintln!("{e}");
                std::thread::sleep(Duration::from_secs_f64(every));
                continue;
            }
            (Err(e), _) => {
                return Err(e).with_context(|| format!("reading the status of {}", a.dir.display()))
            }
        };
        if a.json && a.watch.is_some() {
            println!("{}", serde_json::to_string(&st)?);
        } else if a.json {
            println!("{}", serde_json::to_string_pretty(&st)?);
        } else {
            print!("{}", render(&st));
        }
        match a.watch {
            Some(every) if st.held_by.is_some() => {
                std::thread::sleep(Duration::from_secs_f64(every));
                if !a.json {
                    println!();
                }
            }
            _ => return Ok(()),
        }
    }
}

/// A percentage of a 0..1 fraction.
fn pct(x: f64) -> String {
    format!("{:.1} %", 100.0 * x)
}

/// The status as text, a line per fact.
pub fn render(st: &SweepStatus) -> String {
    let mut out = format!("sweep `{}` in {}: ", st.sweep, st.folder);
    out.push_str(&match &st.held_by {
        Some(h) => format!("in progress ({h})\n"),
        None => "no sweep is running on it\n".into(),
    });
    if let Some(i) = &st.idle_measurement {
        out.push_str(&idle_line(i));
    }
    out.push_str(&runs_line(st));
    out.push_str(&time_line(st));
    out.push_str(&energy_line(st));
    if let Some(r) = &st.running {
        out.push_str(&running_line(r));
    }
    out.push_str(&best_line(st.best.as_ref()));
    out.push_str(&interference_lines(st));
    out
}

/// The idle baseline and the recorded runs flagged `interference`, each with its reason.
fn interference_lines(st: &SweepStatus) -> String {
    let mut out = String::new();
    if let Some(why) = &st.idle_interference {
        out.push_str(&format!("idle baseline flagged interference: {why}\n"));
    }
    if !st.interference.is_empty() {
        out.push_str(&format!(
            "{} run(s) flagged interference (`report --exclude-flagged` leaves them out):\n",
            st.interference.len()
        ));
        for (id, why) in &st.interference {
            out.push_str(&format!("  [{id}] {why}\n"));
        }
    }
    out
}

/// The idle measurement in progress: which one, how far.
fn idle_line(i: &IdleMeasurement) -> String {
    let how_far = match i.elapsed_s {
        Some(t) => format!("{:.0} of {} s", t.min(i.seconds), i.seconds),
        None => format!("{} s", i.seconds),
    };
    if i.baseline {
        format!(
            "now: measuring its idle baseline ({how_far}; keep the machine otherwise quiet); \
             no run has started, manifest.json is written once it is measured\n"
        )
    } else {
        format!("now: measuring idle power again after the last run ({how_far}; baseline drift)\n")
    }
}

/// How many runs are recorded (by status), running and remaining.
fn runs_line(st: &SweepStatus) -> String {
    let recorded: usize = st.recorded.values().sum();
    let by: Vec<String> = st
        .recorded
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    format!(
        "runs: {recorded} of {} recorded{}, {} running, {} remaining\n",
        st.runs_total,
        if by.is_empty() {
            String::new()
        } else {
            format!(" ({})", by.join(", "))
        },
        usize::from(st.running.is_some()),
        st.remaining
    )
}

/// Elapsed time and, while runs are left, the ETA and what it leaves out.
fn time_line(st: &SweepStatus) -> String {
    let time = |s: Option<f64>| s.map_or("unknown".into(), human_duration);
    let mut out = format!("elapsed: {}", time(st.elapsed_s));
    if st.remaining > 0 || st.running.is_some() {
        out.push_str(&format!(
            " · ETA: {} (the planner's estimate of the runs left, scaled by how the finished runs compared with theirs",
            time(st.eta_s)
        ));
        if st.undecided > 0 {
            out.push_str(&format!(
                "; not counting the {} run(s) of rungs not decided yet",
                st.undecided
            ));
        }
        out.push(')');
    }
    out.push('\n');
    out
}

/// Energy (with its quality and the runs it leaves out) and CO₂e so far.
fn energy_line(st: &SweepStatus) -> String {
    let quality = st
        .energy_quality
        .map_or(String::new(), |q| format!(" ({q})"));
    let mut out = format!("energy so far: {}{quality}", energy(st.energy_j));
    if st.energy_missing_runs > 0 {
        out.push_str(&format!(
            ", not counting {} run(s) whose energy is missing",
            st.energy_missing_runs
        ));
    }
    if let Some(g) = st.co2_g {
        out.push_str(&format!(" · CO₂e so far: {g:.3} g"));
    }
    out.push('\n');
    out
}

/// The run in progress: what it is, how long it has been metered, its live power.
fn running_line(r: &RunningRun) -> String {
    let mut out = format!("running: {} [{}]", r.describe, r.run_id);
    if let Some(t) = r.metered_s {
        out.push_str(&format!(" · metered for {}", human_duration(t)));
    }
    match (r.power_w, r.power_age_s) {
        (Some(w), Some(age)) => out.push_str(&format!(" · power {w:.1} W ({age:.0} s ago)")),
        (None, Some(age)) => out.push_str(&format!(
            " · no live power (last trace sample {age:.0} s ago)"
        )),
        _ => out.push_str(" · no power sample yet (warming up or loading)"),
    }
    if let Some(i) = &r.interference {
        out.push_str(&format!(
            " · other processes {} of the machine so far",
            pct(i.others_share)
        ));
    }
    out.push('\n');
    out
}

/// The best run so far by validation accuracy, with its test accuracy and training energy.
fn best_line(best: Option<&BestRun>) -> String {
    let Some(b) = best else {
        return "best so far: none yet (no run with a validation accuracy)\n".into();
    };
    let mut out = format!(
        "best so far by validation accuracy: {} [{}] · validation {}",
        b.describe,
        b.run_id,
        pct(b.val_acc)
    );
    if let Some(t) = b.test_acc {
        out.push_str(&format!(" · test {}", pct(t)));
        if let Some(n) = b.test_subset {
            out.push_str(&format!(" (test_subset {n})"));
        }
    }
    if let Some(j) = b.train_energy_j {
        out.push_str(&format!(" · training {}", energy(j)));
    }
    out.push('\n');
    out
}
