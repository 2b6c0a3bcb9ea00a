//! The CPU-time estimate is labelled and grows with the CPU time burned.

use std::time::{Duration, Instant};

use greenbench_core::{Component, Quality};
use greenbench_meter::self_cpu_seconds;
use greenbench_meter::{EnergySource, EstimateSource, Meter, MeterError, ProcessTarget};

fn burn(d: Duration) {
    let t = Instant::now();
    let mut x = 1u64;
    while t.elapsed() < d {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

#[test]
fn estimate_is_labelled_with_its_basis() {
    let s = EstimateSource::new(None).unwrap();
    assert_eq!(s.quality(), Quality::Estimated);
    assert_eq!(s.name(), "estimate");
    let b = s.basis();
    assert!(b.contains("Teads/Boavizta load curve"), "{b}");
    assert!(b.contains("DRAM: 0.19–0.54 W/GB (central 0.375)"), "{b}");
    assert!(b.contains("5th/95th percentile"), "{b}");
    let s = EstimateSource::new(Some(2.5)).unwrap();
    assert!(
        s.basis()
            .contains("2.50 W per vCPU at full load (configured)"),
        "{}",
        s.basis()
    );
    assert!(matches!(
        EstimateSource::new(Some(-1.0)),
        Err(MeterError::Option { .. })
    ));
}

#[test]
fn estimate_grows_with_cpu_time() {
    let m = Meter::from_sources(vec![Box::new(EstimateSource::new(Some(10.0)).unwrap())]);
    let cpu0 = self_cpu_seconds();
    let w = m.begin().unwrap();
    // Burn 0.2 s of CPU time (not wall time: the machine is shared).
    let t = Instant::now();
    while self_cpu_seconds() - cpu0 < 0.2 && t.elapsed() < Duration::from_secs(5) {
        burn(Duration::from_millis(10));
    }
    let r = w.end().unwrap();
    let burned = self_cpu_seconds() - cpu0;
    let cpu = r.energy.cpu_j.unwrap();
    // At least the busy CPU seconds at the curve's power for the utilisation they imply (at
    // most 10 W each), at most every vCPU at 10 W for the whole window.
    let zero = r.energy.zero_load_j[&Component::Cpu];
    let vcpus = greenbench_meter::vcpus_of(ProcessTarget::SelfProcess) as f64;
    assert!(
        cpu > zero && cpu <= 10.0 * r.duration.0 * vcpus.max(burned / r.duration.0) + 1e-9,
        "{r:?} burned {burned}"
    );
    assert!(
        (zero / (10.0 * 0.12 / 1.02 * vcpus * r.duration.0) - 1.0).abs() < 1e-3
            || burned > r.duration.0 * vcpus,
        "{r:?}"
    );
    assert!(r.energy.dram_j.unwrap() > 0.0);
    assert_eq!(r.energy.quality, Some(Quality::Estimated));
    assert_eq!(r.energy.qualities[&Component::Cpu], Quality::Estimated);
}

#[test]
fn estimate_of_another_process_reads_proc() {
    let pid = std::process::id();
    let mut s = EstimateSource::for_process(ProcessTarget::Pid(pid), Some(10.0)).unwrap();
    burn(Duration::from_millis(100));
    let c = s.read().unwrap();
    assert!(c.get(Component::Cpu).unwrap() > 0.0, "{c:?}");
    let e = EstimateSource::for_process(ProcessTarget::Pid(u32::MAX), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("/proc/4294967295/stat"), "{e}");
}

#[test]
fn a_meters_map_gives_the_estimates_basis_once_and_names_it_for_dram() {
    let m =
        greenbench_meter::Meter::from_sources(vec![Box::new(EstimateSource::new(None).unwrap())]);
    let map = m.described_choices();
    let cpu = &map["cpu"];
    assert!(
        cpu.starts_with("estimate (estimated): ") && cpu.len() > 60,
        "{cpu}"
    );
    assert_eq!(map["dram"], "estimate (estimated): as for cpu", "{map:?}");
}
