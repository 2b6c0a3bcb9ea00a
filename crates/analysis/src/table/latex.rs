//! A [`Table`] as a LaTeX `table` float: booktabs rules, siunitx `S` columns (numbers aligned
//! on the decimal point, units in the headers, absent values as braced text), everything ASCII.
//! An [`ColumnKind::Estimate`] column becomes three: the number, its 95 % interval and p.

use super::{shown, Cell, ColumnKind, Interval, Table, Value};
use crate::numbers::sig;

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

/// What a LaTeX table float says besides its cells.
pub struct Float<'a> {
    /// `\caption{…}`, written as given (LaTeX).
    pub caption: &'a str,
    /// `\label{…}`.
    pub label: &'a str,
}

/// A number column's text: the digits, `{--}` when absent, `{n/a}` when not computed.
fn number_text(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => escape(s),
        Cell::Markup { latex, .. } => latex.clone(),
        Cell::Number(n) => match &n.value {
            Value::Known(_) => n.digits_text().unwrap_or_default(),
            Value::Absent => "{--}".into(),
            Value::NotComputed(_) => "{n/a}".into(),
        },
    }
}

/// A mean's interval and n beside it (`$\pm$ 0.52 ($n = 3$)`, `($n = 1$)`); empty for a cell
/// that is not a mean.
fn spread_text(cell: &Cell) -> String {
    let Cell::Number(n) = cell else {
        return String::new();
    };
    let (Value::Known(_), Some(reps)) = (&n.value, n.repeats) else {
        return String::new();
    };
    let range = n
        .range_text("--")
        .map(|r| format!(", {}", r.replacen("est. ", "est.~", 1)))
        .unwrap_or_default();
    match n.interval {
        Some(Interval::PlusMinus { half }) => {
            format!("$\\pm$ {} ($n = {reps}${range})", sig(half, 2))
        }
        _ => format!("($n = {reps}${range})"),
    }
}

/// An estimate's three cells: number, interval (`n/a` when undefined or not computed) and p.
fn estimate_texts(cell: &Cell) -> [String; 3] {
    let Cell::Number(n) = cell else {
        return [number_text(cell), "n/a".into(), "{n/a}".into()];
    };
    let interval = match (&n.value, &n.interval) {
        (Value::Known(_), Some(i)) => i.bounds_text().unwrap_or_else(|| "n/a".into()),
        _ => "n/a".into(),
    };
    let p = match (&n.value, &n.test) {
        (Value::Known(_), Some(t)) => sig(t.p, 2),
        (Value::Absent, _) => "{--}".into(),
        _ => "{n/a}".into(),
    };
    [number_text(cell), interval, p]
}

/// One LaTeX column: is it an `S` column, its header (LaTeX) and its cells.
struct Rendered {
    numeric: bool,
    header: String,
    cells: Vec<String>,
}

/// The table's LaTeX columns, estimates split into three.
fn rendered_columns(t: &Table) -> Vec<Rendered> {
    let mut out = Vec::new();
    for (j, c) in shown(t, true) {
        match c.kind {
            ColumnKind::Text => out.push(Rendered {
                numeric: false,
                header: c.latex_header.clone(),
                cells: t
                    .rows
                    .iter()
                    .map(|r| match &r[j] {
                        Cell::Text(s) => escape(s),
                        other => number_text(other),
                    })
                    .collect(),
            }),
            ColumnKind::Number => {
                out.push(Rendered {
                    numeric: true,
                    header: c.latex_header.clone(),
                    cells: t.rows.iter().map(|r| number_text(&r[j])).collect(),
                });
                let means = |r: &Vec<Cell>| matches!(&r[j], Cell::Number(n) if n.repeats.is_some());
                let interval = |r: &Vec<Cell>| matches!(&r[j], Cell::Number(n) if matches!(n.interval, Some(Interval::PlusMinus { .. })));
                let ranged = |r: &Vec<Cell>| matches!(&r[j], Cell::Number(n) if n.range.is_some());
                if t.rows.iter().any(means) {
                    out.push(Rendered {
                        numeric: false,
                        // No interval anywhere (one run each): the column only gives n.
                        header: match (t.rows.iter().any(interval), t.rows.iter().any(ranged)) {
                            (true, false) => "$\\pm$ 95\\,\\% CI ($n$)".into(),
                            (false, false) => "$n$".into(),
                            (true, true) => "$\\pm$ 95\\,\\% CI ($n$, est.\\ range)".into(),
                            (false, true) => "($n$, est.\\ range)".into(),
                        },
                        cells: t.rows.iter().map(|r| spread_text(&r[j])).collect(),
                    });
                }
            }
            ColumnKind::Estimate => {
                let texts: Vec<[String; 3]> =
                    t.rows.iter().map(|r| estimate_texts(&r[j])).collect();
                let heads = [c.latex_header.clone(), "95\\,\\% CI".into(), "$p$".into()];
                for (k, head) in heads.into_iter().enumerate() {
                    out.push(Rendered {
                        numeric: k != 1,
                        header: head,
                        cells: texts.iter().map(|t| t[k].clone()).collect(),
                    });
                }
            }
        }
    }
    out
}

/// The table float: caption, label, column specs (`l`, or `S` with a `table-format` from its
/// cells), braced headers and rows.
pub fn render(t: &Table, float: &Float) -> String {
    let cols = rendered_columns(t);
    let specs: Vec<String> = cols
        .iter()
        .map(|c| {
            if c.numeric {
                format!("S[table-format={}]", table_format(&c.cells))
            } else {
                "l".into()
            }
        })
        .collect();
    let mut s = String::new();
    s.push_str("% Written by `greenbench report`; needs \\usepackage{booktabs} and \\usepackage{siunitx}.\n");
    s.push_str("\\begin{table}[htbp]\n\\centering\n\\small\n");
    s.push_str(&format!("\\caption{{{}}}\n", float.caption));
    s.push_str(&format!("\\label{{{}}}\n", float.label));
    s.push_str(&format!(
        "\\begin{{tabular}}{{{}}}\n\\toprule\n",
        specs.join(" ")
    ));
    // Headers of S columns are braced so siunitx does not parse them as numbers.
    let head: Vec<String> = cols.iter().map(|c| format!("{{{}}}", c.header)).collect();
    s.push_str(&format!("{} \\\\\n\\midrule\n", head.join(" & ")));
    for i in 0..t.rows.len() {
        let row: Vec<&str> = cols.iter().map(|c| c.cells[i].as_str()).collect();
        s.push_str(&format!("{} \\\\\n", row.join(" & ")));
    }
    s.push_str("\\bottomrule\n\\end{tabular}\n");
    s.push_str("\\end{table}\n");
    s
}

/// A minimal `article` that `\input`s `NAME.tex` and compiles on its own.
pub fn standalone(name: &str) -> String {
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
    fn a_mean_with_a_range_names_it_after_n() {
        use crate::groups::Spread;
        use crate::table::{Digits, Number};
        let n = Number::mean(Spread::of(&[1.0, 2.0, 3.0]), Digits::Significant(3))
            .with_range(Some([1.5, 2.5]));
        assert_eq!(
            spread_text(&Cell::Number(n)),
            "$\\pm$ 2.5 ($n = 3$, est.~1.50--2.50)"
        );
    }

    #[test]
    fn table_format_covers_sign_digits_and_exponents() {
        let c = |v: &[&str]| table_format(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(c(&["0.982", "-0.349", "{n/a}"]), "-1.3");
        assert_eq!(c(&["123.4", "5"]), "3.1");
        assert_eq!(c(&["1.78e-6", "0.5"]), "1.2e-1");
    }
}
