//! NVML logic against replayed traces, and the real NVML path reporting unavailable here.

use greenbench_core::{Component, Quality};
use greenbench_meter::{
    EnergySource, GpuEnergyMode, GpuSample, Meter, MeterError, NvmlSource, ReplayDevice,
};

fn row(t_s: f64, power_w: Option<f64>, energy_mj: Option<u64>, util: Option<f64>) -> GpuSample {
    GpuSample {
        t_s,
        power_w,
        energy_mj,
        util,
        mem_used: None,
    }
}

#[test]
fn counter_path_uses_millijoules_since_open() {
    let dev = ReplayDevice::new(vec![
        row(0.0, Some(100.0), Some(1_000), Some(10.0)),
        row(0.1, Some(300.0), Some(1_500), Some(90.0)),
        row(0.2, Some(300.0), Some(3_000), Some(95.0)),
    ]);
    let mut s = NvmlSource::from_device(Box::new(dev)).unwrap();
    assert_eq!(s.mode(), GpuEnergyMode::Counter);
    assert!(s.basis().contains("energy counter"));
    assert_eq!(s.name(), "replay");
    let c = s.read().unwrap();
    assert_eq!(c.get(Component::Gpu), Some(0.5));
    assert_eq!(c.gpu_util, Some(90.0));
    assert_eq!(c.power_w[2], Some(300.0));
    assert_eq!(s.read().unwrap().get(Component::Gpu), Some(2.0));
    // Exhausted trace is an error, not 0.
    assert!(matches!(s.read(), Err(MeterError::Replay { .. })));
}

#[test]
fn trapezoid_path_integrates_power() {
    let csv = "t_s,power_w,energy_mj,util\n0,100,,0\n1,200,,50\n2,200,,50\n4,100,,10\n";
    let dev = ReplayDevice::from_csv(csv, "trace.csv").unwrap();
    let mut s = NvmlSource::from_device(Box::new(dev)).unwrap();
    assert_eq!(s.mode(), GpuEnergyMode::Trapezoid);
    assert!(s.basis().contains("trapezoid"));
    assert_eq!(s.read().unwrap().get(Component::Gpu), Some(150.0));
    assert_eq!(s.read().unwrap().get(Component::Gpu), Some(350.0));
    assert_eq!(s.read().unwrap().get(Component::Gpu), Some(650.0));
}

#[test]
fn counter_going_backwards_is_an_error() {
    let dev = ReplayDevice::new(vec![
        row(0.0, None, Some(5_000), None),
        row(0.1, None, Some(4_000), None),
    ]);
    let mut s = NvmlSource::from_device(Box::new(dev)).unwrap();
    assert!(matches!(s.read(), Err(MeterError::CounterBackwards { .. })));
}

#[test]
fn replay_through_a_window_and_failure_mid_window() {
    let dev = ReplayDevice::new(vec![
        row(0.0, Some(100.0), Some(0), None),  // opened
        row(0.1, Some(100.0), Some(0), None),  // Meter::from_sources polls once
        row(0.2, Some(100.0), Some(10), None), // begin
        row(0.3, Some(100.0), Some(40), None), // sampler-like poll
        row(0.4, Some(100.0), Some(70), None), // end
        row(0.5, Some(100.0), Some(80), None), // begin of the second window
    ]);
    let m = Meter::from_sources(vec![Box::new(
        NvmlSource::from_device(Box::new(dev)).unwrap(),
    )]);
    assert_eq!(m.choices()[0].source, "replay");
    let w = m.begin().unwrap();
    m.poll();
    let r = w.end().unwrap();
    assert!((r.energy.gpu_j.unwrap() - 0.06).abs() < 1e-12, "{r:?}");
    assert_eq!(r.energy.quality, Some(Quality::Measured));
    // Second window: the trace runs out → the GPU is missing, never 0.
    let w = m.begin().unwrap();
    let r = w.end().unwrap();
    assert_eq!(r.energy.gpu_j, None);
    assert_eq!(r.energy.total_j, None);
    assert!(r.problems[0].contains("exhausted"), "{:?}", r.problems);
}

#[test]
fn replay_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("gpu.csv");
    std::fs::write(&p, "t_s,power_w,energy_mj\n0,50,\n0.5,70,\n").unwrap();
    let mut s = NvmlSource::from_device(Box::new(ReplayDevice::from_path(&p).unwrap())).unwrap();
    assert_eq!(s.read().unwrap().get(Component::Gpu), Some(30.0));
    let e = ReplayDevice::from_path(&dir.path().join("missing.csv"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.csv"), "{e}");
}

#[test]
fn real_nvml_reports_unavailable_without_panicking() {
    match NvmlSource::open(0) {
        Err(e) => {
            assert!(matches!(e, MeterError::NvmlUnavailable { .. }), "{e}");
            assert!(e.to_string().starts_with("NVML unavailable: "), "{e}");
            assert!(e.fix().is_some());
        }
        // On a machine with a driver (the GPU machine) it must read.
        Ok(mut s) => {
            let c = s.read().unwrap();
            assert!(c.get(Component::Gpu).is_some());
        }
    }
    // An absurd index is unavailable too, never a panic.
    assert!(NvmlSource::open(9_999).is_err());
}
