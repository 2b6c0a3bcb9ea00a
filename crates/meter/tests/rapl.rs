//! RAPL through fake powercap trees.

mod common;

use std::sync::atomic::Ordering;

use common::{approx, denying, FakePowercap};
use greenbench_core::{Component, Quality};
use greenbench_meter::{EnergySource, Meter, MeterError, RaplSource};

const RANGE: u64 = 262_143_328_850;

fn meter(fake: &FakePowercap) -> Meter {
    Meter::from_sources(vec![Box::new(RaplSource::open(&fake.root()).unwrap())])
}

#[test]
fn single_package_window_is_exact() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 1_000_000, Some(RANGE));
    let m = meter(&fake);
    assert_eq!(m.components(), [Component::Cpu]);
    let w = m.begin().unwrap();
    fake.set("intel-rapl:0", 3_500_000);
    let r = w.end().unwrap();
    assert!(approx(r.energy.cpu_j, 2.5), "{r:?}");
    assert_eq!(r.energy.qualities[&Component::Cpu], Quality::Measured);
    assert!(approx(r.energy.total_j, 2.5));
    assert_eq!(r.sources[&Component::Cpu], "rapl");
}

#[test]
fn packages_are_summed_and_dram_is_separate() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 0, Some(RANGE))
        .domain("intel-rapl:1", "package-1", 0, Some(RANGE))
        .domain("intel-rapl:0:2", "dram", 0, Some(RANGE))
        .domain("intel-rapl:0:0", "core", 0, Some(RANGE)) // part of the package: ignored
        .domain("intel-rapl:2", "psys", 0, Some(RANGE)); // whole platform: ignored
    let src = RaplSource::open(&fake.root()).unwrap();
    assert_eq!(src.packages(), 2);
    assert!(
        src.basis().contains("2 packages + 1 dram"),
        "{}",
        src.basis()
    );
    let m = Meter::from_sources(vec![Box::new(src)]);
    let w = m.begin().unwrap();
    fake.set("intel-rapl:0", 1_000_000);
    fake.set("intel-rapl:1", 2_000_000);
    fake.set("intel-rapl:0:2", 500_000);
    fake.set("intel-rapl:0:0", 9_000_000);
    fake.set("intel-rapl:2", 9_000_000);
    let r = w.end().unwrap();
    assert!(approx(r.energy.cpu_j, 3.0), "{r:?}");
    assert!(approx(r.energy.dram_j, 0.5), "{r:?}");
    assert!(approx(r.energy.total_j, 3.5));
}

#[test]
fn amd_rapl_naming_and_nested_subdomain() {
    let fake = FakePowercap::new();
    fake.domain("amd-rapl:0", "package-0", 10, Some(RANGE))
        .domain("amd-rapl:0/amd-rapl:0:1", "dram", 10, Some(RANGE));
    let mut src = RaplSource::open(&fake.root()).unwrap();
    assert_eq!(src.components(), [Component::Cpu, Component::Dram]);
    assert!(src.basis().contains("amd-rapl"));
    fake.set("amd-rapl:0", 1_000_010);
    fake.set("amd-rapl:0/amd-rapl:0:1", 2_000_010);
    let c = src.read().unwrap();
    assert!(approx(c.get(Component::Cpu), 1.0));
    assert!(approx(c.get(Component::Dram), 2.0));
}

#[test]
fn one_wrap_between_two_reads_is_exact() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 900_000, Some(1_000_000));
    let m = meter(&fake);
    let w = m.begin().unwrap();
    fake.set("intel-rapl:0", 100_000);
    let r = w.end().unwrap();
    // (1_000_000 − 900_000) + 100_000 µJ
    assert!(approx(r.energy.cpu_j, 0.2), "{r:?}");
}

#[test]
fn several_wraps_in_one_window_are_accounted_by_intermediate_polls() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 500_000, Some(1_000_000));
    let m = meter(&fake);
    let w = m.begin().unwrap();
    // Three wraps; the sampler's polls (here `poll`) see each one.
    for v in [900_000, 300_000, 800_000, 200_000, 700_000] {
        fake.set("intel-rapl:0", v);
        m.poll();
    }
    fake.set("intel-rapl:0", 100_000);
    let r = w.end().unwrap();
    // 400k + 400k + 500k + 400k + 500k + 400k µJ
    assert!(approx(r.energy.cpu_j, 2.6), "{r:?}");
}

#[test]
fn backwards_without_wrap_is_an_error_never_negative() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 5_000_000, Some(RANGE));
    let mut src = RaplSource::open(&fake.root()).unwrap();
    fake.set("intel-rapl:0", 4_000_000);
    let e = src.read().unwrap_err();
    assert!(matches!(e, MeterError::CounterBackwards { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("energy_uj") && msg.contains("went backwards"),
        "{msg}"
    );

    // Through a window: the component is missing, the total too.
    let m = meter(&fake);
    let w = m.begin().unwrap();
    fake.set("intel-rapl:0", 3_000_000);
    let r = w.end().unwrap();
    assert_eq!(r.energy.cpu_j, None);
    assert_eq!(r.energy.total_j, None);
    assert_eq!(r.energy.quality, Some(Quality::Missing));
    assert!(r.problems[0].contains("went backwards"), "{:?}", r.problems);
    // The source resynchronises: the next window measures again.
    let w = m.begin().unwrap();
    fake.set("intel-rapl:0", 4_000_000);
    assert!(approx(w.end().unwrap().energy.cpu_j, 1.0));
}

#[test]
fn permission_denied_is_unavailable_with_the_fix() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 1, Some(RANGE));
    let e = RaplSource::open_with(&fake.root(), denying(true)).unwrap_err();
    assert!(matches!(e, MeterError::PermissionDenied { .. }), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("CVE-2020-8694"), "{msg}");
    assert!(
        msg.contains("sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj"),
        "{msg}"
    );
    assert!(
        msg.contains("run as root") && msg.contains("udev") && msg.contains("estimate"),
        "{msg}"
    );
    assert!(e.reason().contains("permission denied"));
    assert!(e.fix().unwrap().contains("chmod"));
}

#[test]
fn permission_lost_mid_window_makes_the_component_missing_not_zero() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 1, Some(RANGE));
    let reader = denying(false);
    let m = Meter::from_sources(vec![Box::new(
        RaplSource::open_with(&fake.root(), reader.clone()).unwrap(),
    )]);
    let w = m.begin().unwrap();
    reader.deny.store(true, Ordering::SeqCst);
    m.poll();
    reader.deny.store(false, Ordering::SeqCst);
    let r = w.end().unwrap();
    assert_eq!(r.energy.cpu_j, None);
    assert!(
        r.problems[0].contains("permission denied"),
        "{:?}",
        r.problems
    );
}

#[test]
fn missing_max_energy_range_measures_increases_and_rejects_decreases() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 100, None);
    let mut src = RaplSource::open(&fake.root()).unwrap();
    assert!(
        src.basis().contains("without max_energy_range_uj"),
        "{}",
        src.basis()
    );
    fake.set("intel-rapl:0", 1_000_100);
    assert!(approx(src.read().unwrap().get(Component::Cpu), 1.0));
    fake.set("intel-rapl:0", 50);
    let msg = src.read().unwrap_err().to_string();
    assert!(msg.contains("no max_energy_range_uj"), "{msg}");
}

#[test]
fn no_powercap_tree_says_so_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let e = RaplSource::open(&dir.path().join("nope")).unwrap_err();
    assert!(
        e.reason().contains("virtual machines usually have no RAPL"),
        "{}",
        e.reason()
    );
    assert!(e.fix().is_some());
    // A tree without package domains (only mmio / control type entries).
    let fake = FakePowercap::new();
    fake.domain("intel-rapl-mmio:0", "package-0", 1, Some(RANGE));
    std::fs::create_dir_all(fake.root().join("intel-rapl")).unwrap();
    let e = RaplSource::open(&fake.root()).unwrap_err();
    assert!(matches!(e, MeterError::NoRaplDomain { .. }), "{e}");
}

#[test]
fn garbage_in_energy_uj_is_a_located_parse_error() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 1, Some(RANGE));
    std::fs::write(fake.root().join("intel-rapl:0/energy_uj"), "banana\n").unwrap();
    let msg = RaplSource::open(&fake.root()).unwrap_err().to_string();
    assert!(
        msg.contains("intel-rapl:0/energy_uj") && msg.contains("banana"),
        "{msg}"
    );
}

#[test]
fn a_forward_jump_beyond_plausible_power_makes_the_window_missing() {
    let fake = FakePowercap::new();
    fake.domain("intel-rapl:0", "package-0", 1_000_000, Some(u64::MAX / 2));
    let m = meter(&fake);
    let w = m.begin().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    // 1 MJ in 0.1 s: 10 MW, a counter fault, not energy.
    fake.set("intel-rapl:0", 1_000_000 + 1_000_000_000_000);
    let r = w.end().unwrap();
    assert_eq!(r.energy.cpu_j, None, "{r:?}");
    assert_eq!(r.energy.total_j, None);
    assert!(
        r.problems.iter().any(|p| p.contains("plausible")),
        "{:?}",
        r.problems
    );
    // The next window measures again.
    let w = m.begin().unwrap();
    fake.set("intel-rapl:0", 1_000_000 + 1_000_000_000_000 + 2_000_000);
    let r = w.end().unwrap();
    assert!(approx(r.energy.cpu_j, 2.0), "{r:?}");
}
