//! Ctrl-C in a terminal (or scancel) signals the whole process group: the worker may die of the
//! signal before the sweep sees its own. That run is stopped by the user, not crashed: it is not
//! recorded, so the next sweep into the folder runs it again.

mod common;

use common::shell_options;
use greenbench_core::{ComponentPower, SweepConfig};
use greenbench_runner::{interrupt, run_sweep, FolderLock, RunnerError};

#[test]
fn a_worker_killed_by_the_groups_sigint_is_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"group\"\ndataset = \"digits\"\nidle_seconds = 0\n[grid]\nmodel = \"mlp-small\"\nbatch_size = [8, 16]\n";
    let cfg = SweepConfig::parse(text, &dir.path().join("group.toml")).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    // The worker signals its parent (this test process) and then itself, as a terminal's Ctrl-C
    // reaches both; it dies of SIGINT at once.
    let worker = "cat >/dev/null; kill -INT $PPID; kill -INT $$; sleep 5";
    let opts = shell_options(&out, worker);
    interrupt::install_handlers();
    let lock = FolderLock::acquire(&out, "sweep").unwrap();
    let mut idle = |_s: f64| Ok(ComponentPower::default());
    let r = run_sweep(&cfg, &opts, &lock, &mut idle, None);
    assert!(matches!(r, Err(RunnerError::Interrupted)), "{r:?}");
    let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap_or_default();
    assert!(text.is_empty(), "the stopped run is not recorded: {text}");
    interrupt::clear();
}
