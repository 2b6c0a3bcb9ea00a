//! Durations as a person reads them: `42 s`, `7 min`, `1.5 h`, not a count of seconds.

/// `s` seconds in the unit that fits it: seconds below 90 (one decimal below 10), minutes below
/// 90, hours below two days, then days.
pub fn human_duration(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.1} s")
    } else if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 5400.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 2.0 * 86400.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} days", s / 86400.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_range_has_its_unit() {
        for (s, text) in [
            (3.4, "3.4 s"),
            (42.0, "42 s"),
            (420.0, "7 min"),
            (5400.0, "1.5 h"),
            (3.0 * 86400.0, "3.0 days"),
        ] {
            assert_eq!(human_duration(s), text);
        }
    }
}
