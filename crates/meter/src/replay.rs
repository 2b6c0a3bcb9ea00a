//! A recorded GPU trace played back as a [`GpuDevice`], to test [`crate::NvmlSource`]'s counter
//! and trapezoid logic without a GPU.
//!
//! CSV format: header `t_s,power_w,energy_mj,util` (the `util` column is optional); an empty cell
//! is an absent value. Each `sample()` returns the next row; past the end it is an error (which a
//! window reports as a missing component).

use std::path::Path;

use crate::error::{MeterError, Result};
use crate::nvml::{GpuDevice, GpuSample};

/// A GPU trace played back one row per sample.
#[derive(Debug, Clone)]
pub struct ReplayDevice {
    rows: Vec<GpuSample>,
    pos: usize,
    origin: String,
}

impl ReplayDevice {
    /// Plays back `rows` in order.
    pub fn new(rows: Vec<GpuSample>) -> Self {
        ReplayDevice {
            rows,
            pos: 0,
            origin: "in-memory trace".into(),
        }
    }

    /// Parses a CSV trace; `origin` names it in errors.
    pub fn from_csv(text: &str, origin: &str) -> Result<Self> {
        let err = |line: usize, detail: String| MeterError::Replay {
            origin: origin.to_string(),
            detail: format!("line {line}: {detail}; expected `t_s,power_w,energy_mj[,util]`"),
        };
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let header = lines.next().map(|(_, l)| l.trim()).unwrap_or("");
        if !header.starts_with("t_s,power_w,energy_mj") {
            return Err(err(1, format!("bad header {header:?}")));
        }
        let mut rows = Vec::new();
        for (i, line) in lines {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            let cell = |k: usize| cells.get(k).copied().filter(|c| !c.is_empty());
            let num = |k: usize| -> Result<Option<f64>> {
                cell(k)
                    .map(|c| {
                        c.parse::<f64>()
                            .map_err(|e| err(i + 1, format!("cell {c:?}: {e}")))
                    })
                    .transpose()
            };
            let t_s = num(0)?.ok_or_else(|| err(i + 1, "t_s is empty".into()))?;
            let energy_mj = cell(2)
                .map(|c| {
                    c.parse::<u64>()
                        .map_err(|e| err(i + 1, format!("energy_mj {c:?}: {e}")))
                })
                .transpose()?;
            rows.push(GpuSample {
                t_s,
                power_w: num(1)?,
                energy_mj,
                util: num(3)?,
                mem_used: None,
            });
        }
        Ok(ReplayDevice {
            rows,
            pos: 0,
            origin: origin.to_string(),
        })
    }

    /// Reads and parses a CSV trace file.
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(MeterError::io("replay trace", path))?;
        Self::from_csv(&text, &path.display().to_string())
    }
}

impl GpuDevice for ReplayDevice {
    fn kind(&self) -> &'static str {
        "replay"
    }
    fn describe(&self) -> String {
        format!("replay of {}", self.origin)
    }
    fn sample(&mut self) -> Result<GpuSample> {
        let row = self
            .rows
            .get(self.pos)
            .copied()
            .ok_or_else(|| MeterError::Replay {
                origin: self.origin.clone(),
                detail: format!("trace exhausted after {} samples", self.rows.len()),
            })?;
        self.pos += 1;
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_csv_with_empty_cells() {
        let d = ReplayDevice::from_csv("t_s,power_w,energy_mj,util\n0,100,,50\n0.1,120,,\n", "t")
            .unwrap();
        assert_eq!(d.rows.len(), 2);
        assert_eq!(d.rows[0].energy_mj, None);
        assert_eq!(d.rows[0].util, Some(50.0));
        assert_eq!(d.rows[1].util, None);
    }

    #[test]
    fn bad_header_is_located() {
        let e = ReplayDevice::from_csv("a,b\n", "x.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("x.csv") && e.contains("line 1"), "{e}");
    }
}
