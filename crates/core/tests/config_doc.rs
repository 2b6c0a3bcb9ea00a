//! docs/config.md documents every key the config parser accepts.
//!
//! The accepted keys come from the parser itself: a config with an unknown key in each table
//! (top level, `[grid]`, the `[dataset]` table, `carbon`) is rejected with serde's
//! "unknown field `x`, expected one of `a`, `b`, …" message, which lists the keys that table
//! accepts; `[[exclude]]` accepts the axes in [`greenbench_core::AXES`]. Each must appear
//! in docs/config.md as `` `key` ``.

use greenbench_core::SweepConfig;
use greenbench_core::AXES;
use std::path::{Path, PathBuf};

const UNKNOWN: &str = "no_such_key_xyz";

fn doc_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/config.md")
}

/// The keys the parser accepts in the table where `text` puts the unknown key.
fn accepted_keys(text: &str) -> Vec<String> {
    let err = match SweepConfig::parse(text, Path::new("probe.toml")) {
        Ok(_) => panic!("the parser accepted the unknown key `{UNKNOWN}` in:\n{text}"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains(&format!("unknown field `{UNKNOWN}`")),
        "expected an unknown-field error for:\n{text}\ngot: {err}"
    );
    let listed = err
        .split_once("expected")
        .unwrap_or_else(|| panic!("the error lists no accepted keys: {err}"))
        .1;
    let keys: Vec<String> = listed
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(!keys.is_empty(), "no keys found in: {err}");
    keys
}

fn tables() -> Vec<(&'static str, Vec<String>)> {
    let top = format!("name = \"t\"\n{UNKNOWN} = 1\n");
    let grid = format!("name = \"t\"\n[grid]\n{UNKNOWN} = 1\n");
    let dataset = format!("name = \"t\"\n[dataset]\nname = \"digits\"\n{UNKNOWN} = 1\n");
    let carbon = format!("name = \"t\"\n[carbon]\n{UNKNOWN} = 1\n");
    let search = format!("name = \"t\"\n[search]\n{UNKNOWN} = 1\n");
    let budget = format!("name = \"t\"\n[search.budget]\n{UNKNOWN} = 1\n");
    vec![
        ("top level", accepted_keys(&top)),
        ("[grid]", accepted_keys(&grid)),
        ("[dataset]", accepted_keys(&dataset)),
        ("carbon", accepted_keys(&carbon)),
        ("[search]", accepted_keys(&search)),
        ("[search] budget", accepted_keys(&budget)),
        ("[[exclude]]", AXES.iter().map(|a| a.to_string()).collect()),
    ]
}

#[test]
fn the_probe_finds_the_known_keys() {
    let t = tables();
    let has = |table: &str, key: &str| {
        t.iter()
            .any(|(name, keys)| *name == table && keys.iter().any(|k| k == key))
    };
    assert!(has("top level", "momentum"));
    assert!(has("top level", "grid"));
    assert!(has("[grid]", "power_limit_w"));
    assert!(has("[dataset]", "replicate_test"));
    assert!(has("carbon", "pue"));
    assert!(has("[search]", "max_epochs"));
    assert!(has("[search] budget", "co2_g"));
    assert!(!has("[grid]", "momentum"), "momentum is not an axis");
}

#[test]
fn every_accepted_key_is_documented() {
    let path = doc_path();
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut missing = Vec::new();
    for (table, keys) in tables() {
        for key in keys {
            if !doc.contains(&format!("`{key}`")) {
                missing.push(format!("{table}: `{key}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} does not document these keys the parser accepts: {}",
        path.display(),
        missing.join(", ")
    );
}

/// The ```toml blocks of docs/config.md whose first setting is `name = …` (whole configs, not
/// fragments).
fn whole_config_examples(doc: &str) -> Vec<String> {
    doc.split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split_once("```").map(|(body, _)| body.to_string()))
        .filter(|body| {
            body.lines()
                .map(str::trim)
                .find(|l| !l.is_empty() && !l.starts_with('#'))
                .is_some_and(|l| l.starts_with("name ="))
        })
        .collect()
}

#[test]
fn the_whole_config_examples_parse_and_expand() {
    let path = doc_path();
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let examples = whole_config_examples(&doc);
    assert!(
        examples.len() >= 2,
        "expected the minimal and the complete example in {}",
        path.display()
    );
    for text in examples {
        let cfg = SweepConfig::parse(&text, &path)
            .unwrap_or_else(|e| panic!("an example in docs/config.md does not parse: {e}\n{text}"));
        assert!(
            !cfg.expand().is_empty(),
            "example expands to no runs:\n{text}"
        );
    }
}
