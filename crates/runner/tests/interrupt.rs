//! Ctrl-C / SIGTERM during a run: the worker is stopped, the power limit restored, nothing is
//! recorded for the interrupted run, and the sweep returns `Interrupted` (resume reruns it).

mod common;

use common::{lock, shell_options};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use greenbench_core::{ComponentPower, PowerCap, SweepConfig};
use greenbench_runner::{interrupt, run_sweep, RunnerError};

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl PowerCap for Log {
    fn apply(
        &mut self,
        _device: greenbench_core::DeviceName,
        watts: f64,
    ) -> Result<(), greenbench_core::BoxError> {
        self.0.lock().unwrap().push(format!("apply {watts}"));
        Ok(())
    }
    fn restore(&mut self) -> Result<(), greenbench_core::BoxError> {
        self.0.lock().unwrap().push("restore".into());
        Ok(())
    }
}

#[test]
fn sigterm_during_a_run_stops_restores_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name = \"int\"\ndataset = \"digits\"\ndevice = \"cuda:0\"\nidle_seconds = 0\n[grid]\nmodel = \"mlp-small\"\nbatch_size = 8\npower_limit_w = 100.0\n";
    let cfg = SweepConfig::parse(text, &dir.path().join("int.toml")).unwrap();
    let out = dir.path().join("out");
    let opts = shell_options(&out, "cat >/dev/null; sleep 30");
    interrupt::install_handlers();
    let t = std::thread::spawn(|| {
        std::thread::sleep(Duration::from_millis(400));
        // SAFETY: sends SIGTERM to this test process; the installed handler only sets a flag.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGTERM);
        }
    });
    let t0 = Instant::now();
    let mut cap = Log::default();
    let mut idle = |_s: f64| Ok(ComponentPower::default());
    let r = run_sweep(&cfg, &opts, &lock(&out), &mut idle, Some(&mut cap));
    t.join().unwrap();
    assert!(matches!(r, Err(RunnerError::Interrupted)), "{r:?}");
    assert!(t0.elapsed() < Duration::from_secs(10), "stopped promptly");
    assert_eq!(*cap.0.lock().unwrap(), vec!["apply 100", "restore"]);
    let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap_or_default();
    assert!(
        text.is_empty(),
        "the interrupted run is not recorded: {text}"
    );
    interrupt::clear();
}
