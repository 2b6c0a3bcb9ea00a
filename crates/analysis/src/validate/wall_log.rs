//! A wall-meter log: CSV of timestamps and watts (a smart plug, a PDU, IPMI, PTDaemon output).
//!
//! * A header row names the columns: the time column is the first named `time`, `timestamp`,
//!   `ts`, `t`, `date`, `datetime`, `unix`, `unix_s` or `epoch`, else the first column; the watts
//!   column the first whose name contains `watt` or is `w`, `p`, `power` or `power_w`, else the
//!   next column. A first row that is already data (a time and a number) is read as data.
//! * Timestamps are Unix seconds (fractions allowed) or RFC 3339 (`2026-12-05T19:00:00.5Z`,
//!   `…+01:00`); rows must be in increasing time. Blank lines and `#` comments are skipped.
//! * Each row's watts is the mean power over the interval since the previous row (PTDaemon's
//!   convention; an instantaneous reading at 1 Hz shifts energy by half a second at most); the
//!   first row only opens the log.

use std::path::{Path, PathBuf};

/// Why a wall log cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum WallLogError {
    /// The file could not be read.
    #[error("reading wall log {}: {source}", path.display())]
    Io {
        /// The log.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A row is malformed.
    #[error("wall log {}, line {line}: {problem}; the log is CSV with a header row and columns time (Unix seconds or RFC 3339) and watts (see docs/measurement.md)", path.display())]
    Row {
        /// The log.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// Fewer than two rows: no interval.
    #[error("wall log {} has {rows} data row(s); at least two are needed (one interval)", path.display())]
    TooShort {
        /// The log.
        path: PathBuf,
        /// Rows read.
        rows: usize,
    },
}

/// A parsed wall log: (Unix seconds, watts) in strictly increasing time.
#[derive(Debug, Clone, PartialEq)]
pub struct WallLog {
    /// Rows as (seconds since the Unix epoch, watts).
    pub rows: Vec<(f64, f64)>,
}

/// Seconds since the Unix epoch of a timestamp cell: a number, or RFC 3339.
pub fn parse_time(cell: &str) -> Option<f64> {
    let s = cell.trim();
    if let Ok(v) = s.parse::<f64>() {
        return v.is_finite().then_some(v);
    }
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?;
    Some(t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) * 1e-9)
}

fn is_time_name(n: &str) -> bool {
    matches!(
        n,
        "time" | "timestamp" | "ts" | "t" | "date" | "datetime" | "unix" | "unix_s" | "epoch"
    )
}

fn is_watts_name(n: &str) -> bool {
    n.contains("watt") || matches!(n, "w" | "p" | "power" | "power_w")
}

impl WallLog {
    /// Reads and parses the file at `path`.
    pub fn read(path: &Path) -> Result<WallLog, WallLogError> {
        let text = std::fs::read_to_string(path).map_err(|source| WallLogError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses CSV text; `path` names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<WallLog, WallLogError> {
        let mut columns: Option<(usize, usize)> = None;
        let mut rows: Vec<(f64, f64)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let row = |problem: String| WallLogError::Row {
                path: path.to_path_buf(),
                line: i + 1,
                problem,
            };
            let cells: Vec<&str> = line
                .split(',')
                .map(|c| c.trim().trim_matches('"'))
                .collect();
            let (tc, wc) = match columns {
                Some(c) => c,
                None => {
                    let is_data = cells.len() >= 2
                        && parse_time(cells[0]).is_some()
                        && cells[1].parse::<f64>().is_ok();
                    if is_data {
                        columns = Some((0, 1));
                        (0, 1)
                    } else {
                        let names: Vec<String> =
                            cells.iter().map(|c| c.to_ascii_lowercase()).collect();
                        let tc = names.iter().position(|n| is_time_name(n)).unwrap_or(0);
                        let wc = names
                            .iter()
                            .enumerate()
                            .position(|(j, n)| j != tc && is_watts_name(n))
                            .unwrap_or(if tc == 0 { 1 } else { 0 });
                        if names.len() < 2 {
                            return Err(row(format!(
                                "header {line:?} has one column; give a time and a watts column"
                            )));
                        }
                        columns = Some((tc, wc));
                        continue;
                    }
                }
            };
            let cell = |j: usize, what: &str| {
                cells
                    .get(j)
                    .copied()
                    .ok_or_else(|| row(format!("no {what} cell (column {})", j + 1)))
            };
            let tcell = cell(tc, "time")?;
            let t = parse_time(tcell).ok_or_else(|| {
                row(format!(
                    "time {tcell:?} is neither Unix seconds nor RFC 3339"
                ))
            })?;
            let wcell = cell(wc, "watts")?;
            let w: f64 = wcell
                .parse()
                .ok()
                .filter(|w: &f64| w.is_finite() && *w >= 0.0)
                .ok_or_else(|| row(format!("watts {wcell:?} is not a number ≥ 0")))?;
            if let Some(&(prev, _)) = rows.last() {
                if t <= prev {
                    return Err(row(format!(
                        "time {tcell} is not after the previous row's; sort the log by time"
                    )));
                }
            }
            rows.push((t, w));
        }
        if rows.len() < 2 {
            return Err(WallLogError::TooShort {
                path: path.to_path_buf(),
                rows: rows.len(),
            });
        }
        Ok(WallLog { rows })
    }

    /// First and last timestamp.
    pub fn span(&self) -> (f64, f64) {
        (self.rows[0].0, self.rows[self.rows.len() - 1].0)
    }

    /// Median seconds between rows.
    pub fn median_interval(&self) -> f64 {
        let mut d: Vec<f64> = self.rows.windows(2).map(|w| w[1].0 - w[0].0).collect();
        d.sort_by(f64::total_cmp);
        d[d.len() / 2]
    }

    /// Joules over `[a, b]` (each row's watts held over the interval since the previous row);
    /// `None` when the log does not cover the whole window.
    pub fn energy_j(&self, a: f64, b: f64) -> Option<f64> {
        let (first, last) = self.span();
        if a < first || b > last || b < a {
            return None;
        }
        let mut j = 0.0;
        for w in self.rows.windows(2) {
            let (t0, t1, p) = (w[0].0, w[1].0, w[1].1);
            let overlap = t1.min(b) - t0.max(a);
            if overlap > 0.0 {
                j += p * overlap;
            }
        }
        Some(j)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WallLog, WallLogError> {
        WallLog::parse(text, Path::new("wall.csv"))
    }

    #[test]
    fn unix_seconds_and_rfc3339_with_named_columns() {
        let a = parse("time,watts\n100,50\n101,60\n103.5,70\n").unwrap();
        assert_eq!(a.rows, [(100.0, 50.0), (101.0, 60.0), (103.5, 70.0)]);
        let b = parse(
            "# plug export\nvoltage,power_w,timestamp\n230,50,1970-01-01T00:01:40Z\n\
             231,60,1970-01-01T00:01:41Z\n230,70,1970-01-01T00:01:43.5Z\n",
        )
        .unwrap();
        assert_eq!(a, b);
        let c = parse("100,50\n101,60\n103.5,70\n").unwrap();
        assert_eq!(a, c, "no header: data from the first row");
    }

    #[test]
    fn energy_holds_each_row_over_the_interval_before_it() {
        let log = parse("t,w\n0,999\n1,10\n2,20\n4,40\n").unwrap();
        assert_eq!(log.energy_j(0.0, 4.0), Some(10.0 + 20.0 + 80.0));
        assert_eq!(log.energy_j(0.5, 3.0), Some(5.0 + 20.0 + 40.0));
        assert_eq!(log.energy_j(-1.0, 3.0), None);
        assert_eq!(log.energy_j(1.0, 5.0), None);
        assert_eq!(log.median_interval(), 1.0);
    }

    #[test]
    fn bad_rows_name_file_line_and_problem() {
        let e = parse("time,watts\n1,5\nnoon,6\n").unwrap_err().to_string();
        assert!(
            e.contains("wall.csv, line 3") && e.contains("\"noon\""),
            "{e}"
        );
        let e = parse("time,watts\n2,5\n1,6\n").unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("sort the log"), "{e}");
        let e = parse("time,watts\n1,-5\n").unwrap_err().to_string();
        assert!(e.contains("not a number ≥ 0"), "{e}");
        let e = parse("time,watts\n1,5\n").unwrap_err().to_string();
        assert!(e.contains("at least two"), "{e}");
    }
}
