//! A `[workload]` config: its runs are the grid's axes times the command's own axes times the
//! repeats, each with its command resolved; its errors are located.

use greenbench_core::AcceptAll;
use greenbench_core::{Catalog, CoreError, DeviceName, SweepConfig};

/// A catalog that knows only the zoo's `mlp-small` and the `digits` dataset.
struct Zoo;
impl Catalog for Zoo {
    fn models(&self) -> Vec<String> {
        vec!["mlp-small".into()]
    }
    fn datasets(&self) -> Vec<String> {
        vec!["digits".into()]
    }
    fn check_device(&self, _device: DeviceName) -> Result<(), greenbench_core::BoxError> {
        Ok(())
    }
}

const CONFIG: &str = r#"
name = "ext"
model = ["resnet18", "vgg11"]
dataset = "cifar10"
batch_size = 64
lr = [0.1, 0.01]
repeats = 2
[workload]
command = ["python3", "train.py", "--model", "{model}", "--lr={lr}", "--width", "{width}", "{{literal}}"]
env = { RUN_SEED = "{seed}" }
[workload.axes]
width = [1, 2]
"#;

#[test]
fn a_workload_sweeps_the_grid_times_its_own_axes_with_every_command_resolved() {
    let cfg = SweepConfig::parse(CONFIG, "ext.toml".as_ref()).unwrap();
    // Model and dataset names are the command's labels: the zoo does not check them.
    cfg.validate(&Zoo).unwrap();
    let runs = cfg.expand();
    assert_eq!(runs.len(), 2 * 2 * 2 * 2);
    let w = runs[0].workload.as_ref().unwrap();
    assert_eq!(
        w.command,
        [
            "python3",
            "train.py",
            "--model",
            "resnet18",
            "--lr=0.1",
            "--width",
            "1",
            "{literal}"
        ]
    );
    assert_eq!(w.env["RUN_SEED"], "0");
    assert_eq!(w.axes["width"], serde_json::json!(1));
    // Interleaved (the default with repeats): every configuration once, then the second
    // repeat of all; within a round the command's own axes vary fastest.
    assert_eq!(runs[1].repeat, 0);
    assert_eq!(
        runs[1].workload.as_ref().unwrap().axes["width"],
        serde_json::json!(2)
    );
    assert!(runs[..8].iter().all(|r| r.repeat == 0));
    assert!(runs[8..].iter().all(|r| r.repeat == 1));
    let mut ids: Vec<String> = runs.iter().map(|s| s.run_id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), runs.len(), "every run has its own id");
    // The fingerprint (resume, merge) covers the commands.
    let other = SweepConfig::parse(
        &CONFIG.replace("train.py", "train2.py"),
        "ext.toml".as_ref(),
    )
    .unwrap();
    assert_ne!(cfg.fingerprint(), other.fingerprint());
}

#[test]
fn a_config_without_workload_still_checks_its_models_against_the_zoo() {
    let text = "name = \"z\"\nmodel = \"resnet18\"\ndataset = \"digits\"\nbatch_size = 8\n";
    let cfg = SweepConfig::parse(text, "z.toml".as_ref()).unwrap();
    let e = cfg.validate(&Zoo).unwrap_err().to_string();
    assert!(e.contains("unknown model `resnet18`"), "{e}");
    assert!(cfg.expand()[0].workload.is_none());
}

fn errors(text: &str) -> String {
    let cfg = SweepConfig::parse(text, "bad.toml".as_ref()).unwrap();
    match cfg.validate(&AcceptAll) {
        Err(CoreError::Config(e)) => e.to_string(),
        Err(CoreError::ConfigMany(v)) => v
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        other => panic!("expected config errors, got {other:?}"),
    }
}

#[test]
fn workload_errors_name_the_field_line_and_what_to_write() {
    let base = "name = \"b\"\nmodel = \"m\"\ndataset = \"d\"\nbatch_size = 8\n[workload]\n";
    let e = errors(&format!(
        "{base}command = [\"run\", \"--x={{widht}}\"]\n[workload.axes]\nwidth = [1]\n"
    ));
    assert!(e.contains("placeholder `{widht}`"), "{e}");
    assert!(e.contains("workload.command"), "{e}");
    assert!(e.contains(":6:"), "located on the command's line: {e}");
    let e = errors(&format!("{base}command = []\n"));
    assert!(e.contains("the command is empty"), "{e}");
    let e = errors(&format!(
        "{base}command = [\"run\"]\n[workload.axes]\nlr = [1]\n"
    ));
    assert!(e.contains("`lr` is an axis of the sweep itself"), "{e}");
    let e = errors(&format!("{base}command = [\"run\", \"{{x\"]\n"));
    assert!(e.contains("without its `}`"), "{e}");
    let e = errors(&format!(
        "{base}command = [\"run\"]\n[workload.axes]\nw = [[1]]\n"
    ));
    assert!(e.contains("is not a text, number or boolean"), "{e}");
}
