//! `tables/*.tex`: the correlation, per-model and Pareto tables ([`crate::table`]) as booktabs
//! tables with siunitx `S` columns (numbers aligned on the decimal point, units in the headers).
//!
//! Each `NAME.tex` is a `table` float to `\input` into a paper (it needs `booktabs` and
//! `siunitx` in the preamble); `NAME-standalone.tex` is a minimal `article` that `\input`s it
//! and compiles on its own (`pdflatex NAME-standalone.tex` inside `tables/`). Everything is
//! ASCII: units and symbols are written as LaTeX commands.

use std::path::{Path, PathBuf};

use crate::context::ReportContext;
use crate::correlation::PairResult;
use crate::numbers::sig;
use crate::table::latex::{render, standalone, Float};
use crate::table::{self, Table};
use crate::AnalysisError;

pub use crate::table::latex::escape;

fn correlations(study: &[PairResult], ctx: &ReportContext) -> (Table, String) {
    let caption = format!(
        "Correlations beside the paper's coefficients, on configuration means (repeats averaged): Pearson $r$, \
         Pearson $r$ of the logarithms and Spearman $\\rho$, each with its 95\\,\\% BCa bootstrap interval over {} \
         resamples of the configurations and their repeats and two-sided $p$: exact permutation \
         for $n \\leq {}$, else the $t$ approximation. Energy: {} training energy ({}).",
        crate::resample::BOOTSTRAP_RESAMPLES,
        crate::resample::EXACT_MAX_N,
        ctx.basis.name(),
        escape(&ctx.quality)
    );
    (table::correlations::build(study), caption)
}

fn models(ctx: &ReportContext) -> (Table, String) {
    let (t, setting) = table::models::build(ctx);
    let carbon = ctx.carbon;
    let caption = format!(
        "Per model, mean over repeats, at {}. Energy: {} ({}); CO$_2$-eq at {} g/kWh $\\times$ PUE {} (source: {}).",
        escape(&setting.map(|c| c.to_string()).unwrap_or_else(|| "no setting".into())),
        ctx.basis.name(),
        escape(&ctx.quality),
        sig(carbon.intensity_g_per_kwh, 3),
        carbon.pue,
        escape(&carbon.source)
    );
    (t, caption)
}

fn pareto(ctx: &ReportContext) -> (Table, String) {
    let p = table::pareto::build(ctx);
    let caption = format!(
        "Accuracy--energy Pareto front: {} of {} configurations (mean over repeats) are not beaten on both lower \
         training energy ({}, {}) and higher {}.",
        p.front,
        p.points,
        ctx.basis.name(),
        escape(&ctx.quality),
        p.source.name()
    );
    (p.table, caption)
}

/// Writes `tables/{correlations,models,pareto}.tex` and their `-standalone.tex` wrappers into
/// `dir`; returns the files written.
pub fn write_tables(
    dir: &Path,
    study: &[PairResult],
    ctx: &ReportContext,
) -> Result<Vec<PathBuf>, AnalysisError> {
    std::fs::create_dir_all(dir).map_err(|e| AnalysisError::io("creating", dir, e))?;
    let tables = [
        (
            "correlations",
            "tab:greenbench-correlations",
            correlations(study, ctx),
        ),
        ("models", "tab:greenbench-models", models(ctx)),
        ("pareto", "tab:greenbench-pareto", pareto(ctx)),
    ];
    let mut files = Vec::new();
    for (name, label, (t, caption)) in tables {
        let float = Float {
            caption: &caption,
            label,
        };
        for (path, text) in [
            (dir.join(format!("{name}.tex")), render(&t, &float)),
            (dir.join(format!("{name}-standalone.tex")), standalone(name)),
        ] {
            std::fs::write(&path, text).map_err(|e| AnalysisError::io("writing", &path, e))?;
            files.push(path);
        }
    }
    Ok(files)
}
