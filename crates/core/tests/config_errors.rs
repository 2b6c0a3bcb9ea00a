//! Every config error names file, line, column and field, with the accepted values.

use greenbench_core::Catalog;
use greenbench_core::{CoreError, DeviceName, Optimizer, SweepConfig};
use std::path::Path;

struct TestCatalog;

impl Catalog for TestCatalog {
    fn models(&self) -> Vec<String> {
        vec!["mlp-small".into(), "lenet".into()]
    }
    fn datasets(&self) -> Vec<String> {
        vec!["digits".into(), "fashion-mnist-32".into()]
    }
    fn check_device(&self, d: DeviceName) -> Result<(), greenbench_core::BoxError> {
        if d == DeviceName::Cpu {
            Ok(())
        } else {
            Err("built without CUDA".into())
        }
    }
    fn check_combination(
        &self,
        model: &str,
        dataset: &str,
    ) -> Result<(), greenbench_core::BoxError> {
        if model == "lenet" && dataset == "digits" {
            Err("lenet needs 3×32×32 images".into())
        } else {
            Ok(())
        }
    }
}

const GOOD: &str = r#"name = "t"
dataset = "digits"
epochs = 2
[grid]
model = ["mlp-small"]
batch_size = [32, 64]
lr = 0.01
"#;

fn errors(text: &str) -> String {
    let path = Path::new("configs/t.toml");
    match SweepConfig::parse(text, path).and_then(|c| c.validate(&TestCatalog).map(|_| c)) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn good_config_expands() {
    let c = SweepConfig::parse(GOOD, Path::new("t.toml")).unwrap();
    c.validate(&TestCatalog).unwrap();
    let runs = c.expand();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].batch_size, 32);
    assert_eq!(runs[1].batch_size, 64);
    assert_eq!(runs[0].optimizer, Optimizer::Sgd);
    assert_eq!(runs[0].momentum, 0.9);
    assert_eq!(runs[0].weight_decay, 5e-4);
}

#[test]
fn unknown_key_names_line_and_field() {
    let e = errors(&GOOD.replace("epochs = 2", "epochz = 2"));
    assert!(e.contains("configs/t.toml:3:1"), "{e}");
    assert!(e.contains("epochz"), "{e}");
    assert!(e.contains("unknown field"), "{e}");
}

#[test]
fn unknown_key_in_grid() {
    let e = errors(&GOOD.replace("lr = 0.01", "learning_rate = 0.01"));
    assert!(e.contains(":7:1"), "{e}");
    assert!(e.contains("learning_rate"), "{e}");
}

#[test]
fn wrong_type_names_field() {
    let e = errors(&GOOD.replace("batch_size = [32, 64]", "batch_size = \"big\""));
    assert!(e.contains(":6:14"), "{e}");
    assert!(e.contains("grid.batch_size"), "{e}");
    assert!(e.contains("invalid type"), "{e}");
}

#[test]
fn zero_and_negative_sizes() {
    let e = errors(&GOOD.replace("batch_size = [32, 64]", "batch_size = [32, 0]"));
    assert!(e.contains(":6:14: field `grid.batch_size`"), "{e}");
    assert!(e.contains("at least 1, found 0"), "{e}");
    let e = errors(&GOOD.replace("epochs = 2", "epochs = -1"));
    assert!(e.contains(":3:10: field `epochs`"), "{e}");
    let e = errors(&GOOD.replace("lr = 0.01", "lr = -0.1"));
    assert!(e.contains("field `grid.lr`"), "{e}");
}

#[test]
fn empty_list() {
    let e = errors(&GOOD.replace("model = [\"mlp-small\"]", "model = []"));
    assert!(
        e.contains(":5:9: field `grid.model`: the list is empty"),
        "{e}"
    );
}

#[test]
fn unknown_model_lists_accepted() {
    let e = errors(&GOOD.replace("mlp-small", "resnet999"));
    assert!(
        e.contains("field `grid.model`: unknown model `resnet999`"),
        "{e}"
    );
    assert!(e.contains("accepted: mlp-small, lenet"), "{e}");
}

#[test]
fn unknown_dataset_and_device() {
    let e = errors(&GOOD.replace("\"digits\"", "\"imagenet\""));
    assert!(
        e.contains(":2:11: field `dataset`: unknown dataset `imagenet`"),
        "{e}"
    );
    assert!(e.contains("accepted: digits"), "{e}");
    let e = errors(&GOOD.replace("epochs = 2", "epochs = 2\ndevice = \"cuda:0\""));
    assert!(
        e.contains("field `device`: device `cuda:0` cannot be used: built without CUDA"),
        "{e}"
    );
}

#[test]
fn unknown_optimizer_lists_accepted() {
    let e = errors(&GOOD.replace("lr = 0.01", "lr = 0.01\noptimizer = [\"sgd\", \"lion\"]"));
    assert!(e.contains("unknown optimizer `lion`"), "{e}");
    assert!(e.contains("accepted: sgd, sgd-nesterov, adamw"), "{e}");
}

#[test]
fn unknown_schedule_and_malformed_device_are_located_with_the_rest() {
    let e = errors(&GOOD.replace(
        "epochs = 2",
        "epochs = 2\nschedule = \"linear\"\ndevice = [\"cpu\", \"gpu0\"]",
    ));
    assert!(e.contains("errors in the configuration"), "{e}");
    assert!(
        e.contains("field `schedule`: unknown schedule `linear`"),
        "{e}"
    );
    assert!(
        e.contains("accepted: cosine, cosine-step, step, constant"),
        "{e}"
    );
    assert!(e.contains("field `device`: unknown device `gpu0`"), "{e}");
}

#[test]
fn axis_twice_is_an_error() {
    let e = errors(&GOOD.replace("epochs = 2", "epochs = 2\nlr = 0.1"));
    assert!(e.contains("both at the top level and in [grid]"), "{e}");
}

#[test]
fn missing_required_axis() {
    let e = errors(&GOOD.replace("batch_size = [32, 64]\n", ""));
    assert!(e.contains("required axis `batch_size` is missing"), "{e}");
}

#[test]
fn incompatible_pair_suggests_exclude() {
    let e = errors(&GOOD.replace("[\"mlp-small\"]", "[\"mlp-small\", \"lenet\"]"));
    assert!(
        e.contains("model `lenet` cannot train on dataset `digits`"),
        "{e}"
    );
    assert!(e.contains("[[exclude]]"), "{e}");
}

#[test]
fn several_errors_reported_at_once() {
    let e = errors(
        &GOOD
            .replace("batch_size = [32, 64]", "batch_size = 0")
            .replace("lr = 0.01", "lr = 0.0"),
    );
    assert!(e.starts_with("2 errors"), "{e}");
}

#[test]
fn excludes_drop_combinations_and_are_checked() {
    let text = format!("{GOOD}\n[[exclude]]\nbatch_size = 64\n");
    let c = SweepConfig::parse(&text, Path::new("t.toml")).unwrap();
    c.validate(&TestCatalog).unwrap();
    assert_eq!(c.expand().len(), 1);
    let e = errors(&format!("{GOOD}\n[[exclude]]\nbatchsize = 64\n"));
    assert!(
        e.contains("field `exclude.batchsize`: `batchsize` is not an axis"),
        "{e}"
    );
    let e = errors(&format!("{GOOD}\n[[exclude]]\nbatch_size = [32, 64]\n"));
    assert!(e.contains("single values"), "{e}");
}

#[test]
fn repeats_and_dataset_table() {
    let text = GOOD.replace(
        "dataset = \"digits\"",
        "repeats = 3\ndataset = { name = \"digits\", subset = 100, replicate_test = 5 }",
    );
    let c = SweepConfig::parse(&text, Path::new("t.toml")).unwrap();
    c.validate(&TestCatalog).unwrap();
    let runs = c.expand();
    assert_eq!(runs.len(), 6);
    // Interleaved (the default order): both configurations' repeat 0, then repeat 1, then 2.
    let repeats: Vec<usize> = runs.iter().map(|r| r.repeat).collect();
    assert_eq!(repeats, [0, 0, 1, 1, 2, 2]);
    assert_eq!(runs[0].subset, Some(100));
    assert_eq!(runs[0].replicate_test, 5);
    let ids: std::collections::HashSet<_> = runs.iter().map(|r| r.run_id()).collect();
    assert_eq!(ids.len(), 6, "repeats have distinct run ids");
    let e = errors(&GOOD.replace(
        "dataset = \"digits\"",
        "dataset = { name = \"digits\", sub = 3 }",
    ));
    assert!(e.contains("unknown field `sub`"), "{e}");
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let e = SweepConfig::load(Path::new("/nonexistent/x.toml")).unwrap_err();
    assert!(matches!(e, CoreError::Io(_)));
    assert!(e.to_string().contains("/nonexistent/x.toml"));
}

/// `GOOD` with a `carbon = …` line before `[grid]`.
fn with_carbon(carbon: &str) -> String {
    GOOD.replace("[grid]", &format!("carbon = {carbon}\n[grid]"))
}

#[test]
fn carbon_country_and_intensity_csv_are_checked_before_a_sweep() {
    // A known country passes and is kept.
    let c = SweepConfig::parse(&with_carbon(r#"{ country = "FR" }"#), Path::new("t.toml")).unwrap();
    c.validate(&TestCatalog).unwrap();
    assert_eq!(c.carbon.country.as_deref(), Some("FR"));
    // An unknown one is an error listing the codes.
    let e = errors(&with_carbon(r#"{ country = "XX" }"#));
    assert!(e.contains("carbon.country `XX`") && e.contains("FR"), "{e}");
    // Both sources, or an explicit intensity beside one, are ambiguous.
    let e = errors(&with_carbon(
        r#"{ country = "FR", intensity_csv = "h.csv" }"#,
    ));
    assert!(e.contains("not both"), "{e}");
    let e = errors(&with_carbon(
        r#"{ country = "FR", intensity_g_per_kwh = 56.0 }"#,
    ));
    assert!(e.contains("conflicts"), "{e}");
    // The CSV is read relative to the config file; a bad row is named by file and line.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, with_carbon(r#"{ intensity_csv = "grid.csv" }"#)).unwrap();
    let check = |csv: &str| {
        std::fs::write(dir.path().join("grid.csv"), csv).unwrap();
        SweepConfig::load(&cfg)
            .and_then(|c| c.validate(&TestCatalog))
            .map_err(|e| e.to_string())
    };
    check("timestamp,g_per_kwh\n2024-03-01T00:00:00Z,100\n2024-03-01T01:00:00Z,90\n").unwrap();
    let e = check("timestamp,g_per_kwh\n2024-03-01T00:00:00Z,100\n2024-03-01T01:00:00Z,-3\n")
        .unwrap_err();
    assert!(e.contains("grid.csv:3:") && e.contains("negative"), "{e}");
    let e = check("2024-03-01T00:00:00Z,100\nnoon,90\n").unwrap_err();
    assert!(e.contains("grid.csv:2: bad timestamp"), "{e}");
    std::fs::remove_file(dir.path().join("grid.csv")).unwrap();
    let e = SweepConfig::load(&cfg)
        .and_then(|c| c.validate(&TestCatalog))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot read") && e.contains("grid.csv"), "{e}");
    // Unknown keys in carbon stay errors.
    let e = errors(&with_carbon(r#"{ contry = "FR" }"#));
    assert!(e.contains("contry"), "{e}");
}

#[test]
fn an_idle_baseline_shorter_than_a_second_is_refused() {
    let e = errors(&GOOD.replace("epochs = 2", "epochs = 2\nidle_seconds = 1e-9"));
    assert!(
        e.contains("configs/t.toml:4:16: field `idle_seconds`"),
        "{e}"
    );
    assert!(e.contains("at least 1 second"), "{e}");
    assert!(e.contains("RAPL"), "the message says why: {e}");
    assert!(
        errors(&GOOD.replace("epochs = 2", "epochs = 2\nidle_seconds = 0.5"))
            .contains("idle_seconds")
    );
    for ok in ["0", "0.0", "1", "2.5"] {
        let text = GOOD.replace("epochs = 2", &format!("epochs = 2\nidle_seconds = {ok}"));
        SweepConfig::parse(&text, Path::new("t.toml"))
            .unwrap()
            .validate(&TestCatalog)
            .unwrap();
    }
}

#[test]
fn carbon_values_out_of_range_or_not_finite_are_refused_at_their_key() {
    for (carbon, key) in [
        ("intensity_g_per_kwh = inf", "intensity_g_per_kwh"),
        ("intensity_g_per_kwh = nan", "intensity_g_per_kwh"),
        ("intensity_g_per_kwh = -1", "intensity_g_per_kwh"),
        ("pue = inf", "pue"),
        ("pue = nan", "pue"),
        ("pue = 0.5", "pue"),
    ] {
        // As a [carbon] table: the key's own line.
        let e = errors(&format!("{GOOD}[carbon]\n{carbon}\n"));
        assert!(e.contains(&format!(":9:1: field `carbon.{key}`")), "{e}");
        assert!(e.to_lowercase().contains(carbon), "{e}");
        // Inline: the key inside the braces.
        let e = errors(&with_carbon(&format!("{{ {carbon} }}")));
        assert!(e.contains(&format!(":4:12: field `carbon.{key}`")), "{e}");
    }
}

#[test]
fn every_float_setting_refuses_nan_and_infinity() {
    let top = |line: &str| GOOD.replace("epochs = 2", &format!("epochs = 2\n{line}"));
    let texts = |v: &str| {
        vec![
            GOOD.replace("lr = 0.01", &format!("lr = {v}")),
            top(&format!("power_limit_w = {v}")),
            top(&format!("idle_seconds = {v}")),
            top(&format!("run_timeout = {v}")),
            top(&format!("momentum = {v}")),
            top(&format!("weight_decay = {v}")),
            with_carbon(&format!("{{ intensity_g_per_kwh = {v} }}")),
            with_carbon(&format!("{{ pue = {v} }}")),
            GOOD.replace(
                "dataset = \"digits\"",
                &format!("dataset = {{ name = \"digits\", validation = {v} }}"),
            ),
            format!(
                "{GOOD}[search]\nstrategy = \"random\"\nsamples = 2\nlr_range = [0.001, {v}]\n"
            ),
            format!("{GOOD}[search.budget]\nenergy_kwh = {v}\n"),
            format!("{GOOD}[search.budget]\nhours = {v}\n"),
            format!("{GOOD}[search.budget]\nco2_g = {v}\n"),
        ]
    };
    for v in ["nan", "inf", "-inf"] {
        for text in texts(v) {
            // The file reads; validation refuses the value.
            let c = SweepConfig::parse(&text, Path::new("t.toml")).unwrap();
            assert!(c.validate(&TestCatalog).is_err(), "accepted:\n{text}");
        }
    }
}
