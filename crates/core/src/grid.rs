//! Grid carbon intensity: the committed table of yearly averages per country
//! (`assets/grid-intensity.csv`, source and year in its header) and hourly series read from a
//! user's CSV (`timestamp,g_per_kwh`), averaged over a run's own start–end window.

use chrono::{DateTime, NaiveDateTime};

use crate::grid_error::{GridError, IntensityRowError};

static TABLE: &str = include_str!("../assets/grid-intensity.csv");

/// Where the country table's figures come from (also printed in reports).
pub const COUNTRY_TABLE_SOURCE: &str = "Our World in Data carbon intensity of electricity (Ember, Energy Institute), 2023 or 2022, as packaged in CodeCarbon 3.3.2; life-cycle g CO2-eq/kWh";

/// One row of the country table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CountryIntensity {
    /// ISO 3166-1 alpha-2 code (`WORLD` for the world average).
    pub code: &'static str,
    /// Country name.
    pub name: &'static str,
    /// Yearly average grid intensity in g CO2-eq per kWh.
    pub g_per_kwh: f64,
}

/// Every row of the country table, in file order.
pub fn country_table() -> Vec<CountryIntensity> {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("code,") && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.split(',');
            Some(CountryIntensity {
                code: f.next()?.trim(),
                name: f.next()?.trim(),
                g_per_kwh: f.next()?.trim().parse().ok()?,
            })
        })
        .collect()
}

/// The yearly average of a country by ISO 3166-1 alpha-2 code (case-insensitive), or `WORLD`.
pub fn country_intensity(code: &str) -> Option<CountryIntensity> {
    country_table()
        .into_iter()
        .find(|c| c.code.eq_ignore_ascii_case(code.trim()))
}

/// An hourly (or any step) series of grid intensity: each row's value holds from its timestamp
/// to the next row's; the last row holds for as long as the step before it.
#[derive(Debug, Clone, PartialEq)]
pub struct IntensitySeries {
    /// (seconds since the Unix epoch, g CO2-eq per kWh), strictly increasing in time.
    pub points: Vec<(i64, f64)>,
}

/// Seconds since the Unix epoch of an RFC 3339 timestamp (`2024-03-01T13:00:00Z`,
/// `…+01:00`) or of `YYYY-MM-DD HH:MM[:SS]` / `YYYY-MM-DDTHH:MM[:SS]` taken as UTC.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp());
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc().timestamp());
        }
    }
    None
}

impl IntensitySeries {
    /// Parses CSV text `timestamp,g_per_kwh` (an optional header line, `#` comments and blank
    /// lines allowed); `name` (the file) and the 1-based line number are in every error.
    pub fn parse(text: &str, name: &str) -> Result<IntensitySeries, GridError> {
        let mut points: Vec<(i64, f64)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let l = line.trim();
            let row = |problem| GridError::Row {
                file: name.to_string(),
                line: n,
                problem,
            };
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let mut f = l.split(',').map(str::trim);
            let (ts, val) = (f.next().unwrap_or(""), f.next());
            if points.is_empty()
                && parse_timestamp(ts).is_none()
                && val.is_some_and(|v| v.parse::<f64>().is_err())
            {
                continue; // header line
            }
            let Some(val) = val else {
                return Err(row(IntensityRowError::OneColumn { row: l.into() }));
            };
            if f.next().is_some() {
                return Err(row(IntensityRowError::ExtraColumns { row: l.into() }));
            }
            let t = parse_timestamp(ts).ok_or_else(|| {
                row(IntensityRowError::BadTimestamp {
                    timestamp: ts.into(),
                })
            })?;
            let v: f64 = val
                .parse()
                .map_err(|_| row(IntensityRowError::NotANumber { value: val.into() }))?;
            if !(v.is_finite() && v >= 0.0) {
                return Err(row(IntensityRowError::NegativeOrNotFinite {
                    value: val.into(),
                }));
            }
            if let Some(&(prev, _)) = points.last() {
                if t <= prev {
                    return Err(row(IntensityRowError::NotAfter {
                        at: t,
                        before: prev,
                    }));
                }
            }
            points.push((t, v));
        }
        if points.len() < 2 {
            return Err(GridError::TooFewRows {
                file: name.to_string(),
                found: points.len(),
            });
        }
        Ok(IntensitySeries { points })
    }

    /// The end of the period the series covers (last row + the step before it).
    pub fn end(&self) -> i64 {
        let n = self.points.len();
        let last = self.points[n - 1].0;
        last + (last - self.points[n - 2].0)
    }

    /// Time-weighted mean intensity over `[start, end]` (seconds since the epoch); an error when
    /// the series does not cover the whole window. A zero-length window takes the value at
    /// `start`.
    pub fn mean_over(&self, start: i64, end: i64) -> Result<f64, GridError> {
        let (first, last) = (self.points[0].0, self.end());
        if start < first || end > last || end < start {
            return Err(GridError::WindowOutside {
                start,
                end,
                first,
                last,
            });
        }
        let mut acc = 0.0;
        for (i, &(t0, v)) in self.points.iter().enumerate() {
            let t1 = self.points.get(i + 1).map_or(last, |p| p.0);
            if end == start {
                if start >= t0 && start < t1.max(t0 + 1) {
                    return Ok(v);
                }
                continue;
            }
            let overlap = (end.min(t1) - start.max(t0)).max(0) as f64;
            acc += overlap * v;
        }
        if end == start {
            return Ok(self.points[self.points.len() - 1].1);
        }
        Ok(acc / (end - start) as f64)
    }
}

/// The grid intensity a sweep's runs are charged at: one figure (the config's, or its country's
/// yearly average) or an hourly series averaged over each run's own window.
#[derive(Debug, Clone, PartialEq)]
pub enum GridIntensity {
    /// g CO2-eq per kWh for every run.
    Fixed(f64),
    /// A series; each run takes its window's mean.
    Series(IntensitySeries),
}

impl GridIntensity {
    /// g CO2-eq per kWh for a run from `started_at` to `finished_at` (RFC 3339); an error when
    /// a series does not cover that window or a time does not parse.
    pub fn for_window(&self, started_at: &str, finished_at: &str) -> Result<f64, GridError> {
        match self {
            GridIntensity::Fixed(v) => Ok(*v),
            GridIntensity::Series(s) => {
                let t = |x: &str| {
                    parse_timestamp(x).ok_or_else(|| GridError::BadRunTime { time: x.into() })
                };
                s.mean_over(t(started_at)?, t(finished_at)?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_table_has_the_large_economies_and_the_world() {
        let t = country_table();
        assert!(t.len() >= 41, "{}", t.len());
        for c in ["US", "CN", "JP", "DE", "IN", "GB", "FR", "BR", "WORLD"] {
            assert!(country_intensity(c).is_some(), "{c}");
        }
        assert_eq!(country_intensity("fr").unwrap().g_per_kwh, 56.0);
        assert!(country_intensity("XX").is_none());
        let mut codes: Vec<&str> = t.iter().map(|c| c.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), t.len(), "duplicate codes");
        assert!(t.iter().all(|c| c.g_per_kwh > 0.0 && c.g_per_kwh < 1200.0));
    }

    #[test]
    fn hourly_series_parses_and_averages_over_a_window() {
        let s = IntensitySeries::parse(
            "timestamp,g_per_kwh\n2024-03-01T00:00:00Z,100\n2024-03-01T01:00:00Z,300\n2024-03-01 02:00,200\n",
            "h.csv",
        )
        .unwrap();
        let t0 = parse_timestamp("2024-03-01T00:30:00Z").unwrap();
        // 30 min at 100 then 30 min at 300.
        assert_eq!(s.mean_over(t0, t0 + 3600).unwrap(), 200.0);
        // The last row covers one more hour.
        assert_eq!(s.end(), parse_timestamp("2024-03-01T03:00:00Z").unwrap());
        assert!(s
            .mean_over(t0, t0 + 3 * 3600)
            .unwrap_err()
            .to_string()
            .contains("not inside"));
        assert_eq!(s.mean_over(t0, t0).unwrap(), 100.0);
    }

    #[test]
    fn grid_errors_are_typed_and_keep_their_text() {
        use crate::grid_error::{GridError, IntensityRowError};
        let e = |t: &str| IntensitySeries::parse(t, "h.csv").unwrap_err();
        let bad_time = e("2024-03-01T00:00:00Z,100\nyesterday,5\n");
        assert!(matches!(
            &bad_time,
            GridError::Row { file, line: 2, problem: IntensityRowError::BadTimestamp { .. } }
                if file == "h.csv"
        ));
        assert_eq!(
            bad_time.to_string(),
            "h.csv:2: bad timestamp `yesterday` (use RFC 3339 such as 2024-03-01T13:00:00Z, or YYYY-MM-DD HH:MM in UTC)"
        );
        for (text, want) in [
            ("2024-03-01T00:00:00Z\n", "h.csv:1: expected `timestamp,g_per_kwh`, found `2024-03-01T00:00:00Z`"),
            ("2024-03-01T00:00:00Z,1,2\n", "h.csv:1: expected two columns `timestamp,g_per_kwh`, found `2024-03-01T00:00:00Z,1,2`"),
            ("2024-03-01T00:00:00Z,abc\n", "h.csv:1: intensity `abc` is not a number (g CO2-eq per kWh)"),
            ("2024-03-01T00:00:00Z,-5\n", "h.csv:1: intensity -5 g/kWh is negative or not finite"),
            (
                "2024-03-01T01:00:00Z,100\n2024-03-01T00:00:00Z,5\n",
                "h.csv:2: timestamp 2024-03-01T00:00:00+00:00 is not after the line before (2024-03-01T01:00:00+00:00); sort the file by time without duplicates",
            ),
            (
                "2024-03-01T00:00:00Z,100\n",
                "h.csv: needs at least two rows `timestamp,g_per_kwh` (found 1), so each row's time span is known",
            ),
        ] {
            assert_eq!(e(text).to_string(), want);
        }
        assert!(matches!(
            e("2024-03-01T00:00:00Z,100\n"),
            GridError::TooFewRows { found: 1, .. }
        ));

        let s = IntensitySeries::parse(
            "2024-03-01T00:00:00Z,100\n2024-03-01T01:00:00Z,300\n",
            "h.csv",
        )
        .unwrap();
        let t0 = parse_timestamp("2024-03-01T00:00:00Z").unwrap();
        let outside = s.mean_over(t0, t0 + 3 * 3600).unwrap_err();
        assert!(matches!(outside, GridError::WindowOutside { .. }));
        assert_eq!(
            outside.to_string(),
            "the window 2024-03-01T00:00:00+00:00 – 2024-03-01T03:00:00+00:00 is not inside the series' period 2024-03-01T00:00:00+00:00 – 2024-03-01T02:00:00+00:00"
        );
        let series = GridIntensity::Series(s);
        let bad_run = series
            .for_window("noon", "2024-03-01T00:30:00Z")
            .unwrap_err();
        assert!(matches!(&bad_run, GridError::BadRunTime { time } if time == "noon"));
        assert_eq!(bad_run.to_string(), "bad run time `noon`");
    }

    #[test]
    fn hourly_series_errors_name_file_and_line() {
        let e = |t: &str| IntensitySeries::parse(t, "h.csv").unwrap_err().to_string();
        assert!(e("2024-03-01T00:00:00Z,100\n2024-03-01T01:00:00Z,-5\n").starts_with("h.csv:2:"));
        assert!(e("2024-03-01T00:00:00Z,100\nyesterday,5\n").contains("h.csv:2: bad timestamp"));
        assert!(e("2024-03-01T01:00:00Z,100\n2024-03-01T00:00:00Z,5\n").contains("not after"));
        assert!(e("2024-03-01T00:00:00Z,100\n").contains("at least two rows"));
        assert!(e("2024-03-01T00:00:00Z,1,2\n").contains("h.csv:1:"));
        assert!(e("2024-03-01T00:00:00Z,abc\n2024-03-01T01:00:00Z,5\n").contains("h.csv:1:"));
    }
}
