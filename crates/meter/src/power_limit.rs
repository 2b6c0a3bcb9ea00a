//! GPU power limits (the power-cap axis): set a limit through NVML before a run and put the
//! original back afterwards — after a crash of the worker, an interrupted sweep, or, at the next
//! start, after a sweep that was killed outright (the original is kept in a small file until it
//! is restored).

use nvml_wrapper::error::NvmlError;
use nvml_wrapper::Nvml;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::error::{MeterError, Result};

/// The hint given whenever NVML refuses to change a limit.
pub const POWER_LIMIT_FIX: &str = "setting a GPU power limit needs root: run the sweep as root \
(e.g. `sudo -E greenbench sweep …`), or remove `power_limit_w` from the config";

/// Something whose power limit can be read and set, in milliwatts (NVML's unit).
pub trait PowerLimitControl: Send {
    /// The GPU, for messages.
    fn describe(&self) -> String;
    /// Current limit in mW.
    fn limit_mw(&self) -> Result<u32>;
    /// Allowed (min, max) in mW.
    fn constraints_mw(&self) -> Result<(u32, u32)>;
    /// Sets the limit in mW.
    fn set_limit_mw(&mut self, mw: u32) -> Result<()>;
}

/// The NVML implementation of [`PowerLimitControl`].
pub struct NvmlPowerLimit {
    nvml: Nvml,
    index: u32,
}

impl NvmlPowerLimit {
    /// Opens GPU `index` through NVML; "NVML unavailable: …" when there is no driver.
    pub fn open(index: u32) -> Result<NvmlPowerLimit> {
        let nvml = Nvml::init().map_err(|e| MeterError::NvmlUnavailable {
            reason: format!("{e}; a power limit needs the NVIDIA driver (check `nvidia-smi`)"),
        })?;
        nvml.device_by_index(index)
            .map_err(|e| MeterError::NvmlUnavailable {
                reason: format!("GPU index {index} not usable: {e}"),
            })?;
        Ok(NvmlPowerLimit { nvml, index })
    }

    fn err(&self, call: &'static str, e: NvmlError) -> MeterError {
        match e {
            NvmlError::NoPermission => MeterError::PowerLimit {
                gpu: self.describe(),
                reason: format!("NVML {call}: permission denied; {POWER_LIMIT_FIX}"),
            },
            NvmlError::NotSupported => MeterError::PowerLimit {
                gpu: self.describe(),
                reason: format!("NVML {call}: this GPU does not support power limits"),
            },
            e => MeterError::Nvml {
                call,
                index: self.index,
                reason: e.to_string(),
            },
        }
    }
}

impl PowerLimitControl for NvmlPowerLimit {
    fn describe(&self) -> String {
        format!("GPU {}", self.index)
    }
    fn limit_mw(&self) -> Result<u32> {
        let d = self
            .nvml
            .device_by_index(self.index)
            .map_err(|e| self.err("device_by_index", e))?;
        d.power_management_limit()
            .map_err(|e| self.err("power_management_limit", e))
    }
    fn constraints_mw(&self) -> Result<(u32, u32)> {
        let d = self
            .nvml
            .device_by_index(self.index)
            .map_err(|e| self.err("device_by_index", e))?;
        let c = d
            .power_management_limit_constraints()
            .map_err(|e| self.err("power_management_limit_constraints", e))?;
        Ok((c.min_limit, c.max_limit))
    }
    fn set_limit_mw(&mut self, mw: u32) -> Result<()> {
        let mut d = self
            .nvml
            .device_by_index(self.index)
            .map_err(|e| self.err("device_by_index", e))?;
        d.set_power_management_limit(mw)
            .map_err(|e| self.err("set_power_management_limit", e))
    }
}

/// What is written to the pending-restore file while a limit is applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRestore {
    /// The GPU whose limit must be put back (NVML index and name).
    pub gpu: String,
    /// The limit to put back, in mW.
    pub original_mw: u32,
}

/// Applies power limits and guarantees the original comes back.
///
/// While a limit other than the original is set, `pending` holds the original on disk, so a
/// sweep killed with SIGKILL restores it at its next start ([`PowerCapper::recover`]).
pub struct PowerCapper {
    ctl: Box<dyn PowerLimitControl>,
    original_mw: u32,
    pending: PathBuf,
    applied: bool,
}

impl PowerCapper {
    /// Wraps a control; reads the current limit as the one to restore.
    pub fn new(ctl: Box<dyn PowerLimitControl>, pending: &Path) -> Result<PowerCapper> {
        let original_mw = ctl.limit_mw()?;
        Ok(PowerCapper {
            ctl,
            original_mw,
            pending: pending.to_path_buf(),
            applied: false,
        })
    }

    /// If a previous sweep left a pending-restore file, puts that limit back and removes the
    /// file; returns the limit restored, in W.
    pub fn recover(ctl: &mut dyn PowerLimitControl, pending: &Path) -> Result<Option<f64>> {
        let Ok(text) = std::fs::read_to_string(pending) else {
            return Ok(None);
        };
        let p: PendingRestore = serde_json::from_str(&text).map_err(|e| MeterError::PowerLimit {
            gpu: ctl.describe(),
            reason: format!("{} is not a pending power-limit file ({e}); check the limit with `nvidia-smi -q -d POWER` and delete the file", pending.display()),
        })?;
        ctl.set_limit_mw(p.original_mw)?;
        let _ = std::fs::remove_file(pending);
        Ok(Some(f64::from(p.original_mw) / 1000.0))
    }

    /// The limit that will be restored, in W.
    pub fn original_w(&self) -> f64 {
        f64::from(self.original_mw) / 1000.0
    }

    /// Sets the limit to `watts` after checking the GPU's allowed range.
    pub fn apply(&mut self, watts: f64) -> Result<()> {
        let (lo, hi) = self.ctl.constraints_mw()?;
        let mw = (watts * 1000.0).round();
        if !(mw >= f64::from(lo) && mw <= f64::from(hi)) {
            return Err(MeterError::PowerLimit {
                gpu: self.ctl.describe(),
                reason: format!(
                    "{watts} W is outside the allowed range {:.0}–{:.0} W; change power_limit_w",
                    f64::from(lo) / 1000.0,
                    f64::from(hi) / 1000.0
                ),
            });
        }
        let pending = PendingRestore {
            gpu: self.ctl.describe(),
            original_mw: self.original_mw,
        };
        let text = serde_json::to_string(&pending).unwrap_or_default();
        std::fs::write(&self.pending, text).map_err(MeterError::io(
            "the pending power-limit file (written)",
            &self.pending,
        ))?;
        self.applied = true;
        self.ctl.set_limit_mw(mw as u32)
    }

    /// Puts the original limit back (no-op when none was applied).
    pub fn restore(&mut self) -> Result<()> {
        if !self.applied {
            return Ok(());
        }
        self.ctl.set_limit_mw(self.original_mw)?;
        self.applied = false;
        let _ = std::fs::remove_file(&self.pending);
        Ok(())
    }
}

impl Drop for PowerCapper {
    fn drop(&mut self) {
        let _ = self.restore();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone)]
    struct Fake {
        limit: Arc<Mutex<u32>>,
        log: Arc<Mutex<Vec<u32>>>,
        deny: bool,
    }

    impl PowerLimitControl for Fake {
        fn describe(&self) -> String {
            "fake GPU".into()
        }
        fn limit_mw(&self) -> Result<u32> {
            Ok(*self.limit.lock().unwrap())
        }
        fn constraints_mw(&self) -> Result<(u32, u32)> {
            Ok((100_000, 300_000))
        }
        fn set_limit_mw(&mut self, mw: u32) -> Result<()> {
            if self.deny {
                return Err(MeterError::PowerLimit {
                    gpu: "fake GPU".into(),
                    reason: format!("permission denied; {POWER_LIMIT_FIX}"),
                });
            }
            *self.limit.lock().unwrap() = mw;
            self.log.lock().unwrap().push(mw);
            Ok(())
        }
    }

    fn fake(deny: bool) -> Fake {
        Fake {
            limit: Arc::new(Mutex::new(250_000)),
            log: Arc::default(),
            deny,
        }
    }

    #[test]
    fn apply_then_restore_and_drop_restores() {
        let dir = tempfile::tempdir().unwrap();
        let pending = dir.path().join("power-limit.json");
        let f = fake(false);
        let mut c = PowerCapper::new(Box::new(f.clone()), &pending).unwrap();
        assert_eq!(c.original_w(), 250.0);
        c.apply(150.0).unwrap();
        assert_eq!(*f.limit.lock().unwrap(), 150_000);
        assert!(
            pending.exists(),
            "original kept on disk while a limit is applied"
        );
        c.restore().unwrap();
        assert_eq!(*f.limit.lock().unwrap(), 250_000);
        assert!(!pending.exists());
        c.apply(200.0).unwrap();
        drop(c);
        assert_eq!(*f.limit.lock().unwrap(), 250_000, "drop restores");
        assert_eq!(
            *f.log.lock().unwrap(),
            vec![150_000, 250_000, 200_000, 250_000]
        );
    }

    #[test]
    fn out_of_range_and_permission_errors_say_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let pending = dir.path().join("p.json");
        let mut c = PowerCapper::new(Box::new(fake(false)), &pending).unwrap();
        let e = c.apply(50.0).unwrap_err().to_string();
        assert!(e.contains("outside the allowed range 100–300 W"), "{e}");
        let mut c = PowerCapper::new(Box::new(fake(true)), &pending).unwrap();
        let e = c.apply(150.0).unwrap_err().to_string();
        assert!(e.contains("needs root"), "{e}");
    }

    #[test]
    fn recover_restores_after_a_killed_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let pending = dir.path().join("p.json");
        let f = fake(false);
        let mut c = PowerCapper::new(Box::new(f.clone()), &pending).unwrap();
        c.apply(120.0).unwrap();
        std::mem::forget(c); // as if the process were killed: no restore ran
        assert_eq!(*f.limit.lock().unwrap(), 120_000);
        let mut ctl = f.clone();
        assert_eq!(
            PowerCapper::recover(&mut ctl, &pending).unwrap(),
            Some(250.0)
        );
        assert_eq!(*f.limit.lock().unwrap(), 250_000);
        assert!(!pending.exists());
        assert_eq!(PowerCapper::recover(&mut ctl, &pending).unwrap(), None);
    }

    #[test]
    fn real_nvml_reports_unavailable_here() {
        if let Err(e) = NvmlPowerLimit::open(0) {
            assert!(e.to_string().contains("NVML unavailable"), "{e}");
        }
    }
}
