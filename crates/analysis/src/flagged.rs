//! Runs measured beside other work, and phases too short to meter: the report's list of runs (and the idle baseline) flagged
//! `interference`, and `--exclude-flagged`, which leaves those runs out of the statistics
//! through the same path as a run whose energy cannot be true ([`crate::data::left_out_because`]).

use std::fmt::Write;

use greenbench_core::INTERFERENCE_FIELD as INTERFERENCE;
use greenbench_core::{Flag, RunRecord};

use crate::data::{Sweep, EXCLUDED_AS_FLAGGED};

/// Gives each run flagged `interference` the in-memory flag that leaves it out of the
/// statistics, with the interference flag's reason (`report --exclude-flagged`); returns how
/// many. The records on disk are not changed.
pub fn exclude_flagged(records: &mut [RunRecord]) -> usize {
    let mut n = 0;
    for r in records.iter_mut() {
        let why = r
            .flag(INTERFERENCE)
            .map(|f| format!("--exclude-flagged: interference: {}", f.reason));
        if let Some(reason) = why {
            r.flags.push(Flag {
                field: EXCLUDED_AS_FLAGGED.into(),
                reason,
            });
            n += 1;
        }
    }
    n
}

/// The report's note on phases shorter than the meter resolves (flags `train.window`,
/// `inference.window`): their energy is approximate. Nothing when there is none.
pub fn short_window_note(md: &mut String, records: &[RunRecord]) {
    let short: Vec<String> = records
        .iter()
        .flat_map(|r| {
            r.flags
                .iter()
                .filter(|f| f.field.ends_with(".window"))
                .map(move |f| format!("`{}` ({})", r.run_id, f.field.trim_end_matches(".window")))
        })
        .collect();
    if short.is_empty() {
        return;
    }
    let shown: Vec<&str> = short.iter().take(20).map(String::as_str).collect();
    let _ = writeln!(
        md,
        "**Phases shorter than the meter resolves** ({}): {}{}. Their energy is approximate (too few \
         samples or counter updates); each record's flag gives the window and the meter's limit.\n",
        short.len(),
        shown.join(", "),
        if short.len() > shown.len() { ", …" } else { "" }
    );
}

/// The report's section on runs measured beside other work (nothing when none is flagged):
/// each run with the others' share of the machine, and the idle baseline when it is flagged.
pub fn interference_section(md: &mut String, sweep: &Sweep, excluded: bool) {
    let runs = crate::table::interference::flagged(&sweep.records);
    let idle = sweep
        .manifest
        .as_ref()
        .and_then(|m| m.idle_flags.iter().find(|f| f.field == INTERFERENCE));
    if runs.is_empty() && idle.is_none() {
        return;
    }
    let _ = writeln!(md, "## Runs measured beside other work\n");
    if let Some(f) = idle {
        let _ = writeln!(md, "The idle baseline is flagged: {}\n", f.reason);
    }
    if !runs.is_empty() {
        let _ = writeln!(md, "{}\n", flagged_prose(runs.len(), excluded));
        let table = crate::table::interference::build(&runs);
        let _ = writeln!(md, "{}", crate::table::markdown::render(&table));
    }
}

/// The same section in report.html (the runs; nothing when none is flagged).
pub fn interference_html(h: &mut String, records: &[RunRecord]) {
    let runs = crate::table::interference::flagged(records);
    if runs.is_empty() {
        return;
    }
    let excluded = records.iter().any(|r| r.is_flagged(EXCLUDED_AS_FLAGGED));
    let table = crate::table::interference::build(&runs);
    let _ = writeln!(
        h,
        "<h2>Runs measured beside other work</h2>\n<p>{}</p>\n{}",
        crate::table::html::escape(&flagged_prose(runs.len(), excluded)),
        crate::table::html::render(&table, "interference")
    );
}

/// What the flag means and whether the flagged runs are in the statistics.
fn flagged_prose(n: usize, excluded: bool) -> String {
    format!(
        "{n} run(s) flagged `interference`: other processes used more than the sweep's threshold of the \
         machine during them, so their time and energy include that work. {}",
        if excluded {
            "They are left out of the statistics (`--exclude-flagged`)."
        } else {
            "They are in the statistics; `greenbench report --exclude-flagged` leaves them out."
        }
    )
}
