//! Physical units as newtypes so that joules are never added to watts by accident.
//!
//! All three serialize as plain numbers (`#[serde(transparent)]`).

use serde::{Deserialize, Serialize};
use std::ops::{Add, AddAssign, Div, Mul, Sub};

/// Energy in joules.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Joules(pub f64);

/// Power in watts.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Watts(pub f64);

/// Duration in seconds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seconds(pub f64);

impl Joules {
    /// Joules from microjoules (the unit of RAPL's `energy_uj`).
    pub fn from_micro(uj: u64) -> Self {
        Joules(uj as f64 * 1e-6)
    }
    /// Joules from millijoules (the unit of NVML's total energy counter).
    pub fn from_milli(mj: u64) -> Self {
        Joules(mj as f64 * 1e-3)
    }
    /// Watt-hours.
    pub fn wh(self) -> f64 {
        self.0 / 3600.0
    }
    /// Kilowatt-hours.
    pub fn kwh(self) -> f64 {
        self.0 / 3.6e6
    }
}

impl Seconds {
    /// Seconds from a [`std::time::Duration`].
    pub fn from_duration(d: std::time::Duration) -> Self {
        Seconds(d.as_secs_f64())
    }
}

impl Add for Joules {
    type Output = Joules;
    fn add(self, o: Joules) -> Joules {
        Joules(self.0 + o.0)
    }
}
impl AddAssign for Joules {
    fn add_assign(&mut self, o: Joules) {
        self.0 += o.0;
    }
}
impl Sub for Joules {
    type Output = Joules;
    fn sub(self, o: Joules) -> Joules {
        Joules(self.0 - o.0)
    }
}
impl Add for Seconds {
    type Output = Seconds;
    fn add(self, o: Seconds) -> Seconds {
        Seconds(self.0 + o.0)
    }
}
/// Power × time = energy.
impl Mul<Seconds> for Watts {
    type Output = Joules;
    fn mul(self, t: Seconds) -> Joules {
        Joules(self.0 * t.0)
    }
}
/// Energy ÷ time = power.
impl Div<Seconds> for Joules {
    type Output = Watts;
    fn div(self, t: Seconds) -> Watts {
        Watts(self.0 / t.0)
    }
}

impl std::fmt::Display for Joules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} J", self.0)
    }
}
impl std::fmt::Display for Watts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} W", self.0)
    }
}
impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.3} s", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_times_time_is_energy() {
        assert_eq!(Watts(10.0) * Seconds(3.0), Joules(30.0));
        assert_eq!(Joules(30.0) / Seconds(3.0), Watts(10.0));
    }

    #[test]
    fn unit_conversions() {
        assert_eq!(Joules::from_micro(2_500_000), Joules(2.5));
        assert_eq!(Joules::from_milli(1500), Joules(1.5));
        assert!((Joules(3600.0).wh() - 1.0).abs() < 1e-12);
        assert!((Joules(3.6e6).kwh() - 1.0).abs() < 1e-12);
    }
}
