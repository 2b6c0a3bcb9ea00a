//! What a record's raw figures imply: net energy (raw − idle power × time), average power,
//! carbon at the grid intensity of the run's window, and the flags of figures that cannot be
//! true (net energy below zero).

use greenbench_core::energy::ComponentPower;
use greenbench_core::grid::GridIntensity;
use greenbench_core::power_bound::{implausible_power, MachineSize, IMPLAUSIBLE_POWER};
use greenbench_core::record::{Flag, RunRecord};
use greenbench_core::{ComponentEnergy, Seconds};

/// Fills net energy (E − P_idle × t), average power and carbon from the raw figures; carbon at
/// the grid intensity of the run's own window (missing, and flagged, when an hourly series does
/// not cover it).
pub fn add_net_and_carbon(
    rec: &mut RunRecord,
    idle: &ComponentPower,
    grid: &GridIntensity,
    pue: f64,
) {
    let intensity = grid.for_window(&rec.started_at, &rec.finished_at);
    let rate = intensity.as_ref().ok().copied();
    let grams = |e: &ComponentEnergy, net: &ComponentEnergy| {
        let j = net.total_j.filter(|j| *j >= 0.0).or(e.total_j)?;
        Some(j / 3.6e6 * rate? * pue)
    };
    rec.carbon_g.intensity_g_per_kwh = rate;
    if let Some(t) = rec.train.as_mut() {
        t.net_energy = t.energy.net_of(idle, Seconds(t.duration_s));
        t.avg_power_w = t.energy.average_power(Seconds(t.duration_s));
        for e in t.epochs.iter_mut() {
            e.net_energy_j = match (e.energy_j, idle.total_w) {
                (Some(j), Some(p)) => Some(j - p * e.duration_s),
                _ => None,
            };
        }
        rec.carbon_g.train = grams(&t.energy, &t.net_energy);
    }
    if let Some(i) = rec.inference.as_mut() {
        i.net_energy = i.energy.net_of(idle, Seconds(i.duration_s));
        i.avg_power_w = i.energy.average_power(Seconds(i.duration_s));
        rec.carbon_g.inference = grams(&i.energy, &i.net_energy);
    }
    rec.flags.retain(|f| f.field != "carbon_g");
    if let Err(why) = intensity {
        rec.flags.push(Flag {
            field: "carbon_g".into(),
            reason: format!(
                "no grid intensity for this run ({why}); carbon is missing. Extend the intensity_csv to cover the run"
            ),
        });
    }
    let mut flags = Vec::new();
    if let Some(t) = &rec.train {
        flags.extend(negative_net("train", &t.net_energy, &t.avg_power_w, idle));
    }
    if let Some(i) = &rec.inference {
        flags.extend(negative_net(
            "inference",
            &i.net_energy,
            &i.avg_power_w,
            idle,
        ));
    }
    rec.flags.retain(|f| !f.field.ends_with(".net_energy"));
    rec.flags.extend(flags);
    flag_implausible_power(rec);
}

/// Flags a phase whose average power is beyond what the machine can draw (a mistyped
/// `--watts-per-core`, a counter read wrong): its energy cannot be true, however metered.
/// Judged against every online logical CPU, not only those the run may use, since RAPL meters
/// whole packages.
fn flag_implausible_power(rec: &mut RunRecord) {
    // SAFETY: sysconf has no preconditions.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let cores = rec.host.cores.max(usize::try_from(online).unwrap_or(0));
    let size = |e: &ComponentEnergy| MachineSize {
        cores,
        gpus: usize::from(e.gpu_j.is_some()),
    };
    rec.flags
        .retain(|f| !f.reason.starts_with(IMPLAUSIBLE_POWER));
    let mut flags = Vec::new();
    if let Some(t) = &rec.train {
        flags.extend(implausible_power(
            "train",
            &t.energy,
            t.duration_s,
            size(&t.energy),
        ));
    }
    if let Some(i) = &rec.inference {
        flags.extend(implausible_power(
            "inference",
            &i.energy,
            i.duration_s,
            size(&i.energy),
        ));
    }
    rec.flags.extend(flags);
}

/// A flag when a phase's net energy is below zero in any component: the idle baseline drew more
/// power than the run did, so the baseline was taken under load (or the load changed), and the
/// net figure cannot be true.
fn negative_net(
    phase: &str,
    net: &ComponentEnergy,
    run_power: &ComponentPower,
    idle: &ComponentPower,
) -> Option<Flag> {
    let parts = [
        ("cpu", net.cpu_j, run_power.cpu_w, idle.cpu_w),
        ("dram", net.dram_j, run_power.dram_w, idle.dram_w),
        ("gpu", net.gpu_j, run_power.gpu_w, idle.gpu_w),
        ("total", net.total_j, run_power.total_w, idle.total_w),
    ];
    let bad: Vec<String> = parts
        .iter()
        .filter_map(|&(c, j, run_w, idle_w)| {
            let j = j.filter(|j| *j < 0.0)?;
            Some(format!(
                "{c} {j:.3} J (idle {} W > run {} W)",
                idle_w.map_or("?".into(), |w| format!("{w:.2}")),
                run_w.map_or("?".into(), |w| format!("{w:.2}"))
            ))
        })
        .collect();
    (!bad.is_empty()).then(|| Flag {
        field: format!("{phase}.net_energy"),
        reason: format!(
            "net energy below zero: {}. The idle baseline drew more power than the run, so it was \
             measured under other load; use the raw energy (reports do) and measure the baseline \
             on a quiet machine",
            bad.join(", ")
        ),
    })
}
