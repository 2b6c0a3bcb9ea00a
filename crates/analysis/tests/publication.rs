//! Publication outputs of `write_report`: vector PDF figures at a requested width with embedded,
//! searchable text; LaTeX tables; the self-contained report.html; figures with 16 models.

mod common;
mod pdf;

use std::path::{Path, PathBuf};

use common::{copy, sweep, write_sweep, Shape};
use greenbench_analysis::{write_report, ReportOptions, ReportSummary};

fn report(dir: &Path, width_in: Option<f64>) -> ReportSummary {
    write_report(
        dir,
        &ReportOptions {
            figures: true,
            figure_width_in: width_in,
            compare_grid: None,
            exclude_flagged: false,
        },
    )
    .unwrap()
}

/// The text of every `<text>` element of an SVG, trimmed.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| t.split_once('>').map(|(_, rest)| rest))
        .filter_map(|t| t.split('<').next())
        .map(|t| t.trim().to_string())
        .collect()
}

fn png_width(path: &Path) -> u32 {
    let b = std::fs::read(path).unwrap();
    u32::from_be_bytes([b[16], b[17], b[18], b[19]])
}

#[test]
fn pdf_figures_have_the_requested_width_embedded_fonts_and_searchable_text() {
    let dir = copy("quick");
    let s = report(dir.path(), Some(3.5));
    let drawn: Vec<_> = s.figures.iter().filter(|f| f.skipped.is_none()).collect();
    assert!(drawn.len() >= 5, "{:?}", s.figures);
    for f in drawn {
        let pdf_path = f
            .files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "pdf"))
            .unwrap_or_else(|| panic!("{}: no PDF in {:?}", f.name, f.files));
        let facts = pdf::read(&std::fs::read(pdf_path).unwrap());
        assert!(
            (facts.page_pt.0 - 3.5 * 72.0).abs() < 0.5,
            "{}: page {:?} pt",
            f.name,
            facts.page_pt
        );
        assert!(
            facts.font_files >= 1,
            "{}: no embedded TrueType font",
            f.name
        );
        let min = facts.min_font_pt.unwrap_or(0.0);
        assert!(min >= 7.0, "{}: text at {min:.2} pt", f.name);
        // The SVG's text is in the PDF as text (decoded through ToUnicode), not as outlines.
        let svg =
            std::fs::read_to_string(dir.path().join(format!("figures/{}.svg", f.name))).unwrap();
        let first_label = svg_texts(&svg).into_iter().next().unwrap();
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        assert!(
            squash(&facts.text).contains(&squash(&first_label)),
            "{}: `{first_label}` not found as text in the PDF; text: {}",
            f.name,
            facts.text.chars().take(300).collect::<String>()
        );
        // Same drawing as the PNG/SVG, at 538 px for 3.5 in.
        let png = dir.path().join(format!("figures/{}.png", f.name));
        assert_eq!(png_width(&png), greenbench_analysis::figure_width_px(3.5));
    }
    let epochs = pdf::read(&std::fs::read(dir.path().join("figures/epochs.pdf")).unwrap());
    assert!(epochs.text.contains("epoch"), "{}", epochs.text);
}

#[test]
fn default_width_pdf_matches_the_svg_at_96_px_per_inch() {
    let dir = copy("quick");
    report(dir.path(), None);
    let facts = pdf::read(&std::fs::read(dir.path().join("figures/pareto.pdf")).unwrap());
    // pareto is drawn at 1100 × 750 px: 825 × 562.5 pt.
    assert!((facts.page_pt.0 - 825.0).abs() < 0.5, "{:?}", facts.page_pt);
    assert!((facts.page_pt.1 - 562.5).abs() < 0.5, "{:?}", facts.page_pt);
}

/// `\begin{X}`/`\end{X}` pairs balanced and properly nested.
fn balanced(tex: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    for part in tex.split('\\').skip(1) {
        for (kw, open) in [("begin{", true), ("end{", false)] {
            if let Some(rest) = part.strip_prefix(kw) {
                let name = rest.split('}').next().unwrap_or("").to_string();
                if open {
                    stack.push(name);
                } else if stack.pop().as_deref() != Some(name.as_str()) {
                    return Err(format!(
                        "\\end{{{name}}} does not close the open environment"
                    ));
                }
            }
        }
    }
    if stack.is_empty() {
        Ok(())
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}

#[test]
fn latex_tables_are_booktabs_with_one_row_per_model_and_escaped_text() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape {
        models: 5,
        ..Default::default()
    };
    let mut records = sweep(&shape);
    for r in &mut records {
        // An underscore and a percent sign in a model name must be escaped.
        r.spec.model = r.spec.model.replace('-', "_") + "%";
    }
    write_sweep(dir.path(), &records, Some("name = \"tex\"\n"));
    let s = write_report(
        dir.path(),
        &ReportOptions {
            figures: false,
            figure_width_in: None,
            compare_grid: None,
            exclude_flagged: false,
        },
    )
    .unwrap();
    for name in ["correlations", "models", "pareto"] {
        let tex = std::fs::read_to_string(dir.path().join(format!("tables/{name}.tex"))).unwrap();
        balanced(&tex).unwrap_or_else(|e| panic!("{name}.tex: {e}\n{tex}"));
        for cmd in [
            "\\toprule",
            "\\midrule",
            "\\bottomrule",
            "\\begin{tabular}",
            "\\caption{",
            "\\label{tab:greenbench-",
        ] {
            assert_eq!(tex.matches(cmd).count(), 1, "{name}.tex: {cmd}\n{tex}");
        }
        assert!(
            tex.contains("S[table-format="),
            "{name}.tex has no S column"
        );
        assert!(tex.is_ascii(), "{name}.tex is not ASCII");
        let standalone =
            std::fs::read_to_string(dir.path().join(format!("tables/{name}-standalone.tex")))
                .unwrap();
        balanced(&standalone).unwrap();
        for pkg in [
            "{booktabs}",
            "{siunitx}",
            "\\documentclass",
            &format!("\\input{{{name}.tex}}"),
        ] {
            assert!(
                standalone.contains(pkg),
                "{name}-standalone.tex lacks {pkg}"
            );
        }
        // Every body row has as many cells as the column spec.
        let spec = tex
            .split("\\begin{tabular}{")
            .nth(1)
            .unwrap()
            .split('\n')
            .next()
            .unwrap();
        let cols = spec.split_whitespace().count();
        let body = tex
            .split("\\midrule\n")
            .nth(1)
            .unwrap()
            .split("\\bottomrule")
            .next()
            .unwrap();
        for row in body.lines() {
            let cells = row
                .trim_end_matches("\\\\")
                .trim()
                .replace("\\&", "")
                .matches('&')
                .count()
                + 1;
            assert_eq!(cells, cols, "{name}.tex row `{row}`");
        }
    }
    let models = std::fs::read_to_string(dir.path().join("tables/models.tex")).unwrap();
    let body = models
        .split("\\midrule\n")
        .nth(1)
        .unwrap()
        .split("\\bottomrule")
        .next()
        .unwrap();
    assert_eq!(body.lines().count(), 5, "{body}");
    assert!(body.contains("\\_") && body.contains("\\%"), "{body}");
    assert!(
        !body.replace("\\_", "").contains('_'),
        "unescaped underscore: {body}"
    );
    let corr = std::fs::read_to_string(dir.path().join("tables/correlations.tex")).unwrap();
    // The paper's coefficient sits beside ours.
    assert!(corr.contains("$\\approx$ 0.99"), "{corr}");
    assert!(s.files.iter().any(|f| f.ends_with("tables/models.tex")));
}

#[test]
fn html_report_is_self_contained_with_one_row_per_record_and_inline_figures() {
    let dir = copy("quick");
    report(dir.path(), Some(7.0));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let records = std::fs::read_to_string(dir.path().join("runs.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    let table = html
        .split("<table id=runs>")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    assert_eq!(table.matches("<tr data-model=").count(), records);
    assert!(html.matches("<figure").count() >= 5);
    assert!(html.contains("<svg"));
    for bad in [
        "http://",
        "https://",
        "<script src",
        "<link",
        "@import",
        "<img",
    ] {
        let hits: Vec<&str> = html
            .match_indices(bad)
            .map(|(i, _)| &html[i.saturating_sub(40)..(i + 60).min(html.len())])
            .collect();
        // SVG namespaces are identifiers, not fetches.
        let fetches: Vec<&&str> = hits.iter().filter(|h| !h.contains("xmlns")).collect();
        assert!(fetches.is_empty(), "external reference {bad}: {fetches:?}");
    }
    for link in ["href=\"runs.csv\"", "href=\"emissions.csv\""] {
        assert!(html.contains(link), "{link}");
    }
    assert!(html.contains("<figcaption>"));
}

#[test]
fn sixteen_models_get_distinct_legend_entries_and_distinct_ticks() {
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape {
        models: 16,
        ..Default::default()
    };
    let records = sweep(&shape);
    write_sweep(dir.path(), &records, Some("name = \"many\"\n"));
    // GREENBENCH_KEEP_REPORT=/some/dir keeps the output for a look at the figures.
    let out = match std::env::var_os("GREENBENCH_KEEP_REPORT") {
        Some(keep) => {
            let p = PathBuf::from(keep).join("sixteen");
            std::fs::create_dir_all(&p).unwrap();
            for f in ["runs.jsonl", "manifest.json"] {
                std::fs::copy(dir.path().join(f), p.join(f)).unwrap();
            }
            p
        }
        None => dir.path().to_path_buf(),
    };
    let models: std::collections::BTreeSet<String> =
        records.iter().map(|r| r.spec.model.clone()).collect();
    assert_eq!(models.len(), 16);
    for width in [Some(3.5), Some(7.0), None] {
        let s = report(&out, width);
        for name in ["epochs", "energy_vs_batch_size"] {
            let f = s.figures.iter().find(|f| f.name == name).unwrap();
            assert!(f.skipped.is_none(), "{name}: {:?}", f.skipped);
            let svg = std::fs::read_to_string(out.join(format!("figures/{name}.svg"))).unwrap();
            // Every model is in the legend (none capped away).
            let texts = svg_texts(&svg);
            for model in &models {
                assert!(
                    texts.contains(model),
                    "{model} missing from the legend of {name} at {width:?} in"
                );
            }
        }
        // No text is placed outside the canvas (legends that grow with the model count).
        for f in s.figures.iter().filter(|f| f.skipped.is_none()) {
            let svg = std::fs::read_to_string(out.join(format!("figures/{}.svg", f.name))).unwrap();
            let attr = |tag: &str, k: &str| -> f64 {
                tag.split(&format!(" {k}=\""))
                    .nth(1)
                    .and_then(|v| v.split('"').next())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0.0)
            };
            let root = svg.split('>').next().unwrap();
            let (w, h) = (attr(root, "width"), attr(root, "height"));
            for t in svg.split("<text").skip(1) {
                let tag = t.split('>').next().unwrap();
                let (x, y) = (attr(tag, "x"), attr(tag, "y"));
                assert!(
                    (0.0..=w).contains(&x) && (0.0..h).contains(&y),
                    "{} at {width:?} in: text at ({x}, {y}) outside {w}×{h}",
                    f.name
                );
            }
        }
        // Tick labels along each axis are distinct (no "97, 97, 96").
        let svg = std::fs::read_to_string(out.join("figures/pareto.svg")).unwrap();
        let labels: Vec<String> = svg_texts(&svg)
            .into_iter()
            .filter(|t| t.parse::<f64>().is_ok())
            .collect();
        let mut seen = std::collections::HashSet::new();
        let dup: Vec<&String> = labels.iter().filter(|l| !seen.insert(l.as_str())).collect();
        // x (log) and y ticks may share a value once; never the same label twice on one axis.
        assert!(dup.len() <= 1, "repeated tick labels {dup:?} in {labels:?}");
    }
}
