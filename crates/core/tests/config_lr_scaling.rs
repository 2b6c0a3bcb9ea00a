//! `lr_scaling`: each run's learning rate follows its batch size from the grid's `lr` at the
//! reference batch; excludes match the `lr` as written; bad tables are refused where written.

use greenbench_core::{AcceptAll, SweepConfig};
use std::path::Path;

const BASE: &str = "name = \"t\"
dataset = \"digits\"
model = \"mlp-small\"
batch_size = [32, 128, 512]
lr = 0.1
";

fn config(text: &str) -> SweepConfig {
    let c = SweepConfig::parse(text, Path::new("t.toml")).unwrap();
    c.validate(&AcceptAll).unwrap();
    c
}

fn errors(text: &str) -> String {
    match SweepConfig::parse(text, Path::new("t.toml")).and_then(|c| c.validate(&AcceptAll)) {
        Ok(()) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn rates(c: &SweepConfig) -> Vec<(usize, f64)> {
    c.expand().iter().map(|s| (s.batch_size, s.lr)).collect()
}

#[test]
fn each_run_trains_at_the_rate_its_batch_size_gives() {
    let linear = config(&format!(
        "{BASE}lr_scaling = {{ rule = \"linear\", reference_batch = 128 }}\n"
    ));
    assert_eq!(rates(&linear), [(32, 0.025), (128, 0.1), (512, 0.4)]);
    let sqrt = config(&format!(
        "{BASE}lr_scaling = {{ rule = \"sqrt\", reference_batch = 128 }}\n"
    ));
    assert_eq!(rates(&sqrt), [(32, 0.05), (128, 0.1), (512, 0.2)]);
    // Without the table every run keeps the grid's rate, and the run ids do not change.
    let plain = config(BASE);
    assert_eq!(rates(&plain), [(32, 0.1), (128, 0.1), (512, 0.1)]);
    assert_eq!(plain.expand()[1].run_id(), linear.expand()[1].run_id());
    assert_ne!(plain.expand()[0].run_id(), linear.expand()[0].run_id());
}

#[test]
fn an_exclude_matches_the_rate_written_in_the_grid() {
    let c = config(&format!(
        "{BASE}lr_scaling = {{ rule = \"linear\", reference_batch = 128 }}\n\
         [[exclude]]\nbatch_size = 512\nlr = 0.1\n"
    ));
    assert_eq!(rates(&c), [(32, 0.025), (128, 0.1)]);
}

#[test]
fn a_workload_command_gets_the_scaled_rate() {
    let c = config(
        "name = \"t\"\nmodel = \"mine\"\ndataset = \"mine\"\nbatch_size = [32, 64]\nlr = 0.1\n\
         lr_scaling = { rule = \"linear\", reference_batch = 64 }\n\
         [workload]\ncommand = [\"train\", \"--lr\", \"{lr}\"]\n",
    );
    let commands: Vec<Vec<String>> = c
        .expand()
        .iter()
        .map(|s| s.workload.as_ref().unwrap().command.clone())
        .collect();
    assert_eq!(commands[0], ["train", "--lr", "0.05"]);
    assert_eq!(commands[1], ["train", "--lr", "0.1"]);
}

#[test]
fn a_bad_table_is_refused_where_it_is_written() {
    let e = errors(&format!(
        "{BASE}lr_scaling = {{ rule = \"linear\", reference_batch = 0 }}\n"
    ));
    assert!(e.contains("t.toml:6:14: field `lr_scaling`"), "{e}");
    assert!(
        e.contains("reference_batch must be a batch size ≥ 1, found 0"),
        "{e}"
    );
    let e = errors(&format!(
        "{BASE}lr_scaling = {{ rule = \"cubic\", reference_batch = 8 }}\n"
    ));
    assert!(e.contains("cubic"), "{e}");
    let e = errors(&format!(
        "{BASE}lr_scaling = {{ rule = \"sqrt\", reference_batch = 8 }}\n\
         [search]\nstrategy = \"random\"\nsamples = 2\nlr_range = [0.01, 0.1]\n"
    ));
    assert!(
        e.contains("cannot be combined with [search] lr_range"),
        "{e}"
    );
}

#[test]
fn a_warm_up_is_part_of_the_run_and_absent_when_not_written() {
    let c = config(&format!("{BASE}lr_warmup_epochs = 1.5\n"));
    assert!(c.expand().iter().all(|s| s.lr_warmup_epochs == Some(1.5)));
    let plain = config(BASE);
    assert!(plain.expand().iter().all(|s| s.lr_warmup_epochs.is_none()));
    assert_ne!(c.expand()[0].run_id(), plain.expand()[0].run_id());
    // 0 is no warm-up: the same runs as without the key.
    let zero = config(&format!("{BASE}lr_warmup_epochs = 0\n"));
    assert_eq!(zero.expand()[0].run_id(), plain.expand()[0].run_id());
    let e = errors(&format!("{BASE}lr_warmup_epochs = -1.0\n"));
    assert!(e.contains("t.toml:6:20: field `lr_warmup_epochs`"), "{e}");
    assert!(e.contains("must be epochs ≥ 0, found -1"), "{e}");
}
