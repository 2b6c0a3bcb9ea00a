//! With an estimated source, net energy is the model's dynamic part: the orchestrator's own CPU
//! time and memory (what an estimate reads while it waits for the idle baseline) are never
//! subtracted, and a flag's reason is true for what was subtracted.

use std::collections::BTreeMap;

use greenbench_core::ComponentPower;
use greenbench_core::GridIntensity;
use greenbench_core::{Component, ComponentEnergy, Joules, Quality};
use greenbench_core::{EpochRecord, RunRecord, TrainRecord};
use greenbench_runner::add_net_and_carbon;

fn record() -> RunRecord {
    let spec: greenbench_core::RunSpec = serde_json::from_str(
        r#"{"model":"lenet5","dataset":"digits","batch_size":32,"lr":0.01,"optimizer":"sgd",
        "momentum":0.9,"weight_decay":0.0005,"schedule":"cosine","epochs":1,"device":"cpu",
        "threads":1,"seed":0,"repeat":0,"precision":"f32","warmup_batches":0,"replicate_test":1,
        "timeout_s":2.5}"#,
    )
    .unwrap();
    RunRecord::new("t", spec)
}

/// A LeNet-sized run: 10 s, CPU 30 J of which 12 J the model charges at zero load, DRAM of a
/// 142 MB worker (0.375 W/GB × 0.142 GB × 10 s = 0.53 J), each with its range.
fn lenet_run() -> RunRecord {
    let mut parts = BTreeMap::new();
    parts.insert(Component::Cpu, (Some(Joules(30.0)), Quality::Estimated));
    parts.insert(Component::Dram, (Some(Joules(0.53)), Quality::Estimated));
    let energy = ComponentEnergy::from_parts(&parts).with_ranges(
        [
            (Component::Cpu, [27.0, 33.0]),
            (Component::Dram, [0.29, 0.74]),
        ]
        .into(),
        [(Component::Cpu, 12.0), (Component::Dram, 0.0)].into(),
    );
    RunRecord {
        train: Some(TrainRecord {
            duration_s: 10.0,
            energy,
            epochs: vec![EpochRecord {
                epoch: 1,
                duration_s: 10.0,
                energy_j: Some(30.53),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..record()
    }
}

#[test]
fn a_worker_smaller_than_the_orchestrator_gets_its_model_net_energy_and_no_false_flag() {
    let mut rec = lenet_run();
    // The estimate of an orchestrator that waited: 0.09 W of CPU time and 213 MB of RSS
    // (0.08 W of "DRAM"), more than the LeNet worker's 142 MB. This is what a folder measured
    // before estimates stopped giving an idle baseline still holds in its manifest.
    let orchestrator = ComponentPower {
        cpu_w: Some(0.09),
        dram_w: Some(0.08),
        gpu_w: None,
        total_w: Some(0.17),
    };
    add_net_and_carbon(&mut rec, &orchestrator, &GridIntensity::Fixed(100.0), 1.0);
    let t = rec.train.as_ref().unwrap();
    assert_eq!(t.net_energy.cpu_j, Some(18.0), "{:?}", t.net_energy);
    assert_eq!(t.net_energy.dram_j, Some(0.53));
    assert!(t
        .net_energy
        .total_j
        .is_some_and(|j| (j - 18.53).abs() < 1e-9));
    let (low, high) = (t.net_energy.low_j.unwrap(), t.net_energy.high_j.unwrap());
    assert!(low < 18.53 && 18.53 < high, "{:?}", t.net_energy);
    assert!(
        (t.epochs[0].net_energy_j.unwrap() - 18.53).abs() < 1e-9,
        "{:?}",
        t.epochs[0]
    );
    assert!(rec.flags.is_empty(), "{:?}", rec.flags);
}

#[test]
fn a_measured_component_below_its_idle_baseline_is_still_flagged_as_other_load() {
    let mut parts = BTreeMap::new();
    parts.insert(Component::Gpu, (Some(Joules(10.0)), Quality::Measured));
    let mut rec = RunRecord {
        train: Some(TrainRecord {
            duration_s: 10.0,
            energy: ComponentEnergy::from_parts(&parts),
            ..Default::default()
        }),
        ..record()
    };
    let idle = ComponentPower {
        gpu_w: Some(2.0),
        total_w: Some(2.0),
        ..Default::default()
    };
    add_net_and_carbon(&mut rec, &idle, &GridIntensity::Fixed(100.0), 1.0);
    let flag = rec
        .flags
        .iter()
        .find(|f| f.field == "train.net_energy")
        .expect("flagged");
    assert!(
        flag.reason.contains("measured under other load"),
        "{}",
        flag.reason
    );
    assert!(flag.reason.contains("gpu -10.000 J"), "{}", flag.reason);
}
