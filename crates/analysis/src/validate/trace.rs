//! A run's 10 Hz trace (`traces/<run_id>.csv`: `t_s,cpu_w,dram_w,gpu_w,gpu_util,cpu_util`) as
//! total power over time.

use std::path::{Path, PathBuf};

/// What is wrong with a trace's text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TraceProblem {
    /// The header has no time column.
    #[error("line 1: no t_s column; not a greenbench trace")]
    NoTimeColumn,
    /// A row whose time is missing, not a number, or before the previous row's.
    #[error("line {0}: t_s is not a time after the previous row's")]
    BadTime(usize),
}

/// Why a trace file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The file could not be read.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// The trace file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file's text is not a trace.
    #[error("{}: {problem}", path.display())]
    Parse {
        /// The trace file.
        path: PathBuf,
        /// What is wrong, and on which line.
        problem: TraceProblem,
    },
}

/// Total power per trace row: (seconds since the sampler started, watts or `None` when the row
/// has no power reading).
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Rows in file order.
    pub rows: Vec<(f64, Option<f64>)>,
}

impl Trace {
    /// Reads a trace file; the error says which file and line.
    pub fn read(path: &Path) -> Result<Trace, TraceError> {
        let text = std::fs::read_to_string(path).map_err(|source| TraceError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text).map_err(|problem| TraceError::Parse {
            path: path.to_path_buf(),
            problem,
        })
    }

    /// Parses trace text: a header naming `t_s` and the power columns (`*_w`), then rows; the
    /// power of a row is the sum of its non-empty power cells.
    pub fn parse(text: &str) -> Result<Trace, TraceProblem> {
        let mut lines = text.lines().enumerate();
        let header: Vec<&str> = lines
            .next()
            .map(|(_, h)| h.split(',').map(str::trim).collect())
            .unwrap_or_default();
        let t_col = header
            .iter()
            .position(|h| *h == "t_s")
            .ok_or(TraceProblem::NoTimeColumn)?;
        let power_cols: Vec<usize> = header
            .iter()
            .enumerate()
            .filter(|(_, h)| h.ends_with("_w"))
            .map(|(i, _)| i)
            .collect();
        let mut rows = Vec::new();
        let mut last = 0.0;
        for (i, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            let t: f64 = cells
                .get(t_col)
                .and_then(|c| c.parse().ok())
                .filter(|t: &f64| t.is_finite() && *t >= last)
                .ok_or(TraceProblem::BadTime(i + 1))?;
            let mut power = None;
            for &c in &power_cols {
                if let Some(w) = cells.get(c).and_then(|v| v.parse::<f64>().ok()) {
                    power = Some(power.unwrap_or(0.0) + w);
                }
            }
            rows.push((t, power));
            last = t;
        }
        Ok(Trace { rows })
    }

    /// Seconds from the sampler's start to the last row.
    pub fn span_s(&self) -> f64 {
        self.rows.last().map_or(0.0, |r| r.0)
    }

    /// (seconds with a reading, joules over them).
    fn read_part(&self) -> (f64, f64) {
        let mut prev = 0.0;
        let (mut s, mut j) = (0.0, 0.0);
        for &(t, p) in &self.rows {
            if let Some(p) = p {
                s += t - prev;
                j += p * (t - prev);
            }
            prev = t;
        }
        (s, j)
    }

    /// Joules over the span: each row's watts over the interval since the previous row (the
    /// first from 0); rows without a reading take the mean power of the others.
    pub fn energy_j(&self) -> f64 {
        let (s, j) = self.read_part();
        if s <= 0.0 {
            return f64::NAN;
        }
        j + (self.span_s() - s) * (j / s)
    }

    /// Share of the span with a reading.
    pub fn coverage(&self) -> f64 {
        let span = self.span_s();
        if span > 0.0 {
            self.read_part().0 / span
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_summed_and_gaps_take_the_mean() {
        let t = Trace::parse(
            "t_s,cpu_w,dram_w,gpu_w,gpu_util,cpu_util\n0.1,10,2,,,50\n0.2,20,4,,,50\n0.4,,,,,\n",
        )
        .unwrap();
        assert_eq!(t.rows[1], (0.2, Some(24.0)));
        assert_eq!(t.rows[2], (0.4, None));
        // 1.2 J + 2.4 J over 0.2 s (mean 18 W), 0.2 s filled with it.
        assert!((t.energy_j() - (3.6 + 3.6)).abs() < 1e-12);
        assert!((t.coverage() - 0.5).abs() < 1e-12);
        assert!(Trace::parse("a,b\n1,2\n")
            .unwrap_err()
            .to_string()
            .contains("t_s"));
    }
}
