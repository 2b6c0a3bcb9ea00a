//! `greenbench report` on every committed sweep folder gives the same bytes as before: the
//! committed report.md and PNG figures exactly, and report.html, summary.md, runs.csv,
//! emissions.csv, the LaTeX tables and the SVG figures (not committed: generated files) by the
//! SHA-256 sums in `tests/golden/committed_reports.sha256`. A refactoring must not move a
//! byte of what users publish; a change meant to alter a report regenerates the sums with
//! `GREENBENCH_BLESS=1 cargo test --release -p greenbench --test committed_reports` and says so
//! in its commit. PDFs are left out: svg2pdf writes a fresh document id each time.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use sha2::{Digest, Sha256};

/// Each committed folder and the extra arguments its published report was made with.
const FOLDERS: &[(&str, &[&str])] = &[
    ("paper-cpu", &[]),
    ("paper-batch-cpu", &[]),
    ("search-grid", &[]),
    ("search-halving", &["--compare-grid", "results/search-grid"]),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/committed_reports.sha256")
}

/// Copies what `report` reads (records, manifest, traces) of every committed folder into
/// `root/results/`, so reports name the folder as the committed ones do.
fn copy_inputs(root: &Path) {
    for (name, _) in FOLDERS {
        let from = repo().join("results").join(name);
        let to = root.join("results").join(name);
        std::fs::create_dir_all(to.join("traces")).unwrap();
        for f in ["runs.jsonl", "manifest.json"] {
            std::fs::copy(from.join(f), to.join(f)).unwrap();
        }
        for e in std::fs::read_dir(from.join("traces")).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join("traces").join(e.file_name())).unwrap();
        }
    }
}

/// Every generated file of a report but the PDFs, relative to `root`.
fn generated(root: &Path, name: &str) -> Vec<PathBuf> {
    let dir = root.join("results").join(name);
    let mut files = Vec::new();
    for f in [
        "report.md",
        "report.html",
        "summary.md",
        "runs.csv",
        "emissions.csv",
    ] {
        files.push(dir.join(f));
    }
    for sub in ["tables", "figures"] {
        let mut inner: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x != "pdf"))
            .collect();
        inner.sort();
        files.extend(inner);
    }
    files
        .into_iter()
        .map(|p| p.strip_prefix(root).unwrap().to_path_buf())
        .collect()
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn reports_of_the_committed_folders_are_byte_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_inputs(root);
    let mut sums = BTreeMap::new();
    for (name, extra) in FOLDERS {
        let o = run(greenbench()
            .current_dir(root)
            .arg("report")
            .arg(format!("results/{name}"))
            .args(*extra));
        assert!(o.status.success(), "report of {name} failed");
        for rel in generated(root, name) {
            sums.insert(rel.display().to_string(), sha256(&root.join(&rel)));
        }
        // What is committed must come out exactly as committed.
        let committed = repo().join("results").join(name);
        let mut compared = vec![PathBuf::from("report.md")];
        for e in std::fs::read_dir(committed.join("figures")).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "png") {
                compared.push(Path::new("figures").join(p.file_name().unwrap()));
            }
        }
        for rel in compared {
            let now = std::fs::read(root.join("results").join(name).join(&rel)).unwrap();
            let then = std::fs::read(committed.join(&rel)).unwrap();
            assert!(
                now == then,
                "results/{name}/{} differs from the committed file",
                rel.display()
            );
        }
    }
    let text: String = sums
        .iter()
        .map(|(path, sum)| format!("{sum}  {path}\n"))
        .collect();
    if std::env::var_os("GREENBENCH_BLESS").is_some() {
        std::fs::write(golden(), &text).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(golden()).expect(
        "tests/golden/committed_reports.sha256 is missing: make it with GREENBENCH_BLESS=1",
    );
    let want: BTreeMap<&str, &str> = expected
        .lines()
        .filter_map(|l| l.split_once("  ").map(|(s, p)| (p, s)))
        .collect();
    let mut changed = Vec::new();
    for (path, sum) in &sums {
        match want.get(path.as_str()) {
            Some(w) if w == sum => {}
            Some(_) => changed.push(format!("changed: {path}")),
            None => changed.push(format!("new: {path}")),
        }
    }
    for path in want.keys() {
        if !sums.contains_key(*path) {
            changed.push(format!("no longer written: {path}"));
        }
    }
    assert!(
        changed.is_empty(),
        "the reports of the committed folders changed:\n{}\n(if meant, regenerate with \
         GREENBENCH_BLESS=1 and say why in the commit)",
        changed.join("\n")
    );
}
