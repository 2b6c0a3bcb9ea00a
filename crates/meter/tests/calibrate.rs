//! `greenbench calibrate`'s ladder against a fake powercap tree whose package counter follows a
//! known power curve: the counter advances by the curve's power at the step's load × elapsed time.

mod common;

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::FakePowercap;
use greenbench_meter::CpuTimes;
use greenbench_meter::{
    run_ladder, CalibrationError, CalibrationHeader, FileReader, FsReader, LadderPlan, LoadDriver,
    RaplSource,
};

const RANGE: u64 = 262_143_328_850;

/// The host's true package power at utilisation `u`: concave, as real packages are.
fn curve(u: f64) -> f64 {
    38.0 + 140.0 * u - 45.0 * u * u
}

/// Energy so far (µJ), the load now, and when the energy was last brought up to date.
struct State {
    uj: f64,
    load: f64,
    at: Instant,
}

/// Answers `energy_uj` reads with the energy the curve gives over the time passed at each load.
struct CurveCounter {
    state: Mutex<State>,
}

impl CurveCounter {
    fn advance(s: &mut State) {
        let now = Instant::now();
        s.uj += curve(s.load) * now.duration_since(s.at).as_secs_f64() * 1e6;
        s.at = now;
    }
}

impl FileReader for CurveCounter {
    fn read(&self, path: &Path, buf: &mut [u8]) -> io::Result<usize> {
        if !path.ends_with("energy_uj") {
            return FsReader.read(path, buf);
        }
        let mut s = self.state.lock().unwrap();
        Self::advance(&mut s);
        let text = format!("{}\n", (s.uj as u64) % RANGE);
        let n = text.len().min(buf.len());
        buf[..n].copy_from_slice(&text.as_bytes()[..n]);
        Ok(n)
    }
}

/// Sets the counter's load instead of running threads.
struct FakeLoad {
    counter: Arc<CurveCounter>,
    cpus: usize,
    log: Vec<usize>,
}

impl LoadDriver for FakeLoad {
    fn logical_cpus(&self) -> usize {
        self.cpus
    }
    fn set_threads(&mut self, threads: usize) -> Result<(), CalibrationError> {
        let mut s = self.counter.state.lock().unwrap();
        CurveCounter::advance(&mut s);
        s.load = threads as f64 / self.cpus as f64;
        self.log.push(threads);
        Ok(())
    }
    fn cpu_times(&self) -> Option<CpuTimes> {
        None // nominal utilisation: the fake load is exactly threads ÷ CPUs
    }
}

fn header() -> CalibrationHeader {
    CalibrationHeader {
        cpu_model: "Fake CPU 1234".into(),
        logical_cpus: 8,
        source: "fake RAPL".into(),
        measured_at: "2026-12-05T00:00:00Z".into(),
        host: "test".into(),
    }
}

#[test]
fn the_fit_recovers_a_known_power_curve_within_two_percent() {
    let fake = FakePowercap::new();
    // Starts near the top of the range: the ladder must see through a wrap.
    fake.domain("intel-rapl:0", "package-0", 0, Some(RANGE));
    let counter = Arc::new(CurveCounter {
        state: Mutex::new(State {
            uj: (RANGE - 3_000_000) as f64,
            load: 0.0,
            at: Instant::now(),
        }),
    });
    let mut source = RaplSource::open_with(&fake.root(), counter.clone()).unwrap();
    let mut load = FakeLoad {
        counter,
        cpus: 8,
        log: Vec::new(),
    };
    let plan = LadderPlan::even(8, 5, Duration::from_millis(20), Duration::from_millis(400));
    let mut seen = Vec::new();
    let cal = run_ladder(&mut source, &mut load, &plan, header(), &mut |s| {
        seen.push(s.clone())
    })
    .unwrap();
    assert_eq!(load.log, [0, 2, 4, 6, 8, 0], "ladder steps, then stopped");
    assert_eq!(seen.len(), 5);
    assert!(seen.iter().all(|s| !s.measured_utilisation));
    assert_eq!(cal.points.len(), 5);
    for i in 0..=20 {
        let u = i as f64 / 20.0;
        let err = (cal.power_w(u) - curve(u)).abs() / curve(u);
        assert!(
            err < 0.02,
            "at {u}: fitted {:.2} W, true {:.2} W ({:.2} %)",
            cal.power_w(u),
            curve(u),
            err * 100.0
        );
    }
    assert!(
        (cal.idle_w() - 38.0).abs() / 38.0 < 0.02,
        "{}",
        cal.idle_w()
    );
    assert!(cal.basis().contains("Fake CPU 1234"), "{}", cal.basis());
}

#[test]
fn without_rapl_calibration_says_what_why_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let e = greenbench_meter::open_counter(&dir.path().join("powercap")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("no ") && msg.contains("powercap"), "{msg}");
    assert!(msg.contains("why:") && msg.contains("RAPL"), "{msg}");
    assert!(msg.contains("fix:") && msg.contains("bare metal"), "{msg}");
}
