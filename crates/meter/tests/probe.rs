//! `greenbench meters` status on this machine (no RAPL, no NVIDIA driver expected here).

use std::time::Duration;

use greenbench_core::Quality;
use greenbench_meter::{probe_for, render_text, ProbeOptions};

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
    assert!(est.reason.contains("W/core"));
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
