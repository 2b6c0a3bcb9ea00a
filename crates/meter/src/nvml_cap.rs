//! GPU power limits for a sweep ([`PowerCap`]): one [`PowerCapper`] per GPU through NVML,
//! opened on first use.

use std::path::PathBuf;

use greenbench_core::{BoxError, PowerCap};

use crate::power_limit::{NvmlPowerLimit, PowerCapper, PowerLimitControl};

/// GPU power limits through NVML, one [`PowerCapper`] per GPU, opened on first use. The
/// original limit is kept in `pending` while a cap is applied, so a sweep killed outright gets it
/// back at its next start.
pub struct NvmlCapper {
    pending: PathBuf,
    capper: Option<(u32, PowerCapper)>,
}

impl NvmlCapper {
    /// A capper that keeps the original limit in `pending` while a cap is applied.
    pub fn new(pending: PathBuf) -> NvmlCapper {
        NvmlCapper {
            pending,
            capper: None,
        }
    }

    /// Restores a limit left behind by a sweep that was killed while a cap was set on GPU
    /// `gpu_index`; returns the watts restored, if any.
    pub fn recover(&self, gpu_index: u32) -> crate::Result<Option<f64>> {
        if !self.pending.exists() {
            return Ok(None);
        }
        let mut ctl = NvmlPowerLimit::open(gpu_index)?;
        PowerCapper::recover(&mut ctl as &mut dyn PowerLimitControl, &self.pending)
    }
}

impl PowerCap for NvmlCapper {
    fn apply(&mut self, device: greenbench_core::DeviceName, watts: f64) -> Result<(), BoxError> {
        let index = device.gpu_index().ok_or_else(|| {
            format!("power_limit_w needs a GPU device (cuda:N), this run is on `{device}`")
        })?;
        if self.capper.as_ref().is_none_or(|(i, _)| *i != index) {
            if let Some((_, mut old)) = self.capper.take() {
                old.restore()?;
            }
            let ctl = NvmlPowerLimit::open(index)?;
            let c = PowerCapper::new(Box::new(ctl), &self.pending)?;
            self.capper = Some((index, c));
        }
        match self.capper.as_mut() {
            Some((_, c)) => Ok(c.apply(watts)?),
            None => Err("no power-limit control".into()),
        }
    }

    fn restore(&mut self) -> Result<(), BoxError> {
        match self.capper.as_mut() {
            Some((_, c)) => Ok(c.restore()?),
            None => Ok(()),
        }
    }
}
