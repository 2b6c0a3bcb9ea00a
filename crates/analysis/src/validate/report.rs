//! `validation.md` and its figure.

use std::fmt::Write as _;
use std::path::Path;

use super::{validate, ValidateOptions, Validation, ValidationError};
use crate::numbers::{duration, energy};
use crate::AnalysisError;

/// A relative error as a signed percentage with two decimals (`+10.00 %`), `—` without one.
pub fn percent(e: Option<f64>) -> String {
    e.map_or_else(|| "—".into(), |e| format!("{:+.2} %", e * 100.0))
}

/// UTC time of Unix seconds, to the millisecond.
fn utc(t: f64) -> String {
    chrono::DateTime::from_timestamp_millis((t * 1000.0).round() as i64).map_or_else(
        || format!("{t:.1}"),
        |d| d.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
    )
}

/// The Markdown text of a validation (`figure`: the figure's file name, if drawn).
pub fn markdown(v: &Validation, figure: Option<&str>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Validation against a wall meter\n");
    let _ = writeln!(
        s,
        "Sweep `{}`; wall log `{}`: {} rows, {} to {} UTC, median interval {}{}.\n",
        v.dir.display(),
        v.wall_path.display(),
        v.wall_rows,
        utc(v.wall_span.0),
        utc(v.wall_span.1),
        duration(v.wall_interval_s),
        if v.offset_s != 0.0 {
            format!(", shifted by {:+.3} s (--offset)", v.offset_s)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        s,
        "- **Window** of a run: its trace's span, ending at the record's `finished_at`.\n\
         - **greenbench**: the trace's power integrated over the window, minus the idle power the \
         run's record subtracted (raw − net training energy ÷ training seconds) × window; a record \
         without a net figure is compared raw.\n\
         - **wall net**: the wall log's energy over the window − wall idle × window; wall idle \
         {:.2} W ({}).\n\
         - **error** = greenbench ÷ wall net − 1 (negative: greenbench reports less than the wall \
         meter saw).\n",
        v.idle.watts, v.idle.how
    );
    match v.overall_error() {
        Some(e) => {
            let gb: f64 = v.runs.iter().map(|r| r.greenbench_j).sum();
            let wall: f64 = v.runs.iter().map(|r| r.wall_net_j).sum();
            let errs: Vec<f64> = v.runs.iter().filter_map(|r| r.error()).collect();
            let (lo, hi) = errs
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), e| {
                    (a.min(*e), b.max(*e))
                });
            let _ = writeln!(
                s,
                "**Overall: error {}** over {} run(s): greenbench {} against wall net {}; per run \
                 from {} to {}.\n",
                percent(Some(e)),
                v.runs.len(),
                energy(gb),
                energy(wall),
                percent(lo.is_finite().then_some(lo)),
                percent(hi.is_finite().then_some(hi)),
            );
        }
        None => {
            let _ = writeln!(
                s,
                "**Overall: no error** — the wall net energy of the compared runs is not above 0.\n"
            );
        }
    }
    let _ = writeln!(
        s,
        "| run | model | window start (UTC) | window | greenbench | quality | basis | trace coverage | wall | wall net | error |\n\
         |---|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in &v.runs {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {:.0} % | {} | {} | {} |",
            r.run_id,
            r.model,
            utc(r.window.0),
            duration(r.seconds()),
            energy(r.greenbench_j),
            r.quality,
            if r.net {
                format!("net of {:.2} W", r.greenbench_idle_w)
            } else {
                "raw".into()
            },
            r.trace_coverage * 100.0,
            energy(r.wall_j),
            energy(r.wall_net_j),
            percent(r.error()),
        );
    }
    if !v.skipped.is_empty() {
        let _ = writeln!(s, "\nRuns not compared:\n");
        for (id, why) in &v.skipped {
            let _ = writeln!(s, "- {id}: {why}");
        }
    }
    if let Some(f) = figure {
        let _ = writeln!(
            s,
            "\n![greenbench vs wall meter]({f})\n\nOne point per run: wall net energy (x) against \
             greenbench's (y); points on the grey line agree."
        );
    }
    s
}

/// Validates the sweep in `dir` against the wall log and writes `dir/validation.md` and
/// `dir/validation.{svg,png,pdf}`. At least one run must be compared.
pub fn write_validation(dir: &Path, opts: &ValidateOptions) -> Result<Validation, ValidationError> {
    let v = validate(dir, opts)?;
    if v.runs.is_empty() {
        let reasons = v
            .skipped
            .iter()
            .map(|(id, why)| format!("  {id}: {why}"))
            .collect::<Vec<_>>()
            .join("\n");
        return Err(ValidationError::NothingCompared {
            dir: dir.to_path_buf(),
            reasons: if reasons.is_empty() {
                "  runs.jsonl holds no records".into()
            } else {
                reasons
            },
        });
    }
    let points: Vec<(f64, f64)> = v
        .runs
        .iter()
        .map(|r| (r.wall_net_j, r.greenbench_j))
        .collect();
    let label = if v.runs.iter().all(|r| r.net) {
        "net of its idle"
    } else {
        "net of its idle where recorded, else raw"
    };
    let fig = crate::figures::validation::write(dir, &points, label)?;
    let name = fig
        .files
        .iter()
        .find(|f| f.extension().is_some_and(|e| e == "svg"))
        .and_then(|f| f.file_name())
        .map(|f| f.to_string_lossy().into_owned());
    let md = dir.join("validation.md");
    std::fs::write(&md, markdown(&v, name.as_deref()))
        .map_err(|e| ValidationError::Sweep(AnalysisError::io("writing", &md, e)))?;
    Ok(v)
}
