//! Synthetic sweeps for behaviour tests: records shaped like the runner's, with plausible physics
//! (time ∝ MACs × samples, energy = power × time, net = raw − idle × time) and a little noise.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use greenbench_core::{
    CarbonRecord, EpochRecord, HostInfo, InferenceRecord, ModelInfo, RunRecord, TrainRecord,
};
use greenbench_core::{
    Component, ComponentEnergy, ComponentPower, Quality, RunSpec, RunStatus, SCHEMA_VERSION,
};

/// Deterministic noise in [-1, 1).
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

/// Shape of a synthetic sweep.
pub struct Shape {
    pub models: usize,
    pub batch_sizes: Vec<usize>,
    pub repeats: usize,
    pub epochs: usize,
    pub train_samples: u64,
    pub gpu: bool,
    pub quality: Quality,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            models: 6,
            batch_sizes: vec![16, 64, 128],
            repeats: 2,
            epochs: 4,
            train_samples: 2000,
            gpu: false,
            quality: Quality::Estimated,
        }
    }
}

fn energy(parts: &[(Component, f64)], q: Quality) -> ComponentEnergy {
    let map: BTreeMap<Component, (Option<greenbench_core::Joules>, Quality)> = parts
        .iter()
        .map(|&(c, j)| (c, (Some(greenbench_core::Joules(j)), q)))
        .collect();
    ComponentEnergy::from_parts(&map)
}

pub fn spec(model: &str, batch: usize, epochs: usize, repeat: usize) -> RunSpec {
    RunSpec {
        model: model.into(),
        dataset: "fashion-mnist".into(),
        dataset_path: None,
        subset: None,
        validation: None,
        test_subset: None,
        continues: None,
        schedule_epochs: None,
        batch_size: batch,
        lr: 0.01,
        optimizer: greenbench_core::Optimizer::Sgd,
        momentum: 0.9,
        weight_decay: 5e-4,
        schedule: greenbench_core::Schedule::Cosine,
        lr_warmup_epochs: None,
        bn_recalibration_samples: None,
        epochs,
        device: greenbench_core::DeviceName::Cpu,
        threads: 2,
        seed: repeat as u64,
        repeat,
        precision: greenbench_core::Precision::F32,
        warmup_batches: 5,
        replicate_test: 1,
        power_limit_w: None,
        timeout_s: None,
        workload: None,
    }
}

/// One ok run.
pub fn run(
    model_idx: usize,
    batch: usize,
    repeat: usize,
    shape: &Shape,
    rng: &mut Lcg,
) -> RunRecord {
    let model = format!("model-{model_idx:02}");
    let params = 20_000 * (model_idx as u64 + 1).pow(2);
    let macs = params * (3 + 7 * (model_idx as u64 % 4));
    let per_sample_s = macs as f64 * 2e-9 * (1.0 + 32.0 / batch as f64);
    let (cpu_w, dram_w, gpu_w, idle_cpu, idle_gpu) = (
        25.0,
        3.0,
        if shape.gpu { 150.0 } else { 0.0 },
        5.0,
        if shape.gpu { 20.0 } else { 0.0 },
    );
    let mut epochs = Vec::new();
    let (mut tot_t, mut tot_e, mut tot_net) = (0.0, 0.0, 0.0);
    for e in 0..shape.epochs {
        let warm = if e == 0 { 1.08 } else { 1.0 };
        let t = per_sample_s * shape.train_samples as f64 * warm * (1.0 + 0.03 * rng.next());
        let p = cpu_w + dram_w + gpu_w;
        let ej = p * t;
        let net = ej - (idle_cpu + idle_gpu) * t;
        tot_t += t;
        tot_e += ej;
        tot_net += net;
        let acc = 0.6 + 0.3 * (1.0 - (-(e as f64 + 1.0) / 2.0).exp()) + 0.01 * rng.next();
        epochs.push(EpochRecord {
            epoch: e + 1,
            duration_s: t,
            energy_j: Some(ej),
            net_energy_j: Some(net),
            loss: 2.0 * (-(e as f64) / 2.0).exp() + 0.05 * rng.next().abs(),
            train_acc: acc,
            val_acc: Some(acc - 0.02),
        });
    }
    let mut parts = vec![
        (Component::Cpu, cpu_w * tot_t),
        (Component::Dram, dram_w * tot_t),
    ];
    if shape.gpu {
        parts.push((Component::Gpu, gpu_w * tot_t));
    }
    let raw = energy(&parts, shape.quality);
    let mut net_parts = vec![
        (Component::Cpu, (cpu_w - idle_cpu) * tot_t),
        (Component::Dram, dram_w * tot_t),
    ];
    if shape.gpu {
        net_parts.push((Component::Gpu, (gpu_w - idle_gpu) * tot_t));
    }
    let net = energy(&net_parts, shape.quality);
    let _ = tot_e;
    let _ = tot_net;
    let avg = raw.average_power(greenbench_core::Seconds(tot_t));
    let inf_t = per_sample_s * 0.3 * 1000.0 * (1.0 + 0.02 * rng.next());
    let inf_raw = energy(
        &[
            (Component::Cpu, cpu_w * inf_t),
            (Component::Dram, dram_w * inf_t),
        ],
        shape.quality,
    );
    let inf_net = energy(
        &[
            (Component::Cpu, (cpu_w - idle_cpu) * inf_t),
            (Component::Dram, dram_w * inf_t),
        ],
        shape.quality,
    );
    let s = spec(&model, batch, shape.epochs, repeat);
    RunRecord {
        schema_version: SCHEMA_VERSION,
        sweep: "synthetic".into(),
        run_id: s.run_id(),
        status: RunStatus::Ok,
        error: None,
        started_at: "2026-01-01T00:00:00Z".into(),
        finished_at: "2026-01-01T00:10:00Z".into(),
        spec: s,
        family: Some(greenbench_core::Family::Cnn),
        host: HostInfo {
            cpu_model: "Synthetic CPU".into(),
            cores: 2,
            mem_gb: 8.0,
            gpu: shape.gpu.then(|| "Synthetic GPU".into()),
            os: "Linux".into(),
            hostname: "h".into(),
            greenbench_version: "0.1.0".into(),
            candle_version: "0.11.1".into(),
            cpu_kernels: "avx2".into(),
        },
        model: Some(ModelInfo {
            params,
            macs_per_sample: macs,
            macs_per_param: macs as f64 / params as f64,
        }),
        train: Some(TrainRecord {
            duration_s: tot_t,
            samples_per_s: shape.train_samples as f64 * shape.epochs as f64 / tot_t,
            energy: raw,
            net_energy: net,
            avg_power_w: avg,
            gpu_util_mean: shape
                .gpu
                .then(|| 40.0 + 50.0 * (batch as f64 / 256.0) + 5.0 * rng.next()),
            cpu_util_mean: Some(
                60.0 + 30.0 * (model_idx as f64 / shape.models as f64) + 3.0 * rng.next(),
            ),
            final_loss: epochs.last().map_or(0.0, |e| e.loss),
            train_acc: epochs.last().map_or(0.0, |e| e.train_acc),
            val_acc: epochs.last().and_then(|e| e.val_acc),
            validation_samples: None,
            epochs,
            partial_epoch: None,
        }),
        inference: Some(InferenceRecord {
            samples: Some(1000),
            duration_s: inf_t,
            samples_per_s: 1000.0 / inf_t,
            energy: inf_raw,
            net_energy: inf_net,
            avg_power_w: ComponentPower::default(),
            accuracy: 0.8 + 0.1 * rng.next(),
            perplexity: None,
        }),
        idle_power_w: ComponentPower {
            cpu_w: Some(idle_cpu),
            dram_w: Some(0.0),
            gpu_w: shape.gpu.then_some(idle_gpu),
            total_w: Some(idle_cpu + idle_gpu),
        },
        carbon_g: CarbonRecord::default(),
        meters: [(
            "cpu".to_string(),
            "estimate: 12.5 W/core × CPU time".to_string(),
        )]
        .into_iter()
        .collect(),
        train_samples: shape.train_samples,
        interference: None,
        flags: Vec::new(),
        attempts: Vec::new(),
        command: None,
    }
}

/// A whole sweep: models × batch sizes × repeats, all ok.
pub fn sweep(shape: &Shape) -> Vec<RunRecord> {
    let mut rng = Lcg(42);
    let mut v = Vec::new();
    for m in 0..shape.models {
        for &b in &shape.batch_sizes {
            for r in 0..shape.repeats {
                v.push(run(m, b, r, shape, &mut rng));
            }
        }
    }
    v
}

/// A crashed run (no training record).
pub fn crashed(model: &str) -> RunRecord {
    let s = spec(model, 32, 2, 0);
    RunRecord {
        status: RunStatus::Crashed,
        error: Some("signal 9 (killed): out of memory".into()),
        started_at: "2026-01-01T00:00:00Z".into(),
        finished_at: "2026-01-01T00:00:05Z".into(),
        family: Some(greenbench_core::Family::Cnn),
        ..RunRecord::new("synthetic", s)
    }
}

/// Writes `runs.jsonl` (and `manifest.json` when `config` is given) into `dir`.
pub fn write_sweep(dir: &Path, records: &[RunRecord], config: Option<&str>) {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).unwrap());
        text.push('\n');
    }
    std::fs::write(dir.join("runs.jsonl"), text).unwrap();
    if let Some(c) = config {
        let m = serde_json::json!({"config": c, "greenbench_version": "0.1.0"});
        std::fs::write(dir.join("manifest.json"), m.to_string()).unwrap();
    }
}

/// The committed sweep folder `tests/data/<name>` (records and manifest of a real sweep).
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A fresh copy of `tests/data/<name>`'s records and manifest in a temporary folder (a report
/// writes into the folder it reads).
pub fn copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["runs.jsonl", "manifest.json"] {
        std::fs::copy(data(name).join(f), dir.path().join(f)).unwrap();
    }
    dir
}

/// The records of `dir`, changed by `f` (run ids follow the changed specs).
pub fn rewrite(dir: &Path, f: impl Fn(&mut RunRecord)) {
    let path = dir.join("runs.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut r: RunRecord = serde_json::from_str(line).unwrap();
        f(&mut r);
        r.run_id = r.spec.run_id();
        out.push_str(&serde_json::to_string(&r).unwrap());
        out.push('\n');
    }
    std::fs::write(path, out).unwrap();
}

/// The records of `dir`'s `runs.jsonl`.
pub fn records(dir: &Path) -> Vec<RunRecord> {
    std::fs::read_to_string(dir.join("runs.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A run as `validation = 0` records it: nothing held out, no validation accuracy.
pub fn without_validation(r: &mut RunRecord) {
    r.spec.validation = None;
    if let Some(t) = r.train.as_mut() {
        t.val_acc = None;
        t.validation_samples = None;
        for e in &mut t.epochs {
            e.val_acc = None;
        }
    }
}
