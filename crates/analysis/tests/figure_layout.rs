//! Every figure of every committed sweep folder (results/*) and of a synthetic sweep with long
//! model names fits a paper's column and page: at 3.3, 3.5, 5 and 7 in no text runs off the
//! canvas, no two texts overlap and no text lies on a legend, measured from the SVGs with the
//! embedded font.

mod common;

use std::path::{Path, PathBuf};

use common::{sweep, write_sweep, Shape};
use greenbench_analysis::{layout_problems, svg_layout};
use greenbench_analysis::{write_report, ReportOptions};

/// The committed sweep folders.
fn committed() -> Vec<PathBuf> {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("runs.jsonl").is_file())
        .collect();
    v.sort();
    v
}

/// A copy of `src`'s records and manifest (a report writes into the folder it reads).
fn copy_of(src: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["runs.jsonl", "manifest.json"] {
        if src.join(f).is_file() {
            std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
        }
    }
    dir
}

/// Sixteen models with long names, two repeats each, three batch sizes.
fn long_names() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut records = sweep(&Shape {
        models: 16,
        ..Default::default()
    });
    for r in &mut records {
        r.spec.model = format!("{}-wide-residual-with-squeeze-excitation", r.spec.model);
    }
    write_sweep(dir.path(), &records, Some("name = \"long-names\"\n"));
    dir
}

/// The layout problems of every SVG figure drawn for `dir` at `width_in`, as
/// "folder/figure @ width: problem" lines.
fn problems(name: &str, dir: &Path, width_in: f64) -> Vec<String> {
    let s = write_report(
        dir,
        &ReportOptions {
            figures: true,
            figure_width_in: Some(width_in),
            ..ReportOptions::default()
        },
    )
    .unwrap();
    // GREENBENCH_KEEP_FIGURES=/some/dir keeps the figures for a look.
    if let Some(keep) = std::env::var_os("GREENBENCH_KEEP_FIGURES") {
        let to = PathBuf::from(keep).join(format!("{name}-{width_in}in"));
        std::fs::create_dir_all(&to).unwrap();
        for f in s.figures.iter().flat_map(|f| f.files.iter()) {
            std::fs::copy(f, to.join(f.file_name().unwrap())).unwrap();
        }
    }
    let mut v = Vec::new();
    for f in s.figures.iter().flat_map(|f| f.files.iter()) {
        if f.extension().is_none_or(|e| e != "svg") {
            continue;
        }
        let layout = svg_layout(&std::fs::read_to_string(f).unwrap()).unwrap();
        for p in layout_problems(&layout) {
            let stem = f.file_stem().unwrap().to_string_lossy();
            v.push(format!("{name}/{stem} @ {width_in} in: {p}"));
        }
    }
    v
}

#[test]
fn every_figure_fits_one_and_two_columns_without_clipped_or_overlapping_text() {
    let mut all = Vec::new();
    let mut drawn = 0;
    for width in [3.3, 3.5, 5.0, 7.0] {
        for src in committed() {
            let name = src.file_name().unwrap().to_string_lossy().to_string();
            let dir = copy_of(&src);
            all.extend(problems(&name, dir.path(), width));
            drawn += 1;
        }
        let dir = long_names();
        all.extend(problems("long-names", dir.path(), width));
    }
    assert!(drawn >= 16, "the committed folders were not found");
    assert!(
        all.is_empty(),
        "{} problems:\n{}",
        all.len(),
        all.join("\n")
    );
}
