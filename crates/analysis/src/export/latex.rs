//! `tables/*.tex`: the correlation, per-model and Pareto tables as booktabs tables with
//! siunitx `S` columns (numbers aligned on the decimal point, units in the headers).
//!
//! Each `NAME.tex` is a `table` float to `\input` into a paper (it needs `booktabs` and
//! `siunitx` in the preamble); `NAME-standalone.tex` is a minimal `article` that `\input`s it
//! and compiles on its own (`pdflatex NAME-standalone.tex` inside `tables/`). Everything is
//! ASCII: units and symbols are written as LaTeX commands.

use std::path::{Path, PathBuf};

use greenbench_core::record::RunRecord;

use crate::carbon::CarbonSettings;
use crate::correlation::{Headline, PairResult};
use crate::data::{self, EnergyBasis};
use crate::groups::{config_groups, per_model};
use crate::numbers::sig;
use crate::pareto::{configuration_points, pareto_front};
use crate::stats::{Correlation, Stat};
use crate::AnalysisError;

/// Escapes text for LaTeX's text mode; the symbols this project prints (≈, ρ, Δ, ≥, ×, ±, –, …)
/// become LaTeX commands, any other non-ASCII character becomes `?`.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                o.push('\\');
                o.push(c);
            }
            '~' => o.push_str("\\textasciitilde{}"),
            '^' => o.push_str("\\textasciicircum{}"),
            '<' => o.push_str("\\textless{}"),
            '>' => o.push_str("\\textgreater{}"),
            '≈' => o.push_str("$\\approx$"),
            'ρ' => o.push_str("$\\rho$"),
            'σ' => o.push_str("$\\sigma$"),
            'Δ' => o.push_str("$\\Delta$"),
            '≥' => o.push_str("$\\geq$"),
            '≤' => o.push_str("$\\leq$"),
            '×' => o.push_str("$\\times$"),
            '±' => o.push_str("$\\pm$"),
            '·' => o.push_str("$\\cdot$"),
            '−' => o.push_str("$-$"),
            '–' => o.push_str("--"),
            '—' => o.push_str("---"),
            '…' => o.push_str("\\ldots{}"),
            '→' => o.push_str("$\\rightarrow$"),
            c if c.is_ascii() => o.push(c),
            _ => o.push('?'),
        }
    }
    o
}

/// A number cell for an `S` column: the number, or a braced text cell when absent.
fn num(x: Option<f64>, digits: usize) -> String {
    match x.filter(|v| v.is_finite()) {
        Some(v) => sig(v, digits),
        None => "{--}".into(),
    }
}

/// `table-format` for an `S` column holding `cells` (text cells in braces are skipped).
fn table_format(cells: &[String]) -> String {
    let (mut int, mut dec, mut exp, mut sign) = (1usize, 0usize, 0usize, false);
    for c in cells.iter().filter(|c| !c.starts_with('{')) {
        let (mant, e) = match c.split_once('e') {
            Some((m, e)) => (m, Some(e)),
            None => (c.as_str(), None),
        };
        sign |= mant.starts_with('-');
        let mant = mant.trim_start_matches('-');
        let (i, d) = mant.split_once('.').unwrap_or((mant, ""));
        int = int.max(i.len());
        dec = dec.max(d.len());
        if let Some(e) = e {
            exp = exp.max(e.trim_start_matches(['-', '+']).len() + 1);
        }
    }
    let mut f = String::new();
    if sign {
        f.push('-');
    }
    f.push_str(&format!("{int}.{dec}"));
    if exp > 0 {
        f.push_str(&format!("e-{}", exp - 1));
    }
    f
}

/// One table: caption, label, column specs (`l` or `S`), header and rows of cells.
struct Table {
    caption: String,
    label: &'static str,
    /// `None` = text column (`l`), `Some(())` = number column (`S`, format from its cells).
    numeric: Vec<bool>,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    note: String,
}

impl Table {
    fn render(&self) -> String {
        let cols: Vec<String> = self
            .numeric
            .iter()
            .enumerate()
            .map(|(j, &n)| {
                if n {
                    let cells: Vec<String> = self.rows.iter().map(|r| r[j].clone()).collect();
                    format!("S[table-format={}]", table_format(&cells))
                } else {
                    "l".into()
                }
            })
            .collect();
        let mut s = String::new();
        s.push_str("% Written by `greenbench report`; needs \\usepackage{booktabs} and \\usepackage{siunitx}.\n");
        s.push_str("\\begin{table}[htbp]\n\\centering\n\\small\n");
        s.push_str(&format!("\\caption{{{}}}\n", self.caption));
        s.push_str(&format!("\\label{{{}}}\n", self.label));
        s.push_str(&format!(
            "\\begin{{tabular}}{{{}}}\n\\toprule\n",
            cols.join(" ")
        ));
        // Headers of S columns are braced so siunitx does not parse them as numbers.
        let head: Vec<String> = self.header.iter().map(|h| format!("{{{h}}}")).collect();
        s.push_str(&format!("{} \\\\\n\\midrule\n", head.join(" & ")));
        for r in &self.rows {
            s.push_str(&format!("{} \\\\\n", r.join(" & ")));
        }
        s.push_str("\\bottomrule\n\\end{tabular}\n");
        if !self.note.is_empty() {
            s.push_str(&format!("\\par\\smallskip\\footnotesize {}\n", self.note));
        }
        s.push_str("\\end{table}\n");
        s
    }
}

fn standalone(name: &str) -> String {
    format!(
        "% Compiles on its own: `pdflatex {name}-standalone.tex` in this folder.\n\
         \\documentclass{{article}}\n\
         \\usepackage[T1]{{fontenc}}\n\
         \\usepackage{{booktabs}}\n\
         \\usepackage{{siunitx}}\n\
         \\usepackage[margin=1.5cm,landscape]{{geometry}}\n\
         \\begin{{document}}\n\
         \\input{{{name}.tex}}\n\
         \\end{{document}}\n"
    )
}

/// A correlation's cells: coefficient, 95 % bootstrap interval and p-value.
fn coef(c: &Stat<Correlation>) -> [String; 3] {
    match c {
        Ok(c) => [
            format!("{:.3}", c.coefficient),
            match &c.ci95 {
                Some(ci) => format!("[{:.2}, {:.2}]", ci.lo, ci.hi),
                None => "n/a".into(),
            },
            sig(c.p_value, 2),
        ],
        Err(_) => ["{n/a}".into(), "n/a".into(), "{n/a}".into()],
    }
}

fn correlation_table(study: &[PairResult], basis: EnergyBasis, quality: &str) -> Table {
    let rows = study
        .iter()
        .map(|p| {
            let [pr, pci, pp] = coef(&p.pearson);
            let [sr, sci, sp] = coef(&p.spearman);
            let (n, method) = match (&p.pearson, &p.spearman) {
                (Ok(c), _) | (_, Ok(c)) => (c.n.to_string(), c.p_method.to_string()),
                _ => ("{--}".into(), "--".into()),
            };
            let unit = if p.unit.starts_with("model") {
                "model"
            } else {
                "run"
            };
            let quoted = match p.headline {
                Headline::Pearson => "$r$",
                Headline::Spearman => "$\\rho$",
            };
            vec![
                escape(p.pair),
                unit.into(),
                pr,
                pci,
                pp,
                sr,
                sci,
                sp,
                n,
                method,
                quoted.into(),
                escape(p.paper),
            ]
        })
        .collect();
    Table {
        caption: format!(
            "Correlations beside the paper's coefficients (Pearson $r$, Spearman $\\rho$, each with its 95\\,\\% \
             percentile-bootstrap interval over {} resamples of the pairs and two-sided $p$: exact permutation \
             for $n \\leq {}$, else the $t$ approximation). Energy: {} training energy ({}).",
            crate::resample::BOOTSTRAP_RESAMPLES,
            crate::resample::EXACT_MAX_N,
            basis.name(),
            escape(quality)
        ),
        label: "tab:greenbench-correlations",
        numeric: vec![
            false, false, true, false, true, true, false, true, true, false, false, false,
        ],
        header: vec![
            "pair".into(),
            "point".into(),
            "Pearson $r$".into(),
            "95\\,\\% CI".into(),
            "$p$".into(),
            "Spearman $\\rho$".into(),
            "95\\,\\% CI".into(),
            "$p$".into(),
            "$n$".into(),
            "$p$ method".into(),
            "paper quotes".into(),
            "paper".into(),
        ],
        rows,
        note: String::new(),
    }
}

fn models_table(
    runs: &[&RunRecord],
    basis: EnergyBasis,
    quality: &str,
    carbon: &CarbonSettings,
) -> Table {
    let groups = config_groups(runs);
    let (ctx, models) = per_model(&groups);
    let rows = models
        .iter()
        .map(|g| {
            let m = g.first().and_then(|r| r.model.as_ref());
            vec![
                escape(&g.model),
                num(m.map(|m| m.params as f64 / 1e6), 3),
                num(m.map(|m| m.macs_per_sample as f64 / 1e6), 3),
                num(m.map(|m| m.macs_per_param), 3),
                g.runs.len().to_string(),
                num(g.mean(|r| r.train.as_ref().map(|t| t.duration_s)), 3),
                num(g.mean(|r| basis.train_j(r)).map(data::wh), 3),
                num(g.mean(|r| basis.inference_j(r)).map(data::wh), 3),
                num(g.mean(data::accuracy).map(|a| a * 100.0), 4),
                num(
                    g.mean(|r| basis.train_j(r).map(|j| carbon.grams_for(r, j))),
                    3,
                ),
            ]
        })
        .collect();
    Table {
        caption: format!(
            "Per model, mean over repeats, at {}. Energy: {} ({}); CO$_2$-eq at {} g/kWh $\\times$ PUE {} (source: {}).",
            escape(&ctx.map(|c| c.to_string()).unwrap_or_else(|| "no setting".into())),
            basis.name(),
            escape(quality),
            sig(carbon.intensity_g_per_kwh, 3),
            carbon.pue,
            escape(&carbon.source)
        ),
        label: "tab:greenbench-models",
        numeric: vec![
            false, true, true, true, true, true, true, true, true, true,
        ],
        header: vec![
            "model".into(),
            "params (M)".into(),
            "MACs/sample (M)".into(),
            "MACs/param".into(),
            "runs".into(),
            "train time (\\si{\\second})".into(),
            "train energy (\\si{\\watt\\hour})".into(),
            "inference energy (\\si{\\watt\\hour})".into(),
            "test acc. (\\si{\\percent})".into(),
            "train CO$_2$-eq (\\si{\\gram})".into(),
        ],
        rows,
        note: String::new(),
    }
}

fn pareto_table(runs: &[&RunRecord], basis: EnergyBasis, quality: &str) -> Table {
    let source = data::AccuracySource::choose(runs);
    let (groups, pts) = configuration_points(runs, basis, source);
    let front = pareto_front(&pts.iter().map(|p| (p.1, p.2)).collect::<Vec<_>>());
    let rows = front
        .iter()
        .map(|&i| {
            let (gi, e, a) = pts[i];
            let g = &groups[gi];
            vec![
                escape(&g.model),
                g.context.batch_size.to_string(),
                escape(&g.context.lr),
                g.context.epochs.to_string(),
                sig(data::wh(e), 3),
                format!("{:.2}", a * 100.0),
            ]
        })
        .collect();
    Table {
        caption: format!(
            "Accuracy--energy Pareto front: {} of {} configurations (mean over repeats) are not beaten on both lower \
             training energy ({}, {}) and higher {}.",
            front.len(),
            pts.len(),
            basis.name(),
            escape(quality),
            source.name()
        ),
        label: "tab:greenbench-pareto",
        numeric: vec![false, true, true, true, true, true],
        header: vec![
            "model".into(),
            "batch".into(),
            "lr".into(),
            "epochs".into(),
            "train energy (\\si{\\watt\\hour})".into(),
            match source {
                data::AccuracySource::Validation => "val. acc. (\\si{\\percent})".into(),
                data::AccuracySource::Test => "test acc. (\\si{\\percent})".into(),
            },
        ],
        rows,
        note: String::new(),
    }
}

/// Writes `tables/{correlations,models,pareto}.tex` and their `-standalone.tex` wrappers into
/// `dir`; returns the files written.
pub fn write_tables(
    dir: &Path,
    study: &[PairResult],
    runs: &[&RunRecord],
    basis: EnergyBasis,
    quality: &str,
    carbon: &CarbonSettings,
) -> Result<Vec<PathBuf>, AnalysisError> {
    std::fs::create_dir_all(dir).map_err(|e| AnalysisError::io("creating", dir, e))?;
    let tables = [
        ("correlations", correlation_table(study, basis, quality)),
        ("models", models_table(runs, basis, quality, carbon)),
        ("pareto", pareto_table(runs, basis, quality)),
    ];
    let mut files = Vec::new();
    for (name, t) in tables {
        for (path, text) in [
            (dir.join(format!("{name}.tex")), t.render()),
            (dir.join(format!("{name}-standalone.tex")), standalone(name)),
        ] {
            std::fs::write(&path, text).map_err(|e| AnalysisError::io("writing", &path, e))?;
            files.push(path);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_specials_and_symbols_to_ascii() {
        assert_eq!(escape("mlp_small 5% & #1"), "mlp\\_small 5\\% \\& \\#1");
        assert_eq!(
            escape("ρ ≈ 0.9 (0.85–0.92)"),
            "$\\rho$ $\\approx$ 0.9 (0.85--0.92)"
        );
        assert!(escape("日本").is_ascii());
    }

    #[test]
    fn table_format_covers_sign_digits_and_exponents() {
        let c = |v: &[&str]| table_format(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(c(&["0.982", "-0.349", "{n/a}"]), "-1.3");
        assert_eq!(c(&["123.4", "5"]), "3.1");
        assert_eq!(c(&["1.78e-6", "0.5"]), "1.2e-1");
    }
}
