//! Helpers shared by the CLI's integration tests: run the real binary on committed data.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use greenbench_core::{read_records, RunRecord};

/// The built `greenbench` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_greenbench"))
}

/// The repository's `datasets/` folder (holds the committed digits fixture).
pub fn datasets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets")
}

/// A command for the binary with the datasets root set and the fault injector cleared.
pub fn greenbench() -> Command {
    let mut c = Command::new(bin());
    c.env("GREENBENCH_DATASETS", datasets())
        .env_remove("GREENBENCH_INJECT_FAULT");
    c
}

/// Writes a config file into `dir`.
pub fn write_config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).expect("writing test config");
    p
}

/// Runs and returns the output, printing it when the test fails to help diagnosis.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("running greenbench");
    eprintln!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Reads the records of a sweep folder.
pub fn records(out: &Path) -> Vec<RunRecord> {
    read_records(&out.join("runs.jsonl")).expect("reading runs.jsonl")
}

/// A small digits sweep config: MLPs on the committed digits fixture.
pub fn digits_config(
    name: &str,
    models: &[&str],
    batch: &[usize],
    epochs: usize,
    extra: &str,
) -> String {
    let models: Vec<String> = models.iter().map(|m| format!("\"{m}\"")).collect();
    let batch: Vec<String> = batch.iter().map(|b| b.to_string()).collect();
    format!(
        "name = \"{name}\"\ndataset = \"digits\"\nthreads = 1\nepochs = {epochs}\nwarmup_batches = 2\nidle_seconds = 0\n{extra}\n[grid]\nmodel = [{}]\nbatch_size = [{}]\nlr = 0.05\n",
        models.join(", "),
        batch.join(", ")
    )
}

/// `greenbench sweep CONFIG --out OUT`, ready for more arguments.
pub fn sweep_into(cfg: &Path, out: &Path) -> Command {
    let mut c = greenbench();
    c.arg("sweep").arg(cfg).arg("--out").arg(out);
    c
}

/// The rows of `greenbench sweep CFG --dry-run --json` (one JSON object per planned run).
pub fn dry_run_rows(cfg: &Path) -> Vec<serde_json::Value> {
    let o = run(greenbench()
        .arg("sweep")
        .arg(cfg)
        .arg("--dry-run")
        .arg("--json"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    match serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap() {
        serde_json::Value::Array(rows) => rows,
        other => panic!("the dry run printed no list: {other}"),
    }
}
