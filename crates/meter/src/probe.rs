//! `greenbench meters`: which sources work here, why not, how to fix, and a short power reading.

use std::time::{Duration, Instant};

use greenbench_core::Quality;
use serde::Serialize;

use crate::meter::ProbeOptions;
use crate::source::EnergySource;
use crate::sources::{find, SOURCES};

/// Status of one source, serialized with exactly the keys `source`, `available`, `quality`,
/// `reason`, and (when present) `fix`, `power_w`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceStatus {
    /// "rapl", "nvml" or "estimate".
    pub source: String,
    /// Whether the source can be read here.
    pub available: bool,
    /// Quality of its values when available.
    pub quality: Quality,
    /// Plain words: what it measures (available) or why it cannot (unavailable).
    pub reason: String,
    /// What to do to make it available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Mean power over the probe period (sum of its components), when available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_w: Option<f64>,
}

/// Probes every source of [`SOURCES`] (rapl, nvml, estimate) with a one-second power reading of each available source.
pub fn probe(options: &ProbeOptions) -> Vec<SourceStatus> {
    probe_for(options, Duration::from_secs(1))
}

/// [`probe`] with a chosen reading period (all sources are read together, at 10 Hz). A zero
/// period reports availability only, with no `power_w`.
pub fn probe_for(options: &ProbeOptions, period: Duration) -> Vec<SourceStatus> {
    // Every source is opened before any is read, so a slow open (NVML's) does not fall between
    // another source's first read and the start of the reading period.
    let opened: Vec<_> = SOURCES
        .iter()
        .map(|def| (def, (def.open)(options)))
        .collect();
    let mut live: Vec<(usize, Box<dyn EnergySource>, Option<f64>)> = Vec::new();
    let mut out: Vec<SourceStatus> = Vec::new();
    for (i, (def, r)) in opened.into_iter().enumerate() {
        let (name, quality) = (def.name, def.quality);
        match r {
            Ok(mut s) => {
                let basis = s.basis();
                let first = s
                    .read()
                    .ok()
                    .map(|c| c.joules.iter().flatten().sum::<f64>());
                live.push((i, s, first));
                out.push(SourceStatus {
                    source: name.into(),
                    available: true,
                    quality,
                    reason: basis,
                    fix: None,
                    power_w: None,
                });
            }
            Err(e) => out.push(SourceStatus {
                source: name.into(),
                available: false,
                quality,
                reason: e.reason(),
                fix: e.fix(),
                power_w: None,
            }),
        }
    }
    if period.is_zero() {
        // No reading period, no power figure: two reads microseconds apart would divide a
        // counter's granularity by almost nothing (thousands of watts on a 2-core machine).
        return out;
    }
    let t0 = Instant::now();
    while t0.elapsed() < period {
        std::thread::sleep(Duration::from_millis(100).min(period.saturating_sub(t0.elapsed())));
        for (_, s, _) in &mut live {
            let _ = s.read();
        }
    }
    let dt = t0.elapsed().as_secs_f64();
    for (i, s, first) in &mut live {
        let last = s
            .read()
            .ok()
            .map(|c| c.joules.iter().flatten().sum::<f64>());
        let status = &mut out[*i];
        match (*first, last) {
            (Some(a), Some(b)) if dt > 0.0 => status.power_w = Some((b - a) / dt),
            _ => {
                status.fix = Some(
                    "the source opened but a read failed; run `greenbench meters` again".into(),
                )
            }
        }
    }
    out
}

/// What the power reading of a source covers, for the note under the `greenbench meters` table
/// (continuation lines are indented to follow the source name).
pub fn reading_scope(source: &str) -> &'static str {
    find(source).map_or("the source's own components", |d| d.reading_scope)
}

/// Plain-text table for `greenbench meters`: a header row, one row per source (name, state,
/// quality, mean power over the `period` reading) with its reason and fix below it, then a note
/// saying what each column means and what each reading covered.
pub fn render_text(statuses: &[SourceStatus], period: Duration) -> String {
    let secs = period.as_secs_f64();
    let mut s = format!(
        "{:<9} {:<11} {:<9} {:>10}\n",
        "source", "state", "quality", "power"
    );
    for st in statuses {
        let state = if st.available {
            "available"
        } else {
            "unavailable"
        };
        let power = st
            .power_w
            .map_or_else(|| "—".to_string(), |p| format!("{p:.2} W"));
        s.push_str(&format!(
            "{:<9} {:<11} {:<9} {:>10}\n",
            st.source,
            state,
            st.quality.to_string(),
            power
        ));
        s.push_str(&format!("          {}\n", st.reason));
        if let Some(f) = &st.fix {
            s.push_str(&format!("          fix: {f}\n"));
        }
    }
    s.push_str(
        "\nstate: whether greenbench can read the source on this machine (the reason is below it).\n\
         quality: how a sweep labels the energy it reads: measured (hardware counter) or estimated (a model).\n",
    );
    s.push_str(&format!(
        "power: mean power over a {secs:.1} s reading taken just now (all sources read together every \
         0.1 s);\n       — where the source is unavailable or a read failed. Each reading covers:\n"
    ));
    for st in statuses.iter().filter(|st| st.power_w.is_some()) {
        s.push_str(&format!(
            "  {:<9} {}\n",
            st.source,
            reading_scope(&st.source)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_are_exact() {
        let st = SourceStatus {
            source: "rapl".into(),
            available: false,
            quality: Quality::Measured,
            reason: "no /x".into(),
            fix: None,
            power_w: None,
        };
        let v = serde_json::to_value(&st).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["available", "quality", "reason", "source"]);
        assert_eq!(v["quality"], "measured");
    }

    #[test]
    fn a_zero_period_reports_no_power() {
        let opts = ProbeOptions {
            powercap_root: "/nonexistent-powercap".into(),
            ..Default::default()
        };
        let st = probe_for(&opts, Duration::ZERO);
        let est = st.iter().find(|s| s.source == "estimate").unwrap();
        assert!(est.available);
        assert_eq!(est.power_w, None);
        assert_eq!(est.fix, None);
    }

    #[test]
    fn text_has_a_header_units_and_says_what_the_reading_covered() {
        let st = [
            SourceStatus {
                source: "rapl".into(),
                available: false,
                quality: Quality::Measured,
                reason: "no /x".into(),
                fix: Some("load intel_rapl_common".into()),
                power_w: None,
            },
            SourceStatus {
                source: "estimate".into(),
                available: true,
                quality: Quality::Estimated,
                reason: "CPU time × 10.0 W/core".into(),
                fix: None,
                power_w: Some(0.0213),
            },
        ];
        let text = render_text(&st, Duration::from_millis(1500));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["source", "state", "quality", "power"]
        );
        assert!(
            lines[1].starts_with("rapl") && lines[1].ends_with('—'),
            "{text}"
        );
        assert!(lines[3].contains("fix: load intel_rapl_common"), "{text}");
        assert!(
            lines[4].starts_with("estimate") && lines[4].ends_with("0.02 W"),
            "{text}"
        );
        assert!(text.contains("over a 1.5 s reading"), "{text}");
        assert!(
            text.contains("  estimate  this greenbench process alone"),
            "{text}"
        );
        assert!(
            !text.contains("  rapl      the CPU"),
            "no reading, no scope line: {text}"
        );
    }
}
