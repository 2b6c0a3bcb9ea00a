//! Windows, the synchronize hook, source choice and the idle baseline.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use greenbench_core::{Component, Quality};
use greenbench_meter::{
    Counters, EnergySource, EstimateSource, GpuSample, Meter, MeterError, MeterOptions, NvmlSource,
    ReplayDevice, Result,
};

/// A test source drawing constant power per component, measured.
struct Constant {
    watts: f64,
    components: Vec<Component>,
    t0: Instant,
}

impl EnergySource for Constant {
    fn name(&self) -> &'static str {
        "constant"
    }
    fn components(&self) -> &[Component] {
        &self.components
    }
    fn quality(&self) -> Quality {
        Quality::Measured
    }
    fn basis(&self) -> String {
        format!("{} W constant", self.watts)
    }
    fn read(&mut self) -> Result<Counters> {
        let mut c = Counters::default();
        for &k in &self.components {
            c.joules[greenbench_meter::slot(k)] =
                Some(self.watts * self.t0.elapsed().as_secs_f64());
        }
        Ok(c)
    }
}

fn constant(watts: f64, components: &[Component]) -> Box<dyn EnergySource> {
    Box::new(Constant {
        watts,
        components: components.to_vec(),
        t0: Instant::now(),
    })
}

#[test]
fn sync_hook_is_called_at_both_edges() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let m = Meter::from_sources(vec![constant(1.0, &[Component::Cpu])]).with_sync(Box::new(
        move || {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(())
        },
    ));
    let w = m.begin().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let r = w.end().unwrap(); // `w` is consumed here: reading it twice does not compile
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(r.duration.0 >= 0.0);
}

#[test]
fn failing_sync_hook_is_an_error_naming_the_edge() {
    let m = Meter::from_sources(vec![constant(1.0, &[Component::Cpu])]);
    m.set_sync(Some(Box::new(|| Err("CUDA error 700".into()))));
    let e = m.begin().unwrap_err();
    assert!(matches!(e, MeterError::Sync { edge: "begin", .. }), "{e}");
    assert!(e.to_string().contains("CUDA error 700"));
}

#[test]
fn measured_beats_estimated_per_component_and_choice_is_recorded() {
    let est = Box::new(EstimateSource::new(Some(10.0)).unwrap());
    let gpu = ReplayDevice::new(
        (0..10)
            .map(|i| GpuSample {
                t_s: i as f64,
                power_w: Some(100.0),
                ..Default::default()
            })
            .collect(),
    );
    let gpu = Box::new(NvmlSource::from_device(Box::new(gpu)).unwrap());
    // Estimate first in the list: it still loses cpu to the measured source, keeps dram.
    let m = Meter::from_sources(vec![est, constant(50.0, &[Component::Cpu]), gpu]);
    let ch = m.choices();
    assert_eq!(ch.len(), 3);
    assert_eq!(
        (ch[0].component, ch[0].source.as_str(), ch[0].quality),
        (Component::Cpu, "constant", Quality::Measured)
    );
    assert_eq!(
        (ch[1].component, ch[1].source.as_str(), ch[1].quality),
        (Component::Dram, "estimate", Quality::Estimated)
    );
    assert_eq!(
        (ch[2].component, ch[2].source.as_str()),
        (Component::Gpu, "replay")
    );
    let r = m.begin().unwrap().end().unwrap();
    assert_eq!(r.energy.quality, Some(Quality::Estimated)); // weakest
    assert_eq!(r.energy.qualities[&Component::Gpu], Quality::Measured);
    assert!(r.energy.total_j.is_some());
    assert_eq!(r.sources[&Component::Dram], "estimate");
}

#[test]
fn auto_falls_back_to_the_estimate_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let opts = MeterOptions {
        powercap_root: dir.path().join("none"),
        gpu_index: 0,
        watts_per_core: None,
    };
    let m = Meter::auto(&opts).unwrap();
    let un = m.unavailable();
    assert!(
        un.iter()
            .any(|u| u.source == "rapl" && u.reason.contains("virtual machines")),
        "{un:?}"
    );
    let cpu = m
        .choices()
        .iter()
        .find(|c| c.component == Component::Cpu)
        .unwrap();
    assert_eq!(cpu.source, "estimate");
    assert!(cpu.basis.contains("load curve"), "{}", cpu.basis);
}

#[test]
fn an_estimate_is_no_idle_baseline_and_its_windows_carry_a_range() {
    let m = Meter::from_sources(vec![Box::new(EstimateSource::new(None).unwrap())]);
    let p = m
        .idle_baseline(Duration::from_millis(200), Duration::from_millis(50))
        .unwrap();
    assert_eq!((p.cpu_w, p.dram_w, p.total_w), (None, None, None), "{p:?}");
    let w = m.begin().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let e = w.end().unwrap().energy;
    let (low, total, high) = (e.low_j.unwrap(), e.total_j.unwrap(), e.high_j.unwrap());
    assert!(low < total && total < high, "{e:?}");
    assert!(e.zero_load_j[&Component::Cpu] > 0.0, "{e:?}");
    assert!(e.is_model_net());
}

#[test]
fn idle_baseline_is_mean_power() {
    let m = Meter::from_sources(vec![constant(42.0, &[Component::Cpu, Component::Gpu])]);
    let p = m
        .idle_baseline(Duration::from_millis(300), Duration::from_millis(50))
        .unwrap();
    assert!((p.cpu_w.unwrap() - 42.0).abs() < 1.0, "{p:?}");
    assert!((p.gpu_w.unwrap() - 42.0).abs() < 1.0, "{p:?}");
    assert!((p.total_w.unwrap() - 84.0).abs() < 2.0, "{p:?}");
    assert_eq!(p.dram_w, None);
}

#[test]
fn an_idle_baseline_asked_to_stop_gives_up_within_a_tenth_of_a_second_with_no_figure() {
    let m = Meter::from_sources(vec![constant(42.0, &[Component::Cpu])]);
    let t0 = Instant::now();
    // A 20 s window read every 5 s, stopped at 200 ms (as Ctrl-C sets the sweep's flag).
    let stop = || t0.elapsed() >= Duration::from_millis(200);
    let p = m
        .idle_baseline_until(Duration::from_secs(20), Duration::from_secs(5), &stop)
        .unwrap();
    let took = t0.elapsed();
    assert_eq!(p, None, "a window cut short is no baseline");
    assert!(took < Duration::from_millis(450), "stopped after {took:?}");

    let p = m
        .idle_baseline_until(
            Duration::from_millis(300),
            Duration::from_millis(50),
            &|| false,
        )
        .unwrap()
        .expect("not stopped: measured");
    assert!((p.cpu_w.unwrap() - 42.0).abs() < 1.0, "{p:?}");
}
