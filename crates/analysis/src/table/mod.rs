//! Report tables built once and rendered three ways. A builder ([`correlations`], [`models`],
//! [`pareto`]) turns the statistics into a [`Table`] — columns and rows of typed [`Cell`]s — and
//! one renderer per format writes it: [`markdown`] (`report.md`), [`html`] (`report.html`) and
//! [`latex`] (`tables/*.tex`). A renderer only writes a header, a divider and rows; what a cell
//! says (digits, interval, p-value, why a value is missing) is decided here, once.

pub mod correlations;
pub mod html;
pub mod interference;
pub mod latex;
pub mod markdown;
pub mod models;
pub mod pareto;

use crate::groups::Spread;
use crate::numbers::sig;
use crate::stats::{Correlation, Stat};

/// A table: its columns and its rows (each row one cell per column).
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows; each has one cell per column.
    pub rows: Vec<Vec<Cell>>,
}

/// One column: its headers and what kind of cells it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Header in Markdown and HTML (plain text; HTML escapes it).
    pub header: String,
    /// Header in LaTeX, written as given (it may hold `\si{…}` units and math).
    pub latex_header: String,
    /// What the cells hold; decides alignment and LaTeX column types.
    pub kind: ColumnKind,
    /// The formats that show this column.
    pub shown_in: Formats,
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Words: left-aligned, a LaTeX `l` column.
    Text,
    /// Numbers: right-aligned in Markdown, a siunitx `S` column in LaTeX.
    Number,
    /// Numbers with an interval and a test (a coefficient): one left-aligned cell in Markdown and
    /// HTML; three LaTeX columns (the number as `S`, the interval as `l`, p as `S`).
    Estimate,
}

/// Which formats show a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formats {
    /// Markdown, HTML and LaTeX.
    All,
    /// Markdown and HTML only (prose that a paper's table leaves out).
    MarkupOnly,
    /// LaTeX only (detail the report's prose already gives).
    LatexOnly,
}

impl Column {
    /// A column shown in every format.
    pub fn new(
        header: impl Into<String>,
        latex_header: impl Into<String>,
        kind: ColumnKind,
    ) -> Self {
        Column {
            header: header.into(),
            latex_header: latex_header.into(),
            kind,
            shown_in: Formats::All,
        }
    }

    /// This column, shown only in `formats`.
    pub fn only(mut self, formats: Formats) -> Self {
        self.shown_in = formats;
        self
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text, escaped by each renderer.
    Text(String),
    /// Text with its own LaTeX form (a symbol: `ρ` and `$\\rho$`), written as given there.
    Markup {
        /// Markdown and HTML (HTML escapes it).
        plain: String,
        /// LaTeX, written as given.
        latex: String,
    },
    /// A number (with its unit, interval and test when it has them).
    Number(Number),
}

/// A number as a table shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// The value, or why there is none.
    pub value: Value,
    /// How many digits to show.
    pub digits: Digits,
    /// Unit written after the value in Markdown and HTML (`None` when the header names it;
    /// LaTeX always names units in the header).
    pub unit: Option<&'static str>,
    /// Its interval, if the statistic has one.
    pub interval: Option<Interval>,
    /// Its test (n and p-value), if the statistic has one.
    pub test: Option<Test>,
    /// How many repeats the value is the mean of (a configuration's mean): `n = …` after it.
    pub repeats: Option<usize>,
    /// Marked (the coefficient the paper quotes, a noisy configuration): bold in Markdown and
    /// HTML.
    pub flagged: bool,
}

/// A value, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A finite number.
    Known(f64),
    /// Not measured or not recorded: `—` (Markdown, HTML), `{--}` (LaTeX).
    Absent,
    /// A statistic that could not be computed, with why: the reason (Markdown, HTML), `{n/a}`
    /// (LaTeX).
    NotComputed(String),
}

/// How many digits a number shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digits {
    /// About this many significant digits ([`crate::numbers::sig`]).
    Significant(usize),
    /// This many decimals.
    Decimals(usize),
    /// Every digit (counts, batch sizes).
    Exact,
}

/// A number's 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Interval {
    /// Lower and upper bound (shown with 2 decimals).
    Bounds {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
    /// Too few resamples had a defined value.
    Undefined,
    /// A symmetric interval around the value (a mean's Student-t interval): `± half`.
    PlusMinus {
        /// Half-width, in the value's unit.
        half: f64,
    },
}

/// A test of a statistic: number of points, two-sided p-value and how it was obtained.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    /// Number of points.
    pub n: usize,
    /// Two-sided p-value.
    pub p: f64,
    /// How p was obtained (`exact`, `t-approx.`).
    pub method: String,
}

impl Number {
    /// `v` with `digits`; absent when `None` or not finite.
    pub fn new(v: Option<f64>, digits: Digits) -> Self {
        Number {
            value: match v.filter(|v| v.is_finite()) {
                Some(v) => Value::Known(v),
                None => Value::Absent,
            },
            digits,
            unit: None,
            interval: None,
            test: None,
            repeats: None,
            flagged: false,
        }
    }

    /// A configuration's mean over its repeats with its 95 % t-interval (`± half-width`) and n;
    /// no interval with one repeat, absent when `None`.
    pub fn mean(s: Option<Spread>, digits: Digits) -> Self {
        match s.filter(|s| s.mean.is_finite()) {
            Some(s) => Number {
                interval: s.half_width.map(|half| Interval::PlusMinus { half }),
                repeats: Some(s.n),
                ..Number::new(Some(s.mean), digits)
            },
            None => Number::new(None, digits),
        }
    }

    /// The coefficient of variation of `s` in percent (1 decimal), marked when above
    /// [`crate::groups::CV_WARN`]; not computed (`n/a: n = 1`) without a spread.
    pub fn cv_pct(s: Option<Spread>) -> Self {
        match s {
            Some(s) => match s.cv() {
                Some(cv) => Number::new(Some(cv * 100.0), Digits::Decimals(1)).flagged(s.noisy()),
                None => Number {
                    value: Value::NotComputed(format!("n/a: n = {}", s.n)),
                    ..Number::new(None, Digits::Decimals(1))
                },
            },
            None => Number::new(None, Digits::Decimals(1)),
        }
    }

    /// A correlation coefficient (3 decimals) with its bootstrap interval and test, or why it
    /// was not computed.
    pub fn correlation(c: &Stat<Correlation>) -> Self {
        match c {
            Ok(c) => Number {
                interval: Some(match &c.ci95 {
                    Some(ci) => Interval::Bounds {
                        lo: ci.lo,
                        hi: ci.hi,
                    },
                    None => Interval::Undefined,
                }),
                test: Some(Test {
                    n: c.n,
                    p: c.p_value,
                    method: c.p_method.to_string(),
                }),
                ..Number::new(Some(c.coefficient), Digits::Decimals(3))
            },
            Err(e) => Number {
                value: Value::NotComputed(e.to_string()),
                ..Number::new(None, Digits::Decimals(3))
            },
        }
    }

    /// This number, marked (or not).
    pub fn flagged(mut self, flag: bool) -> Self {
        self.flagged = flag;
        self
    }

    /// The value alone with its digits, or `None` when there is no value.
    pub fn digits_text(&self) -> Option<String> {
        match self.value {
            Value::Known(v) => Some(match self.digits {
                Digits::Significant(d) => sig(v, d),
                Digits::Decimals(d) => format!("{v:.d$}"),
                Digits::Exact => format!("{v}"),
            }),
            _ => None,
        }
    }
}

impl Interval {
    /// `[lo, hi]` with 2 decimals, `± half` with 2 significant digits, or `None` when undefined.
    pub fn bounds_text(&self) -> Option<String> {
        match self {
            Interval::Bounds { lo, hi } => Some(format!("[{lo:.2}, {hi:.2}]")),
            Interval::PlusMinus { half } => Some(format!("± {}", sig(*half, 2))),
            Interval::Undefined => None,
        }
    }
}

/// A mean's `± half` (when it has an interval) and `n = …`, as Markdown and HTML write them
/// after the value; `None` for a number that is not a mean over repeats.
fn repeats_text(n: &Number) -> Option<(Option<String>, String)> {
    let reps = n.repeats?;
    let pm = match n.interval {
        Some(i @ Interval::PlusMinus { .. }) => i.bounds_text(),
        _ => None,
    };
    Some((pm, format!("n = {reps}")))
}

impl Cell {
    /// A number cell.
    pub fn number(v: Option<f64>, digits: Digits) -> Self {
        Cell::Number(Number::new(v, digits))
    }

    /// A text cell.
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }
}

/// What Markdown and HTML show in a cell (HTML escapes it), without the flag's emphasis:
/// the number with its digits and unit, then its test and interval in parentheses
/// (`0.982 (n = 4, p = 0.083 exact, 95 % CI [0.87, 1.00])`); `—` when absent, the reason when
/// not computed.
pub(crate) fn plain_text(cell: &Cell) -> String {
    let n = match cell {
        Cell::Text(s) | Cell::Markup { plain: s, .. } => return s.clone(),
        Cell::Number(n) => n,
    };
    let mut s = match &n.value {
        Value::Known(_) => n.digits_text().unwrap_or_default(),
        Value::Absent => return "—".into(),
        Value::NotComputed(why) => return why.clone(),
    };
    if let Some((pm, reps)) = repeats_text(n) {
        if let Some(pm) = pm {
            s.push(' ');
            s.push_str(&pm);
        }
        if let Some(u) = n.unit {
            s.push(' ');
            s.push_str(u);
        }
        s.push_str(&format!(" ({reps})"));
        return s;
    }
    if let Some(u) = n.unit {
        s.push(' ');
        s.push_str(u);
    }
    let mut details = Vec::new();
    if let Some(t) = &n.test {
        details.push(format!("n = {}, p = {} {}", t.n, sig(t.p, 2), t.method));
    }
    if let Some(i) = &n.interval {
        details.push(format!(
            "95 % CI {}",
            i.bounds_text()
                .unwrap_or_else(|| "n/a (too few resamples with a defined coefficient)".into())
        ));
    }
    if !details.is_empty() {
        s.push_str(&format!(" ({})", details.join(", ")));
    }
    s
}

/// Whether a cell is marked (bold in Markdown and HTML).
pub(crate) fn flagged(cell: &Cell) -> bool {
    matches!(cell, Cell::Number(n) if n.flagged)
}

/// The columns (with their index) `format` shows.
pub(crate) fn shown(t: &Table, latex: bool) -> impl Iterator<Item = (usize, &Column)> {
    t.columns.iter().enumerate().filter(move |(_, c)| {
        matches!(
            (c.shown_in, latex),
            (Formats::All, _) | (Formats::MarkupOnly, false) | (Formats::LatexOnly, true)
        )
    })
}

/// "model" or "configuration": what one point of a correlation is (a mean over repeats), for
/// its table's `point` column.
pub(crate) fn point_kind(unit: &str) -> &'static str {
    if unit.starts_with("model") {
        "model"
    } else {
        "configuration"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_follow_the_number_kind() {
        assert_eq!(
            Number::new(Some(1234.4), Digits::Significant(3)).digits_text(),
            Some("1234".into())
        );
        assert_eq!(
            Number::new(Some(0.98765), Digits::Decimals(2)).digits_text(),
            Some("0.99".into())
        );
        assert_eq!(
            Number::new(Some(64.0), Digits::Exact).digits_text(),
            Some("64".into())
        );
        assert_eq!(
            Number::new(Some(f64::NAN), Digits::Exact).value,
            Value::Absent
        );
        assert_eq!(Number::new(None, Digits::Exact).digits_text(), None);
    }

    #[test]
    fn plain_text_carries_unit_test_and_interval() {
        let mut n = Number::new(Some(0.98234), Digits::Decimals(3));
        assert_eq!(plain_text(&Cell::Number(n.clone())), "0.982");
        n.unit = Some("Wh");
        n.interval = Some(Interval::Bounds { lo: 0.871, hi: 1.0 });
        n.test = Some(Test {
            n: 4,
            p: 0.0833,
            method: "exact".into(),
        });
        assert_eq!(
            plain_text(&Cell::Number(n.clone())),
            "0.982 Wh (n = 4, p = 0.083 exact, 95 % CI [0.87, 1.00])"
        );
        n.test = None;
        n.interval = Some(Interval::Undefined);
        assert_eq!(
            plain_text(&Cell::Number(n)),
            "0.982 Wh (95 % CI n/a (too few resamples with a defined coefficient))"
        );
        assert_eq!(plain_text(&Cell::number(None, Digits::Exact)), "—");
    }

    #[test]
    fn a_mean_shows_its_t_interval_and_n_and_one_repeat_no_interval() {
        use crate::groups::Spread;
        let three = Number::mean(Spread::of(&[1.0, 2.0, 3.0]), Digits::Significant(3));
        assert_eq!(plain_text(&Cell::Number(three)), "2.00 ± 2.5 (n = 3)");
        let one = Number::mean(Spread::of(&[2.0]), Digits::Significant(3));
        assert_eq!(plain_text(&Cell::Number(one)), "2.00 (n = 1)");
        assert_eq!(
            plain_text(&Cell::Number(Number::mean(None, Digits::Exact))),
            "—"
        );
        let cv = Number::cv_pct(Spread::of(&[1.0, 2.0, 3.0]));
        assert!(cv.flagged);
        assert_eq!(plain_text(&Cell::Number(cv)), "50.0");
        assert_eq!(
            plain_text(&Cell::Number(Number::cv_pct(Spread::of(&[2.0])))),
            "n/a: n = 1"
        );
    }

    /// A text column, a flagged estimate shown everywhere, a number only LaTeX shows and a note
    /// only Markdown and HTML show.
    fn sample() -> Table {
        let mut r = Number::new(Some(0.5), Digits::Decimals(3)).flagged(true);
        r.interval = Some(Interval::Bounds { lo: 0.25, hi: 0.75 });
        r.test = Some(Test {
            n: 5,
            p: 0.04,
            method: "exact".into(),
        });
        Table {
            columns: vec![
                Column::new("name", "name", ColumnKind::Text),
                Column::new("r", "$r$", ColumnKind::Estimate),
                Column::new("n", "$n$", ColumnKind::Number).only(Formats::LatexOnly),
                Column::new("note", "note", ColumnKind::Text).only(Formats::MarkupOnly),
            ],
            rows: vec![
                vec![
                    Cell::text("a_b <c>"),
                    Cell::Number(r),
                    Cell::number(Some(5.0), Digits::Exact),
                    Cell::text("fine"),
                ],
                vec![
                    Cell::text("x"),
                    Cell::Number(Number {
                        value: Value::NotComputed("too few points".into()),
                        ..Number::new(None, Digits::Decimals(3))
                    }),
                    Cell::number(None, Digits::Exact),
                    Cell::text("—"),
                ],
            ],
        }
    }

    #[test]
    fn one_table_renders_in_each_format() {
        let t = sample();
        assert_eq!(
            markdown::render(&t),
            "| name | r | note |\n|---|---|---|\n\
             | a_b <c> | **0.500 (n = 5, p = 0.040 exact, 95 % CI [0.25, 0.75])** | fine |\n\
             | x | too few points | — |\n"
        );
        assert_eq!(
            html::render(&t, "t"),
            "<table id=t><thead><tr><th>name</th><th>r</th><th>note</th></tr></thead><tbody>\n\
             <tr><td>a_b &lt;c&gt;</td><td><b>0.500 (n = 5, p = 0.040 exact, 95 % CI [0.25, 0.75])</b></td><td>fine</td></tr>\n\
             <tr><td>x</td><td>too few points</td><td>—</td></tr>\n</tbody></table>\n"
        );
        let tex = latex::render(
            &t,
            &latex::Float {
                caption: "C",
                label: "tab:t",
            },
        );
        assert!(
            tex.contains(
                "\\begin{tabular}{l S[table-format=1.3] l S[table-format=1.3] S[table-format=1.0]}"
            ),
            "{tex}"
        );
        assert!(
            tex.contains("{name} & {$r$} & {95\\,\\% CI} & {$p$} & {$n$} \\\\"),
            "{tex}"
        );
        assert!(
            tex.contains(
                "a\\_b \\textless{}c\\textgreater{} & 0.500 & [0.25, 0.75] & 0.040 & 5 \\\\"
            ),
            "{tex}"
        );
        assert!(tex.contains("x & {n/a} & n/a & {n/a} & {--} \\\\"), "{tex}");
    }
}
