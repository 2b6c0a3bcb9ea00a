//! The report's per-model section: the per-model table (mean over repeats ± 95 % t-interval, n,
//! coefficient of variation of training time and energy) and a warning naming every
//! configuration whose repeats vary by more than [`CV_WARN`].

use std::fmt::Write as _;

use crate::context::ReportContext;
use crate::groups::{config_groups, ConfigGroup, CV_WARN};
use crate::table;
use crate::table::html::escape;

/// A configuration whose training time or energy varies by more than [`CV_WARN`] over repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct Noisy {
    /// `model at setting`.
    pub configuration: String,
    /// Repeats with the figure.
    pub n: usize,
    /// What varies and by how much: `energy CV 12.3 %, time CV 11.0 %`.
    pub what: String,
}

/// The configurations of `ctx` whose repeats' training energy or time has a CV above
/// [`CV_WARN`], in configuration order.
pub fn noisy_configurations(ctx: &ReportContext) -> Vec<Noisy> {
    let basis = ctx.basis;
    config_groups(ctx.runs)
        .iter()
        .filter_map(|g: &ConfigGroup| {
            let figures = [
                ("energy", g.spread(|r| basis.train_j(r))),
                ("time", g.spread(|r| r.train.as_ref().map(|t| t.duration_s))),
            ];
            let over: Vec<String> = figures
                .iter()
                .filter_map(|(name, s)| {
                    let s = s.filter(|s| s.noisy())?;
                    Some(format!("{name} CV {:.1} %", s.cv()? * 100.0))
                })
                .collect();
            (!over.is_empty()).then(|| Noisy {
                configuration: format!("{} at {}", g.model, g.context),
                n: g.runs.len(),
                what: over.join(", "),
            })
        })
        .collect()
}

/// What the table's numbers are, in one sentence (Markdown and HTML).
fn legend() -> String {
    format!(
        "Each figure is the mean over a configuration's repeats ± the half-width of its 95 % Student-t interval \
         (t(0.975, n − 1) · s / √n), then n; a configuration with one run shows n = 1 and no interval. \
         CV = coefficient of variation (s / mean) of training time and energy over repeats; above {:.0} % it is in bold \
         and listed below.",
        CV_WARN * 100.0
    )
}

/// The warning line naming noisy configurations, or `None` when there are none.
fn warning(noisy: &[Noisy]) -> Option<String> {
    if noisy.is_empty() {
        return None;
    }
    let list = noisy
        .iter()
        .map(|n| format!("{} (n = {}: {})", n.configuration, n.n, n.what))
        .collect::<Vec<_>>()
        .join("; ");
    Some(format!(
        "Warning: {} configuration(s) vary by more than {:.0} % over repeats, more than most effects this report \
         compares; run more repeats or check the machine for other load: {list}.",
        noisy.len(),
        CV_WARN * 100.0
    ))
}

/// The section in Markdown.
pub(crate) fn markdown(md: &mut String, ctx: &ReportContext) {
    let (t, setting) = table::models::build(ctx);
    let _ = writeln!(md, "## Per model, mean over repeats\n");
    let Some(setting) = setting else {
        let _ = writeln!(md, "No ok run.\n");
        return;
    };
    let _ = writeln!(md, "At {setting}. {}\n", legend());
    md.push_str(&table::markdown::render(&t));
    md.push('\n');
    if let Some(w) = warning(&noisy_configurations(ctx)) {
        let _ = writeln!(md, "**{w}**\n");
    }
}

/// The section in HTML.
pub(crate) fn html(h: &mut String, ctx: &ReportContext) {
    let (t, setting) = table::models::build(ctx);
    let _ = writeln!(h, "<h2>Per model, mean over repeats</h2>");
    let Some(setting) = setting else {
        let _ = writeln!(h, "<p>No ok run.</p>");
        return;
    };
    let _ = writeln!(
        h,
        "<p>At {}. {}</p>",
        escape(&setting.to_string()),
        escape(&legend())
    );
    h.push_str(&table::html::render(&t, "models"));
    if let Some(w) = warning(&noisy_configurations(ctx)) {
        let _ = writeln!(h, "<p><b>{}</b></p>", escape(&w));
    }
}
