//! The most power a machine can draw, and a flag for a phase whose average power is beyond it: a
//! figure no meter could have read honestly (a mistyped `--watts-per-core`, a counter read
//! wrong), which a report must not publish as a measurement.

use crate::energy::ComponentEnergy;
use crate::record::Flag;

/// Most watts one logical core draws, its share of DRAM included. The highest rated power per
/// logical core of current server and desktop CPUs is about 15 W (e.g. a 4-core, 8-thread
/// 105 W Xeon Gold 5222: 13 W; an 8-core, 16-thread 180 W EPYC 72F3: 11 W; a 24-core, 32-thread
/// i9-13900K at its 253 W turbo limit: 8 W), and DRAM adds well under 1 W per core; 50 W leaves
/// more than a 3× margin for turbo bursts and unusual parts. Also the upper end of the range
/// `--watts-per-core` accepts.
pub const MAX_WATTS_PER_CORE: f64 = 50.0;

/// Most watts one GPU board draws: above the highest board power of accelerators on sale in
/// 2025 (AMD MI355X 1,400 W; NVIDIA B200 1,000 W, H100 SXM 700 W).
pub const MAX_WATTS_PER_GPU: f64 = 1500.0;

/// How the reason of an [`implausible_power`] flag begins (to tell it from other flags on the
/// same energy field).
pub const IMPLAUSIBLE_POWER: &str = "average power beyond what this machine can draw";

/// What bounds a machine's power draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineSize {
    /// Logical CPUs of the whole machine (online, not only those the process may use: RAPL
    /// meters whole packages).
    pub cores: usize,
    /// GPUs whose energy the figure includes (the meter reads one GPU: 1 when `gpu_j` is
    /// present, else 0).
    pub gpus: usize,
}

impl MachineSize {
    /// Most watts the CPU packages and their DRAM can draw: [`MAX_WATTS_PER_CORE`] × cores.
    pub fn max_cpu_dram_w(&self) -> f64 {
        MAX_WATTS_PER_CORE * self.cores as f64
    }

    /// Most watts the GPUs can draw: [`MAX_WATTS_PER_GPU`] × GPUs.
    pub fn max_gpu_w(&self) -> f64 {
        MAX_WATTS_PER_GPU * self.gpus as f64
    }
}

/// A flag on `{phase}.energy` when the phase's average power (its energy over `duration_s`) is
/// more than `machine` can draw: CPU plus DRAM above [`MAX_WATTS_PER_CORE`] × cores, or GPU above
/// [`MAX_WATTS_PER_GPU`] × GPUs. Such energy cannot be true however it was metered, measured or
/// estimated. `None` when the power is within the bounds, when no component has a figure, or
/// when the duration is not a positive number of seconds (no average power to judge; a machine
/// whose core count is unknown, 0, is not judged on its CPU either).
pub fn implausible_power(
    phase: &str,
    energy: &ComponentEnergy,
    duration_s: f64,
    machine: MachineSize,
) -> Option<Flag> {
    if !(duration_s.is_finite() && duration_s > 0.0) {
        return None;
    }
    let watts = |j: Option<f64>| j.map(|j| j / duration_s);
    let mut over = Vec::new();
    let cpu_dram = match (watts(energy.cpu_j), watts(energy.dram_j)) {
        (None, None) => None,
        (c, d) => Some(c.unwrap_or(0.0) + d.unwrap_or(0.0)),
    };
    if let Some(w) = cpu_dram.filter(|&w| machine.cores > 0 && beyond(w, machine.max_cpu_dram_w()))
    {
        over.push(format!(
            "CPU + DRAM {} W > {} W ({MAX_WATTS_PER_CORE} W × {} logical cores)",
            compact(w),
            compact(machine.max_cpu_dram_w()),
            machine.cores
        ));
    }
    if let Some(w) = watts(energy.gpu_j).filter(|&w| beyond(w, machine.max_gpu_w())) {
        over.push(format!(
            "GPU {} W > {} W ({MAX_WATTS_PER_GPU} W × {} GPU(s))",
            compact(w),
            compact(machine.max_gpu_w()),
            machine.gpus
        ));
    }
    (!over.is_empty()).then(|| Flag {
        field: format!("{phase}.energy"),
        reason: format!(
            "{IMPLAUSIBLE_POWER} over {duration_s:.3} s: {}. \
             The energy cannot be true: check the meter settings (e.g. --watts-per-core) and \
             the sources `greenbench meters` lists; reports must not publish it as measured",
            over.join(", ")
        ),
    })
}

/// Whether `watts` is above `bound`, or not a number at all (infinite, NaN).
fn beyond(watts: f64, bound: f64) -> bool {
    !watts.is_finite() || watts > bound
}

/// Watts for people: 3 significant digits, scientific beyond a million (a 1e12 W figure is not
/// printed with twelve digits).
fn compact(w: f64) -> String {
    if w.abs() >= 1e6 {
        format!("{w:.2e}")
    } else {
        format!("{w:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn energy(cpu: Option<f64>, dram: Option<f64>, gpu: Option<f64>) -> ComponentEnergy {
        ComponentEnergy {
            cpu_j: cpu,
            dram_j: dram,
            gpu_j: gpu,
            total_j: Some(cpu.unwrap_or(0.0) + dram.unwrap_or(0.0) + gpu.unwrap_or(0.0)),
            ..Default::default()
        }
    }

    const LAPTOP: MachineSize = MachineSize { cores: 8, gpus: 0 };

    #[test]
    fn a_terawatt_from_a_huge_watts_per_core_is_flagged_with_the_bound() {
        // --watts-per-core 1e12 on a 4 ms run: 4 GJ, 1e12 W.
        let e = energy(Some(4e9), Some(0.01), None);
        let f = implausible_power("train", &e, 0.004, LAPTOP).expect("flagged");
        assert_eq!(f.field, "train.energy");
        assert!(
            f.reason.contains("CPU + DRAM 1.00e12 W > 400 W"),
            "{}",
            f.reason
        );
        assert!(f.reason.contains("50 W × 8 logical cores"), "{}", f.reason);
        assert!(f.reason.contains("--watts-per-core"), "{}", f.reason);
    }

    #[test]
    fn power_a_machine_can_draw_is_not_flagged() {
        // 8 cores busy at 10 W plus 3 W of DRAM for 10 s.
        let e = energy(Some(800.0), Some(30.0), None);
        assert_eq!(implausible_power("train", &e, 10.0, LAPTOP), None);
        // Exactly the bound is still possible.
        let e = energy(Some(4000.0), None, None);
        assert_eq!(implausible_power("train", &e, 10.0, LAPTOP), None);
        // A 700 W GPU beside an idle CPU.
        let gpu = MachineSize { cores: 8, gpus: 1 };
        let e = energy(Some(50.0), Some(5.0), Some(7000.0));
        assert_eq!(implausible_power("inference", &e, 10.0, gpu), None);
    }

    #[test]
    fn a_gpu_above_its_board_power_or_on_a_machine_without_one_is_flagged() {
        let one = MachineSize { cores: 8, gpus: 1 };
        let e = energy(Some(10.0), None, Some(20_000.0));
        let f = implausible_power("inference", &e, 10.0, one).expect("2 kW from one GPU");
        assert_eq!(f.field, "inference.energy");
        assert!(f.reason.contains("GPU 2000 W > 1500 W"), "{}", f.reason);
        assert!(!f.reason.contains("CPU + DRAM"), "{}", f.reason);
        let f = implausible_power("train", &e, 10.0, LAPTOP).expect("no GPU at all");
        assert!(f.reason.contains("× 0 GPU(s)"), "{}", f.reason);
    }

    #[test]
    fn infinite_or_nan_power_is_flagged_and_no_figure_or_no_duration_is_not_judged() {
        let e = energy(Some(f64::INFINITY), None, None);
        assert!(implausible_power("train", &e, 1.0, LAPTOP).is_some());
        let e = energy(Some(f64::NAN), None, None);
        assert!(implausible_power("train", &e, 1.0, LAPTOP).is_some());
        let none = ComponentEnergy::default();
        assert_eq!(implausible_power("train", &none, 1.0, LAPTOP), None);
        let e = energy(Some(4e9), None, None);
        assert_eq!(implausible_power("train", &e, 0.0, LAPTOP), None);
        assert_eq!(implausible_power("train", &e, f64::NAN, LAPTOP), None);
        let unknown = MachineSize { cores: 0, gpus: 0 };
        assert_eq!(implausible_power("train", &e, 1.0, unknown), None);
    }
}
