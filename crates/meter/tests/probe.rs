//! `greenbench meters` status on this machine (no RAPL, no NVIDIA driver expected here).

use std::time::Duration;

use greenbench_core::Quality;
use greenbench_meter::reading_scope;
use greenbench_meter::{probe_for, render_text, Meter, ProbeOptions, SOURCES};

#[test]
fn probe_reports_each_source_with_reason_fix_and_power() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ProbeOptions {
        powercap_root: dir.path().join("powercap"),
        gpu_index: 0,
        watts_per_core: None,
    };
    let st = probe_for(&opts, Duration::from_millis(200));
    let names: Vec<&str> = st.iter().map(|s| s.source.as_str()).collect();
    assert_eq!(names, ["rapl", "nvml", "estimate"]);

    let rapl = &st[0];
    assert!(!rapl.available);
    assert!(
        rapl.reason.contains("no ")
            && rapl
                .reason
                .contains("virtual machines usually have no RAPL"),
        "{}",
        rapl.reason
    );
    assert!(rapl.fix.is_some());
    assert_eq!(rapl.power_w, None);

    let nvml = &st[1];
    if !nvml.available {
        assert!(
            nvml.reason.starts_with("NVML unavailable: "),
            "{}",
            nvml.reason
        );
        assert!(nvml.fix.as_deref().unwrap().contains("driver"));
    }

    let est = &st[2];
    assert!(est.available);
    assert_eq!(est.quality, Quality::Estimated);
    assert!(est.reason.contains("load curve"), "{}", est.reason);
    assert!(est.power_w.is_some_and(|p| p >= 0.0));

    let json = serde_json::to_value(&st).unwrap();
    let keys: Vec<&String> = json[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["available", "fix", "quality", "reason", "source"]);
    assert!(json[2].get("power_w").is_some());

    let text = render_text(&st, Duration::from_millis(200));
    assert!(
        text.contains("rapl") && text.contains("unavailable") && text.contains("fix:"),
        "{text}"
    );
}

#[test]
fn the_probe_the_meter_and_the_note_follow_the_one_source_table() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ProbeOptions {
        powercap_root: dir.path().join("powercap"),
        gpu_index: 0,
        watts_per_core: None,
    };
    let names: Vec<&str> = SOURCES.iter().map(|d| d.name).collect();
    assert_eq!(names, ["rapl", "nvml", "estimate"]);

    let st = probe_for(&opts, Duration::ZERO);
    let probed: Vec<&str> = st.iter().map(|s| s.source.as_str()).collect();
    assert_eq!(probed, names);
    for (s, d) in st.iter().zip(SOURCES) {
        assert_eq!(s.quality, d.quality, "{}", d.name);
        assert_ne!(
            reading_scope(d.name),
            reading_scope("no-such-source"),
            "{} says what its reading covers",
            d.name
        );
    }

    // The meter opens the same table: what it could not open is listed under the table's
    // names, with the reason.
    let m = Meter::auto(&opts).unwrap();
    let rapl = m.unavailable().iter().find(|u| u.source == "rapl").unwrap();
    assert!(rapl.reason.contains("no "), "{}", rapl.reason);
    assert!(m
        .unavailable()
        .iter()
        .all(|u| names.contains(&u.source.as_str())));
    assert!(m.choices().iter().any(|c| c.source == "estimate"));
}
