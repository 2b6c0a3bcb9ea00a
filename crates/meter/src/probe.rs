//! `greenbench meters`: which sources work here, why not, how to fix, and a short power reading.

use std::time::{Duration, Instant};

use greenbench_core::Quality;
use serde::Serialize;

use crate::error::MeterError;
use crate::estimate::EstimateSource;
use crate::meter::ProbeOptions;
use crate::nvml::NvmlSource;
use crate::rapl::RaplSource;
use crate::source::EnergySource;

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

type Opened = Result<Box<dyn EnergySource>, MeterError>;

/// Probes rapl, nvml and estimate with a one-second power reading of each available source.
pub fn probe(options: &ProbeOptions) -> Vec<SourceStatus> {
    probe_for(options, Duration::from_secs(1))
}

/// [`probe`] with a chosen reading period (all sources are read together, at 10 Hz). A zero
/// period reports availability only, with no `power_w`.
pub fn probe_for(options: &ProbeOptions, period: Duration) -> Vec<SourceStatus> {
    let opened: [(&str, Quality, Opened); 3] = [
        (
            "rapl",
            Quality::Measured,
            RaplSource::open(&options.powercap_root).map(|s| Box::new(s) as _),
        ),
        (
            "nvml",
            Quality::Measured,
            NvmlSource::open(options.gpu_index).map(|s| Box::new(s) as _),
        ),
        (
            "estimate",
            Quality::Estimated,
            EstimateSource::new(options.watts_per_core).map(|s| Box::new(s) as _),
        ),
    ];
    let mut live: Vec<(usize, Box<dyn EnergySource>, Option<f64>)> = Vec::new();
    let mut out: Vec<SourceStatus> = Vec::new();
    for (i, (name, quality, r)) in opened.into_iter().enumerate() {
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

/// Plain-text table for `greenbench meters`.
pub fn render_text(statuses: &[SourceStatus]) -> String {
    let mut s = String::new();
    for st in statuses {
        let state = if st.available {
            "available"
        } else {
            "unavailable"
        };
        s.push_str(&format!(
            "{:<9} {:<11} {:<9}",
            st.source,
            state,
            st.quality.to_string()
        ));
        if let Some(p) = st.power_w {
            s.push_str(&format!(" {p:>8.2} W"));
        }
        s.push('\n');
        s.push_str(&format!("          {}\n", st.reason));
        if let Some(f) = &st.fix {
            s.push_str(&format!("          fix: {f}\n"));
        }
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
}
