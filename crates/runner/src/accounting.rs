//! What a record's raw figures imply: net energy, average power, carbon at the grid intensity of
//! the run's window, and the flags of figures that cannot be true (net energy below zero).
//!
//! Net energy is raw − baseline power × time, per component. The baseline of a measured
//! component is the machine's idle power measured before the sweep; that of an estimated
//! component is its model's zero-load power (the estimate's dynamic part is its net energy):
//! an estimate has no machine-wide reading, and the orchestrator's own CPU time is no idle
//! baseline.

use greenbench_core::ComponentPower;
use greenbench_core::GridIntensity;
use greenbench_core::{implausible_power, MachineSize, IMPLAUSIBLE_POWER};
use greenbench_core::{ComponentEnergy, Quality, Seconds};
use greenbench_core::{Flag, RunRecord};

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
        let base = baseline(&t.energy, idle, t.duration_s);
        for e in t.epochs.iter_mut() {
            e.net_energy_j = match (e.energy_j, base.total_w) {
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
        let base = baseline(&t.energy, idle, t.duration_s);
        flags.extend(negative_net(
            "train",
            &t.energy,
            &t.net_energy,
            &t.avg_power_w,
            &base,
        ));
    }
    if let Some(i) = &rec.inference {
        let base = baseline(&i.energy, idle, i.duration_s);
        flags.extend(negative_net(
            "inference",
            &i.energy,
            &i.net_energy,
            &i.avg_power_w,
            &base,
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

/// The power a phase's net energy is taken from, per component: an estimated component's model
/// zero-load power (its zero-load energy over the phase's duration), else the idle baseline.
fn baseline(energy: &ComponentEnergy, idle: &ComponentPower, duration_s: f64) -> ComponentPower {
    let mut p = ComponentPower::default();
    for (&c, &q) in &energy.qualities {
        let w = match energy.zero_load_j.get(&c) {
            Some(&z) if q == Quality::Estimated => (duration_s > 0.0).then(|| z / duration_s),
            _ => idle.get(c),
        };
        p.set(c, w);
    }
    p
}

/// A flag when a phase's net energy is below zero in any component, with the reason that is
/// true for it: a measured component's idle baseline drew more power than the run (taken under
/// other load, or the load changed); an estimated component's model charged less than its own
/// zero-load power (which the model cannot do: a fault of the estimate, not of the machine).
fn negative_net(
    phase: &str,
    raw: &ComponentEnergy,
    net: &ComponentEnergy,
    run_power: &ComponentPower,
    base: &ComponentPower,
) -> Option<Flag> {
    use greenbench_core::Component;
    let model = |c: Component| {
        raw.qualities.get(&c) == Some(&Quality::Estimated) && raw.zero_load_j.contains_key(&c)
    };
    let parts = [
        (Some(Component::Cpu), net.cpu_j, run_power.cpu_w, base.cpu_w),
        (
            Some(Component::Dram),
            net.dram_j,
            run_power.dram_w,
            base.dram_w,
        ),
        (Some(Component::Gpu), net.gpu_j, run_power.gpu_w, base.gpu_w),
        (None, net.total_j, run_power.total_w, base.total_w),
    ];
    let w = |w: Option<f64>| w.map_or("?".into(), |w| format!("{w:.2}"));
    let (mut idle_bad, mut model_bad) = (Vec::new(), Vec::new());
    for &(c, j, run_w, base_w) in &parts {
        let Some(j) = j.filter(|j| *j < 0.0) else {
            continue;
        };
        match c {
            Some(c) if model(c) => model_bad.push(format!(
                "{c} {j:.3} J (model zero-load {} W > run {} W)",
                w(base_w),
                w(run_w)
            )),
            Some(c) => idle_bad.push(format!(
                "{c} {j:.3} J (idle {} W > run {} W)",
                w(base_w),
                w(run_w)
            )),
            // The total is below zero only through a component, which says why.
            None if idle_bad.is_empty() && model_bad.is_empty() => idle_bad.push(format!(
                "total {j:.3} J (baseline {} W > run {} W)",
                w(base_w),
                w(run_w)
            )),
            None => {}
        }
    }
    let mut why = Vec::new();
    if !idle_bad.is_empty() {
        why.push(format!(
            "net energy below zero: {}. The idle baseline drew more power than the run, so it was \
             measured under other load; use the raw energy (reports do) and measure the baseline \
             on a quiet machine",
            idle_bad.join(", ")
        ));
    }
    if !model_bad.is_empty() {
        why.push(format!(
            "net energy below zero: {}. The estimate charged less than its own model's zero-load \
             power, which it cannot do: the estimate is faulty; use the raw energy (reports do)",
            model_bad.join(", ")
        ));
    }
    (!why.is_empty()).then(|| Flag {
        field: format!("{phase}.net_energy"),
        reason: why.join(". "),
    })
}
