//! The shortest window a meter resolves, and the flag of a phase shorter than that: its energy
//! is a rough figure (a few samples, a counter that updated a few times), not an exact one.

use std::collections::BTreeMap;

use crate::record::Flag;

/// Fewest samples of the power sampler a window needs (at its rate, e.g. 1 s at 10 Hz).
pub const MIN_SAMPLES: f64 = 10.0;

/// Fewest updates of an energy counter a window needs: within one update the counter does not
/// move at all, and within ten its steps still weigh up to a tenth of the figure.
pub const MIN_UPDATES: f64 = 10.0;

/// How often a source's counter moves, in seconds, by the source name a record's `meters` gives
/// (`rapl`: the powercap energy counters update about every millisecond; `nvml`: the GPU's
/// energy and power readings about every 100 ms; `estimate`: CPU time in clock ticks of 10 ms).
/// `None` for a source with no known interval.
pub fn update_interval_s(source: &str) -> Option<f64> {
    match source {
        "rapl" => Some(0.001),
        "nvml" => Some(0.1),
        "estimate" => Some(0.01),
        _ => None,
    }
}

/// The shortest window the meters of a record resolve: [`MIN_SAMPLES`] samples at `sampler_hz`
/// (0: no sampler) and [`MIN_UPDATES`] updates of the slowest counter among `meters` (a record's
/// `meters`, component → `source (quality): basis`), with why; `None` when neither applies.
pub fn shortest_window(
    sampler_hz: f64,
    meters: &BTreeMap<String, String>,
) -> Option<(f64, String)> {
    let mut limits: Vec<(f64, String)> = Vec::new();
    if sampler_hz > 0.0 && sampler_hz.is_finite() {
        limits.push((
            MIN_SAMPLES / sampler_hz,
            format!("{MIN_SAMPLES} samples of the {sampler_hz} Hz sampler"),
        ));
    }
    for (component, what) in meters {
        if !matches!(component.as_str(), "cpu" | "dram" | "gpu") {
            continue;
        }
        let source = what.split([' ', '(', ':']).next().unwrap_or_default();
        if let Some(every) = update_interval_s(source) {
            limits.push((
                MIN_UPDATES * every,
                format!(
                    "{MIN_UPDATES} updates of the {source} counter of {component} (every {} ms)",
                    every * 1000.0
                ),
            ));
        }
    }
    limits.into_iter().max_by(|a, b| a.0.total_cmp(&b.0))
}

/// A flag on `{phase}.window` when the phase lasted less than the meters resolve (see
/// [`shortest_window`]); the energy stays in the record, and the reason says it is approximate.
pub fn short_window(
    phase: &str,
    duration_s: f64,
    sampler_hz: f64,
    meters: &BTreeMap<String, String>,
) -> Option<Flag> {
    let (shortest, why) = shortest_window(sampler_hz, meters)?;
    (duration_s.is_finite() && duration_s < shortest).then(|| Flag {
        field: format!("{phase}.window"),
        reason: format!(
            "the {phase} window of {duration_s:.3} s is shorter than the meter resolves \
             ({shortest:.3} s: {why}): its energy is approximate, not exact. Lengthen the phase \
             (more epochs or samples; `replicate_test` for inference) for a figure to publish"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meters(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fewer_than_ten_samples_at_the_sampler_rate_is_flagged_with_the_figures() {
        let m = meters(&[("cpu", "rapl (measured): RAPL powercap, 1 package")]);
        let f = short_window("inference", 0.4, 10.0, &m).expect("flagged");
        assert_eq!(f.field, "inference.window");
        assert!(f.reason.contains("0.400 s is shorter than the meter resolves (1.000 s: 10 samples of the 10 Hz sampler)"), "{}", f.reason);
        assert!(short_window("inference", 1.2, 10.0, &m).is_none());
    }

    #[test]
    fn without_a_sampler_the_slowest_counter_sets_the_shortest_window() {
        let m = meters(&[
            ("cpu", "rapl (measured): RAPL powercap"),
            ("gpu", "nvml (measured): GPU 0"),
            ("unavailable:estimate", "not needed"),
            ("problems", "none"),
        ]);
        let (s, why) = shortest_window(0.0, &m).unwrap();
        assert!((s - 1.0).abs() < 1e-12, "{s}");
        assert!(why.contains("nvml counter of gpu (every 100 ms)"), "{why}");
        assert!(short_window("train", 0.5, 0.0, &m).is_some());
        assert!(
            short_window("train", 0.5, 0.0, &meters(&[("cpu", "rapl (measured): x")])).is_none()
        );
    }

    #[test]
    fn no_sampler_and_no_known_source_judges_nothing() {
        assert!(short_window("train", 0.001, 0.0, &BTreeMap::new()).is_none());
        let m = meters(&[("cpu", "replay (measured): a file")]);
        assert!(short_window("train", 0.001, 0.0, &m).is_none());
    }
}
