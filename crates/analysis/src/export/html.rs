//! `report.html`: one self-contained page (inline CSS, inline SVG figures, a small inline script;
//! nothing fetched from the network) with the summary, the correlation table, carbon, a per-run
//! table that sorts by any column and filters by model and status, each figure with its caption,
//! and links to the CSV exports beside it.

pub use crate::table::html::escape;
use std::fmt::Write as _;
use std::path::Path;

use greenbench_core::RunRecord;
use greenbench_core::RunStatus;

use crate::context::ReportContext;
use crate::correlation::PairResult;
use crate::data;
use crate::figures::FigureOutcome;
use crate::numbers::sig;
use crate::AnalysisError;

/// What the page shows besides the records.
pub struct HtmlInput<'a> {
    /// Sweep name.
    pub name: &'a str,
    /// Every record (one table row each).
    pub records: &'a [RunRecord],
    /// The ok runs, energy basis, quality and carbon settings.
    pub ctx: &'a ReportContext<'a>,
    /// The correlation study.
    pub study: &'a [PairResult],
    /// Figures (drawn or skipped).
    pub figures: &'a [FigureOutcome],
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Arial,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:0.5em 0;font-size:14px}th,td{border-bottom:1px solid #ccc;padding:3px 8px;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th.sort{cursor:pointer;user-select:none;background:#f2f2f2}\
th.sort:after{content:' \\2195';color:#888}th[aria-sort=ascending]:after{content:' \\2191'}th[aria-sort=descending]:after{content:' \\2193'}\
figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}figcaption{font-size:14px;color:#444}\
.filters label{margin-right:1em}.skipped{color:#666}code{font-size:13px}";

/// The inline script: sort the run table by a header click (numbers numerically, absent last),
/// filter by model and status, and show the visible row count.
const SCRIPT: &str = r#"(function () {
  var table = document.getElementById('runs');
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  function key(td, numeric) {
    var v = td.getAttribute('data-v');
    if (numeric) { return v === '' ? NaN : parseFloat(v); }
    return v;
  }
  function sortBy(col) {
    var th = heads[col];
    var numeric = th.getAttribute('data-type') === 'num';
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute('aria-sort'); }
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col], numeric), y = key(b.cells[col], numeric);
      if (numeric) {
        if (isNaN(x) && isNaN(y)) { return 0; }
        if (isNaN(x)) { return 1; }
        if (isNaN(y)) { return -1; }
        return asc ? x - y : y - x;
      }
      return asc ? x.localeCompare(y) : y.localeCompare(x);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  for (var i = 0; i < heads.length; i++) {
    (function (c) {
      heads[c].addEventListener('click', function () { sortBy(c); });
    })(i);
  }
  var model = document.getElementById('filter-model');
  var status = document.getElementById('filter-status');
  var count = document.getElementById('visible');
  function filter() {
    var n = 0;
    Array.prototype.forEach.call(body.rows, function (r) {
      var show = (model.value === '' || r.getAttribute('data-model') === model.value) &&
        (status.value === '' || r.getAttribute('data-status') === status.value);
      r.hidden = !show;
      if (show) { n++; }
    });
    count.textContent = String(n);
  }
  model.addEventListener('change', filter);
  status.addEventListener('change', filter);
  filter();
})();"#;

/// One cell of the run table: shown text and the sort value (`data-v`, empty = absent).
fn num_cell(v: Option<f64>, digits: usize) -> String {
    match v.filter(|v| v.is_finite()) {
        Some(v) => format!("<td class=n data-v=\"{v}\">{}</td>", sig(v, digits)),
        None => "<td class=n data-v=\"\">—</td>".into(),
    }
}

/// A cell shown exactly as given (integers, learning rates), sorted by its value.
/// A number shown in full precision, compactly (`1e300`, not 301 digits).
fn exact_cell(v: f64) -> String {
    let v = greenbench_core::compact_number(v);
    format!("<td class=n data-v=\"{v}\">{v}</td>")
}

fn text_cell(s: &str) -> String {
    format!("<td data-v=\"{0}\">{0}</td>", escape(s))
}

/// Columns of the run table: header, numeric.
const COLUMNS: [(&str, bool); 12] = [
    ("run id", false),
    ("model", false),
    ("batch", true),
    ("lr", true),
    ("epochs", true),
    ("status", false),
    ("train time (s)", true),
    ("train energy (Wh)", true),
    ("inference energy (Wh)", true),
    ("test accuracy (%)", true),
    ("intensity (g/kWh)", true),
    ("train CO2-eq (g)", true),
];

fn run_table(h: &mut String, input: &HtmlInput) {
    let basis = input.ctx.basis;
    let mut models: Vec<&str> = input
        .records
        .iter()
        .map(|r| r.spec.model.as_str())
        .collect();
    models.sort();
    models.dedup();
    let mut statuses: Vec<&str> = input.records.iter().map(|r| r.status.name()).collect();
    statuses.sort();
    statuses.dedup();
    let _ = writeln!(
        h,
        "<h2 id=runs-h>Runs</h2>\n<p>One row per record ({} records; <span id=visible>{}</span> shown). \
         Click a column header to sort; energies are {} ({}); runs that are not <code>ok</code> show raw energy if any.</p>",
        input.records.len(),
        input.records.len(),
        basis.name(),
        escape(&input.ctx.quality)
    );
    let options = |v: &[&str]| {
        v.iter()
            .map(|m| format!("<option value=\"{0}\">{0}</option>", escape(m)))
            .collect::<String>()
    };
    let _ = writeln!(
        h,
        "<p class=filters><label>model <select id=filter-model><option value=\"\">all</option>{}</select></label>\
         <label>status <select id=filter-status><option value=\"\">all</option>{}</select></label></p>",
        options(&models),
        options(&statuses)
    );
    h.push_str("<table id=runs>\n<thead><tr>");
    for (name, numeric) in COLUMNS {
        let _ = write!(
            h,
            "<th class=sort data-type={}>{}</th>",
            if numeric { "num" } else { "text" },
            escape(name)
        );
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for r in input.records {
        let ok = r.status == RunStatus::Ok;
        let train_j = if ok {
            basis.train_j(r)
        } else {
            r.train.as_ref().and_then(|t| t.energy.total_j)
        };
        let infer_j = if ok {
            basis.inference_j(r)
        } else {
            r.inference.as_ref().and_then(|i| i.energy.total_j)
        };
        let _ = writeln!(
            h,
            "<tr data-model=\"{}\" data-status=\"{}\">{}{}{}{}{}{}{}{}{}{}{}{}</tr>",
            escape(&r.spec.model),
            r.status.name(),
            text_cell(&r.run_id),
            text_cell(&r.spec.model),
            exact_cell(r.spec.batch_size as f64),
            exact_cell(r.spec.lr),
            exact_cell(r.spec.epochs as f64),
            text_cell(r.status.name()),
            num_cell(r.train.as_ref().map(|t| t.duration_s), 3),
            num_cell(train_j.map(data::wh), 3),
            num_cell(infer_j.map(data::wh), 3),
            num_cell(data::accuracy(r).map(|a| a * 100.0), 4),
            num_cell(Some(input.ctx.carbon.intensity_for(r)), 3),
            num_cell(train_j.map(|j| input.ctx.carbon.grams_for(r, j)), 3),
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

/// The document head, the page title and the opening summary with links to the files beside
/// the page.
fn page_head(h: &mut String, input: &HtmlInput) {
    let title = format!("greenbench report: {}", input.name);
    let _ = writeln!(
        h,
        "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n<meta name=viewport content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>",
        escape(&title),
        escape(&title)
    );
    let _ = writeln!(
        h,
        "<p>{} records, <b>{} ok runs</b> enter the statistics. Energy used throughout: <b>{} training energy, quality {}</b>. \
         Files beside this page: <a href=\"report.md\">report.md</a> (the full report), <a href=\"runs.csv\">runs.csv</a> (one row per run), \
         <a href=\"emissions.csv\">emissions.csv</a> (CodeCarbon layout), <a href=\"summary.md\">summary.md</a>, LaTeX tables in \
         <a href=\"tables/\">tables/</a>.</p>",
        input.records.len(),
        input.ctx.runs.len(),
        input.ctx.basis.name(),
        escape(&input.ctx.quality)
    );
}

/// The correlation table: each pair beside the paper's figure, the quoted coefficient in bold.
fn correlation_table(h: &mut String, study: &[PairResult]) {
    let _ = writeln!(
        h,
        "<h2>Correlations beside the paper</h2>\n<p>On configuration means (repeats averaged): Pearson r, Pearson r of the logarithms and Spearman ρ with n, two-sided p (exact permutation for n ≤ {}, else the t approximation) and 95 % BCa bootstrap interval over configurations and their repeats; the coefficient the paper quotes is in bold.</p>",
        crate::resample::EXACT_MAX_N
    );
    h.push_str(&crate::table::html::render(
        &crate::table::correlations::build(study),
        "correlations",
    ));
}

/// The carbon paragraph: how grams follow from kWh, and the ok runs' training and inference
/// totals.
fn carbon_paragraph(h: &mut String, input: &HtmlInput) {
    let c = input.ctx.carbon;
    let sum = |f: &dyn Fn(&RunRecord) -> Option<f64>| -> (f64, f64) {
        input
            .ctx
            .runs
            .iter()
            .filter_map(|r| f(r).map(|j| (j, c.grams_for(r, j))))
            .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1))
    };
    let (train, train_g) = sum(&|r| input.ctx.basis.train_j(r));
    let (infer, infer_g) = sum(&|r| input.ctx.basis.inference_j(r));
    let _ = writeln!(
        h,
        "<h2>Carbon</h2>\n<p>g CO2-eq = kWh × {} g/kWh{} × PUE {} (source: {}). Ok runs: training {} kWh → {} g, inference {} kWh → {} g. \
         The intensity each run used is in the table below and in runs.csv / emissions.csv.</p>",
        sig(c.intensity_g_per_kwh, 3),
        if c.per_run.is_empty() { "" } else { " (mean over runs; each run uses its own window's)" },
        c.pue,
        escape(&c.source),
        sig(train / 3.6e6, 3),
        sig(train_g, 3),
        sig(infer / 3.6e6, 3),
        sig(infer_g, 3)
    );
}

/// `text` from its `<svg` element on (dropping an XML prolog), or all of it when there is none.
fn from_svg_element(text: &str) -> &str {
    match text.find("<svg") {
        Some(i) => &text[i..],
        None => text,
    }
}

/// Every figure: drawn ones inline with a numbered caption and links to their files, skipped
/// ones with why.
fn figures_section(
    h: &mut String,
    input: &HtmlInput,
    svg_of: &dyn Fn(&Path) -> Result<String, AnalysisError>,
) -> Result<(), AnalysisError> {
    h.push_str("<h2>Figures</h2>\n");
    let mut n = 0;
    for f in input.figures {
        if let Some(why) = &f.skipped {
            let _ = writeln!(
                h,
                "<p class=skipped><b>{}</b> — not drawn: {}.</p>",
                escape(f.title),
                escape(why)
            );
            continue;
        }
        n += 1;
        let svg = f
            .files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "svg"));
        let text = match svg {
            Some(p) => svg_of(p)?,
            None => String::new(),
        };
        let body = from_svg_element(&text);
        let _ = writeln!(
            h,
            "<figure id=\"fig-{}\">\n{body}\n<figcaption>Figure {n}. {}. Energy: {} ({}). Files: \
             <a href=\"figures/{0}.svg\">SVG</a>, <a href=\"figures/{0}.pdf\">PDF</a>, <a href=\"figures/{0}.png\">PNG</a>.</figcaption>\n</figure>",
            f.name,
            escape(f.title),
            input.ctx.basis.name(),
            escape(&input.ctx.quality)
        );
    }
    Ok(())
}

/// The page's text (see the module doc); `svg_of` reads a figure's SVG file.
pub fn report_html(
    input: &HtmlInput,
    svg_of: &dyn Fn(&Path) -> Result<String, AnalysisError>,
) -> Result<String, AnalysisError> {
    let mut h = String::new();
    page_head(&mut h, input);
    crate::repeats_section::html(&mut h, input.ctx);
    crate::flagged::interference_html(&mut h, input.records);
    correlation_table(&mut h, input.study);
    carbon_paragraph(&mut h, input);
    run_table(&mut h, input);
    figures_section(&mut h, input, svg_of)?;
    let _ = writeln!(h, "<script>\n{SCRIPT}\n</script>\n</body>\n</html>");
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_start_at_their_svg_element() {
        assert_eq!(
            from_svg_element("<?xml version=\"1.0\"?>\n<svg width=\"1\"></svg>"),
            "<svg width=\"1\"></svg>"
        );
        assert_eq!(from_svg_element("no figure"), "no figure");
        assert_eq!(from_svg_element(""), "");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
