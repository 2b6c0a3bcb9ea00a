//! The report's "Search" section: the strategy, one row per rung, the chosen configuration,
//! the energy spent against the budget and against the full grid, and the runs the budget
//! refused.

use std::fmt::Write as _;

use greenbench_core::{Budget, Strategy};

use crate::numbers::sig;
use crate::search::{saving_pct, within, GridComparison, SearchSummary, Spent, WITHIN_PP};

/// Skipped runs listed by name; the rest are counted.
const SKIPPED_LISTED: usize = 5;

/// Energy in Wh, or in J below 0.1 Wh (a small search's figures stay readable).
fn wh(j: f64) -> String {
    if j.abs() < 360.0 {
        format!("{} J", sig(j, 3))
    } else {
        format!("{} Wh", sig(j / 3600.0, 3))
    }
}

/// Wall time in h, or in s below 0.1 h.
fn hours(s: f64) -> String {
    if s < 360.0 {
        format!("{} s", sig(s, 3))
    } else {
        format!("{} h", sig(s / 3600.0, 3))
    }
}

fn pct(v: f64) -> String {
    format!("{:.2} %", v * 100.0)
}

/// Writes the section (see the module doc).
pub(crate) fn write(md: &mut String, s: &SearchSummary, grid: Option<&GridComparison>) {
    let _ = writeln!(md, "## Search\n");
    strategy(md, s);
    rungs(md, s);
    chosen(md, s);
    budget(md, &s.config.budget, &s.spent);
    full_grid(md, s, grid);
    skipped(md, s);
}

fn strategy(md: &mut String, s: &SearchSummary) {
    let c = &s.config;
    let what =
        match c.strategy {
            Strategy::Halving => format!(
            "successive halving (eta = {}, min_epochs = {}, max_epochs = {}: rungs of {} epochs{})",
            c.eta,
            c.min_epochs,
            c.max_epochs.map_or("—".into(), |m| m.to_string()),
            c.rung_epochs()
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if s.brackets > 1 {
                format!("; {} Hyperband brackets, bracket b starting at rung b", s.brackets)
            } else {
                String::new()
            }
        ),
            Strategy::Random => format!(
                "random (samples = {}, seed = {}{})",
                c.samples.map_or("—".into(), |n| n.to_string()),
                c.seed,
                c.lr_range
                    .map(|[lo, hi]| {
                        let show = greenbench_core::compact_number;
                        format!(", lr log-uniform in [{}, {})", show(lo), show(hi))
                    })
                    .unwrap_or_default()
            ),
            Strategy::Grid => "grid (every configuration)".into(),
        };
    let val = s
        .validation_samples
        .map(|n| format!("validation accuracy ({n} held-out training samples)"))
        .unwrap_or_else(|| "validation accuracy".into());
    let _ = writeln!(
        md,
        "Strategy: {what}; objective `{}`, judged on {val}, never the test set. Energies in this \
         section are raw training energy (idle power not subtracted), as the search and its budget \
         count them; a later rung's run records only its own epochs, and a configuration's energy \
         is the sum over its rungs.\n",
        c.objective.name()
    );
}

fn rungs(md: &mut String, s: &SearchSummary) {
    let several = s.brackets > 1;
    let _ = writeln!(
        md,
        "| {}rung | epochs | configurations | ok | diverged | skipped | other | training energy of the rung | promoted to the next rung |\n|{}---:|---:|---:|---:|---:|---:|---:|---:|---|",
        if several { "bracket | " } else { "" },
        if several { "---:|" } else { "" }
    );
    for r in &s.rungs {
        let promoted = if r.promoted.is_empty() {
            "—".to_string()
        } else {
            r.promoted
                .iter()
                .map(|&i| s.configurations[i].label.clone())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let missing = if r.energy_missing > 0 {
            format!(" ({} run(s) without a figure left out)", r.energy_missing)
        } else {
            String::new()
        };
        let bracket = if several {
            format!("{} | ", r.bracket)
        } else {
            String::new()
        };
        let _ = writeln!(
            md,
            "| {bracket}{} | {} | {} | {} | {} | {} | {} | {}{missing} | {promoted} |",
            r.rung,
            r.epochs,
            r.runs,
            r.ok,
            r.diverged,
            r.skipped,
            r.other,
            wh(r.energy_j)
        );
    }
    md.push('\n');
}

fn chosen(md: &mut String, s: &SearchSummary) {
    let (Some(i), Some(rung)) = (s.chosen, s.chosen_rung) else {
        let _ = writeln!(
            md,
            "**Chosen configuration:** none — no configuration ended ok with a validation accuracy.\n"
        );
        return;
    };
    let c = &s.configurations[i];
    let last = s.rungs.len().saturating_sub(1);
    let among = if s.brackets > 1 {
        format!(
            "among the configurations of all {} brackets that reached {} epochs",
            s.brackets, c.judged_epochs
        )
    } else if rung == last {
        format!("among the last rung (rung {rung})")
    } else {
        format!("among rung {rung}, the deepest with an ok run (the last rung, {last}, has none)")
    };
    let test = match (c.test_acc, c.test_images) {
        (Some(a), Some(n)) => format!(
            "test accuracy {} ({n} images{})",
            pct(a),
            if c.test_subset { ", test_subset" } else { "" }
        ),
        (Some(a), None) => format!("test accuracy {}", pct(a)),
        _ => "test accuracy missing".into(),
    };
    let _ = writeln!(
        md,
        "**Chosen configuration: {}** — best by the objective `{}` on validation accuracy {among}: \
         validation accuracy {} after {} epochs; {test}, measured once at the end; training energy \
         {} over its {} rung(s) (runs {}).\n",
        c.label,
        s.config.objective.name(),
        c.val_acc.map_or("missing".into(), pct),
        c.judged_epochs,
        c.judged_energy_j.map_or("missing".into(), wh),
        rung + 1,
        c.run_ids[..=rung.min(c.run_ids.len() - 1)]
            .iter()
            .map(|id| format!("`{id}`"))
            .collect::<Vec<_>>()
            .join(" → ")
    );
}

fn budget(md: &mut String, b: &Budget, spent: &Spent) {
    let _ = writeln!(
        md,
        "Spent by the whole search (every run, training + inference): {} ({} training, {} \
         inference), {} wall time, {} g CO₂e.\n",
        wh(spent.total_j()),
        wh(spent.train_j),
        wh(spent.inference_j),
        hours(spent.seconds),
        sig(spent.co2_g, 3)
    );
    if !b.is_set() {
        let _ = writeln!(md, "No budget was set.\n");
        return;
    }
    let _ = writeln!(
        md,
        "| budget | limit | spent | left |\n|---|---:|---:|---:|"
    );
    let rows = [
        ("energy (kWh)", b.energy_kwh, spent.total_j() / 3.6e6),
        ("wall time (h)", b.hours, spent.seconds / 3600.0),
        ("emissions (g CO₂e)", b.co2_g, spent.co2_g),
    ];
    for (name, limit, used) in rows {
        if let Some(limit) = limit {
            let left = if used > limit {
                format!("0 (over by {})", sig(used - limit, 3))
            } else {
                sig(limit - used, 3)
            };
            let _ = writeln!(
                md,
                "| {name} | {} | {} | {left} |",
                sig(limit, 3),
                sig(used, 3)
            );
        }
    }
    md.push('\n');
}

fn full_grid(md: &mut String, s: &SearchSummary, grid: Option<&GridComparison>) {
    match grid {
        Some(g) => measured_grid(md, s, g),
        None => match &s.grid_prediction {
            Some(p) => {
                let saving = saving_pct(s.spent.train_j, p.energy_j)
                    .map(|v| format!("; the search's training energy is {v:.1} % less"))
                    .unwrap_or_default();
                let left = if p.left_out > 0 {
                    format!(
                        " ({} configuration(s) without a first-rung energy figure left out)",
                        p.left_out
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(
                    md,
                    "Full grid, **predicted** (not measured): {} of training energy for {} configurations × {} \
                     epochs{left}, summing each configuration's first-rung training energy per epoch × \
                     max_epochs. The search spent {} on training{saving}. Measure it instead with \
                     `greenbench report DIR --compare-grid GRIDDIR`.\n",
                    wh(p.energy_j),
                    p.configurations,
                    p.max_epochs,
                    wh(s.spent.train_j)
                );
            }
            None => {
                let _ = writeln!(
                    md,
                    "Full grid: not predicted (only a halving search's first rung gives every configuration's \
                     energy per epoch); give `--compare-grid GRIDDIR` to compare with a measured grid.\n"
                );
            }
        },
    }
}

fn measured_grid(md: &mut String, s: &SearchSummary, g: &GridComparison) {
    let saving = |a: f64, b: f64| saving_pct(a, b).map_or("—".into(), |v| format!("{v:.1} %"));
    let _ = writeln!(
        md,
        "Full grid, **measured** in `{}` ({} runs, {} ok):\n\n| energy | search | full grid | saving |\n|---|---:|---:|---:|\n| training | {} | {} | {} |\n| training + inference | {} | {} | {} |\n",
        g.dir.display(),
        g.runs,
        g.runs_ok,
        wh(s.spent.train_j),
        wh(g.spent.train_j),
        saving(s.spent.train_j, g.spent.train_j),
        wh(s.spent.total_j()),
        wh(g.spent.total_j()),
        saving(s.spent.total_j(), g.spent.total_j()),
    );
    let chosen = s.chosen.and_then(|i| s.configurations[i].val_acc);
    match (&g.best_val, chosen) {
        (Some((label, best)), Some(c)) => {
            let verdict = if within(c, *best) {
                "within"
            } else {
                "NOT within"
            };
            let _ = writeln!(
                md,
                "The grid's best validation accuracy: {} ({label}); the search's choice: {} — {:+.2} percentage points, \
                 **{verdict} {WITHIN_PP} percentage points** of the grid's best.\n",
                pct(*best),
                pct(c),
                (c - best) * 100.0
            );
        }
        _ => {
            let _ = writeln!(
                md,
                "No verdict: the grid or the search has no ok run with a validation accuracy.\n"
            );
        }
    }
}

fn skipped(md: &mut String, s: &SearchSummary) {
    if s.skipped.is_empty() {
        return;
    }
    let _ = writeln!(
        md,
        "{} run(s) refused by the budget (status `skipped`):\n",
        s.skipped.len()
    );
    for (id, label, why) in s.skipped.iter().take(SKIPPED_LISTED) {
        let _ = writeln!(md, "- `{id}` ({label}): {}", why.replace('\n', " "));
    }
    if s.skipped.len() > SKIPPED_LISTED {
        let _ = writeln!(
            md,
            "- … and {} more (see runs.csv).",
            s.skipped.len() - SKIPPED_LISTED
        );
    }
    md.push('\n');
}
