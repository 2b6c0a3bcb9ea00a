//! The worker side of a run: load data, build the model, warm up, train epoch by epoch inside
//! meter windows, run inference over the replicated test set, and report events on stdout.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use greenbench_core::{ComponentEnergy, PhaseMeter};
use greenbench_core::{EpochRecord, InferenceRecord, ModelInfo, PartialEpoch, TrainRecord};
use greenbench_core::{Outcome, Phase, WorkerEvent, WorkerRequest, WorkerResult};
use greenbench_data::{Dataset, Selection, Split};
use greenbench_models::{InputSpec, StepStats, TrainSettings, Trainer};

use crate::error::WorkerError;
use crate::fault::Fault;

/// Writes one event as a JSON line on stdout and flushes (the parent reads line by line).
pub fn emit(ev: &WorkerEvent) {
    if let Ok(line) = serde_json::to_string(ev) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Runs the request to its end, emitting events; returns the process exit code (0 also for a
/// diverged run, 2 for a run that could not start).
pub fn run_worker(req: &WorkerRequest, meter: &mut dyn PhaseMeter) -> i32 {
    match execute(req, meter) {
        Ok(result) => {
            emit(&WorkerEvent::Finished(Box::new(result)));
            0
        }
        Err(e) => {
            emit(&WorkerEvent::Failed {
                message: e.to_string(),
            });
            2
        }
    }
}

/// A loaded run: its data, model and the settings both were built with.
struct Loaded {
    data: Dataset,
    input: InputSpec,
    settings: TrainSettings,
    trainer: Trainer,
    model: ModelInfo,
}

/// What the training epochs produced: their records and energies, and why they stopped early
/// (with the epoch that stopped part-way and its energy, spent all the same).
struct Trained {
    epochs: Vec<EpochRecord>,
    energies: Vec<ComponentEnergy>,
    diverged: Option<String>,
    partial: Option<Partial>,
}

/// The epoch that stopped part-way: its record, its window's energy, and the samples stepped.
struct Partial {
    epoch: PartialEpoch,
    energy: ComponentEnergy,
    samples: usize,
}

fn execute(req: &WorkerRequest, meter: &mut dyn PhaseMeter) -> Result<WorkerResult, WorkerError> {
    let spec = &req.spec;
    let fault = Fault::for_model(&spec.model);
    Fault::before_run(fault);
    let mut run = load(req)?;
    let mut batcher = Batcher::new(&run.data);
    warm_up(req, &run, &mut batcher)?;
    if let Some(path) = &req.trace_path {
        if req.sampler_hz > 0.0 {
            meter
                .start_trace(path, req.sampler_hz)
                .map_err(WorkerError::Meter)?;
        }
    }
    emit(&WorkerEvent::Phase {
        phase: Phase::Train,
    });
    let mut on_step =
        |epoch, batch, step: &mut StepStats| Fault::after_step(fault, epoch, batch, step);
    let trained = train_epochs(req, &mut run, &mut batcher, meter, &mut on_step)?;
    if let (Some(dir), None) = (&req.checkpoint_dir, &trained.diverged) {
        // Written aside and renamed, so a killed worker never leaves a half checkpoint behind.
        let path = dir.join(format!("{}.safetensors", spec.run_id()));
        let part = path.with_extension("safetensors.part");
        run.trainer.save_checkpoint(&part)?;
        std::fs::rename(&part, &path).map_err(|e| WorkerError::Checkpoint {
            path: path.clone(),
            what: format!("moving {} into place: {e}", part.display()),
        })?;
    }
    let mut result = WorkerResult {
        status: Outcome::Ok,
        model: Some(run.model.clone()),
        meters: meter.sources(),
        gpu: meter.gpu_name(),
        ..Default::default()
    };
    let mut train = train_record(
        &run.data,
        trained.epochs,
        &trained.energies,
        trained.partial,
    );
    if let Some(why) = trained.diverged {
        let stats = meter.stop_trace();
        train.cpu_util_mean = stats.cpu_util_mean;
        train.gpu_util_mean = stats.gpu_util_mean;
        if train.epochs.is_empty() {
            train.final_loss = f64::NAN;
        }
        result.status = Outcome::Diverged;
        result.error = Some(why);
        // Kept even when no epoch finished: the batches before the loss broke spent energy.
        result.train = Some(train);
        return Ok(result);
    }
    let inference = infer(req, &mut run, &mut batcher, meter)?;
    let stats = meter.stop_trace();
    train.cpu_util_mean = stats.cpu_util_mean;
    train.gpu_util_mean = stats.gpu_util_mean;
    result.train = Some(train);
    result.inference = Some(inference);
    Ok(result)
}

/// Loads the data, builds the model and reports `loaded`.
fn load(req: &WorkerRequest) -> Result<Loaded, WorkerError> {
    let spec = &req.spec;
    let selection = Selection {
        subset: spec.subset,
        validation: spec.validation.unwrap_or(0.0),
        test_subset: spec.test_subset,
    };
    let data = greenbench_data::load(
        &spec.dataset,
        &req.datasets_root,
        spec.dataset_path.as_deref().map(Path::new),
        &selection,
    )?;
    let input = InputSpec {
        sample_shape: data.sample_shape(),
        classes: data.classes,
        text: data.kind.is_text(),
    };
    let steps_per_epoch = data.train.len.div_ceil(spec.batch_size);
    let settings = TrainSettings {
        model: spec.model.clone(),
        batch_size: spec.batch_size,
        lr: spec.lr,
        optimizer: spec.optimizer,
        momentum: spec.momentum,
        weight_decay: spec.weight_decay,
        schedule: spec.schedule,
        epochs: spec.schedule_epochs.unwrap_or(spec.epochs).max(spec.epochs),
        steps_per_epoch,
        warmup_epochs: spec.lr_warmup_epochs.unwrap_or(0.0),
        seed: spec.seed,
        device: spec.device,
    };
    let mut trainer = Trainer::new(&settings, &input)?;
    if let Some(from) = &spec.continues {
        let file = format!("{}.safetensors", from.run_id);
        let dir = req
            .checkpoint_dir
            .as_deref()
            .ok_or_else(|| WorkerError::Checkpoint {
                path: file.clone().into(),
                what: format!(
                    "this run continues run {} but the sweep gave no checkpoint folder",
                    from.run_id
                ),
            })?;
        trainer.load_checkpoint(&dir.join(file))?;
    }
    let params = trainer.params();
    let macs = trainer.macs_per_sample();
    let model = ModelInfo {
        params,
        macs_per_sample: macs,
        macs_per_param: if params > 0 {
            macs as f64 / params as f64
        } else {
            0.0
        },
    };
    emit(&WorkerEvent::Loaded {
        train_samples: data.train.len as u64,
        test_samples: data.test.len as u64,
        validation_samples: data.validation.len as u64,
        family: trainer.family(),
        model: model.clone(),
        batches_per_epoch: steps_per_epoch,
    });
    Ok(Loaded {
        data,
        input,
        settings,
        trainer,
        model,
    })
}

/// `warmup_batches` steps on a throw-away copy of the model, so that the measured run starts
/// from the seed's weights with allocator, caches and thread pool warm.
fn warm_up(req: &WorkerRequest, run: &Loaded, batcher: &mut Batcher) -> Result<(), WorkerError> {
    let spec = &req.spec;
    if spec.warmup_batches == 0 {
        return Ok(());
    }
    emit(&WorkerEvent::Phase {
        phase: Phase::Warmup,
    });
    let mut warm = Trainer::new(&run.settings, &run.input)?;
    let order = greenbench_data::epoch_order(run.data.train.len, spec.seed ^ 0x5eed, 0);
    for chunk in order.chunks(spec.batch_size).take(spec.warmup_batches) {
        batcher.fill(&run.data.train, chunk);
        warm.train_step(&batcher.x, &batcher.y, chunk.len())?;
    }
    Ok(warm.synchronize()?)
}

/// What is done with each training step's result (epoch 1-based, batch 0-based) before the loop
/// looks at it: nothing, or a test's injected fault.
type StepHook<'a> = &'a mut dyn FnMut(usize, usize, &mut StepStats);

/// Every epoch in its own meter window, each followed by validation-split accuracy outside the
/// window; stops at the first non-finite loss.
fn train_epochs(
    req: &WorkerRequest,
    run: &mut Loaded,
    batcher: &mut Batcher,
    meter: &mut dyn PhaseMeter,
    on_step: StepHook,
) -> Result<Trained, WorkerError> {
    let spec = &req.spec;
    let mut trained = Trained {
        epochs: Vec::new(),
        energies: Vec::new(),
        diverged: None,
        partial: None,
    };
    for epoch in spec.first_epoch()..=spec.epochs {
        run.trainer.synchronize()?;
        meter.begin().map_err(WorkerError::Meter)?;
        let t0 = Instant::now();
        let order = greenbench_data::epoch_order(run.data.train.len, spec.seed, epoch - 1);
        let pass = train_pass(req, run, batcher, meter, epoch, &order, on_step)?;
        if let (None, Some(samples)) = (&pass.diverged, spec.bn_recalibration_samples) {
            // Inside the epoch's window: it is part of what training the model costs.
            recalibrate(req, run, batcher, &order, samples)?;
        }
        run.trainer.synchronize()?;
        let duration = t0.elapsed().as_secs_f64();
        let energy = meter.end();
        if pass.diverged.is_some() {
            let partial = PartialEpoch {
                epoch,
                batches: pass.batches,
                duration_s: duration,
                energy_j: energy.total_j,
            };
            trained.partial = Some(Partial {
                epoch: partial,
                energy,
                samples: pass.batches * spec.batch_size,
            });
            trained.diverged = pass.diverged;
            break;
        }
        // Accuracy on the validation split (never the test set) after the epoch, outside the
        // training window; none when nothing was held out.
        let val = if run.data.validation.len > 0 {
            let v = evaluate(
                &mut run.trainer,
                batcher,
                &run.data.validation,
                spec.batch_size,
                1,
            )?;
            Some(v.accuracy)
        } else {
            None
        };
        let rec = EpochRecord {
            epoch,
            duration_s: duration,
            energy_j: energy.total_j,
            net_energy_j: None,
            loss: pass.loss_sum / pass.samples.max(1) as f64,
            train_acc: pass.correct as f64 / pass.count.max(1) as f64,
            val_acc: val,
        };
        emit(&WorkerEvent::Epoch(rec.clone()));
        emit(&WorkerEvent::EpochEnergy {
            epoch,
            energy: energy.clone(),
        });
        trained.epochs.push(rec);
        trained.energies.push(energy);
    }
    Ok(trained)
}

/// Re-estimates the batch-norm statistics under the weights at the end of an epoch
/// (`bn_recalibration_samples`): over the first `samples` of that epoch's `order`, in batches of
/// the run's batch size, as training computes them.
fn recalibrate(
    req: &WorkerRequest,
    run: &mut Loaded,
    batcher: &mut Batcher,
    order: &[usize],
    samples: usize,
) -> Result<(), WorkerError> {
    let spec = &req.spec;
    let take = samples.min(order.len());
    let owned: Vec<(Vec<f32>, Vec<u32>, usize)> = order[..take]
        .chunks(spec.batch_size)
        .map(|chunk| {
            batcher.fill(&run.data.train, chunk);
            (batcher.x.clone(), batcher.y.clone(), chunk.len())
        })
        .collect();
    let batches: Vec<(&[f32], &[u32], usize)> = owned
        .iter()
        .map(|(x, y, n)| (x.as_slice(), y.as_slice(), *n))
        .collect();
    run.trainer.recalibrate_batch_norm(&batches)?;
    Ok(())
}

/// One pass over the training set: sums for the epoch's loss and accuracy.
#[derive(Default)]
struct Pass {
    loss_sum: f64,
    samples: usize,
    correct: usize,
    count: usize,
    /// Batches stepped, the one whose loss broke included.
    batches: usize,
    diverged: Option<String>,
}

/// The training steps of epoch `epoch` over the samples in `order`, with progress about twice
/// a second.
fn train_pass(
    req: &WorkerRequest,
    run: &mut Loaded,
    batcher: &mut Batcher,
    meter: &mut dyn PhaseMeter,
    epoch: usize,
    order: &[usize],
    on_step: StepHook,
) -> Result<Pass, WorkerError> {
    let spec = &req.spec;
    let batches = order.len().div_ceil(spec.batch_size);
    let (t0, mut last_report) = (Instant::now(), Instant::now());
    let mut pass = Pass::default();
    for (b, chunk) in order.chunks(spec.batch_size).enumerate() {
        batcher.fill(&run.data.train, chunk);
        let mut st = run
            .trainer
            .train_step(&batcher.x, &batcher.y, chunk.len())?;
        pass.batches += 1;
        on_step(epoch, b, &mut st);
        if !st.loss.is_finite() {
            let why = format!("loss became {} at epoch {epoch}, batch {}", st.loss, b + 1);
            pass.diverged = Some(why);
            break;
        }
        pass.loss_sum += st.loss * chunk.len() as f64;
        pass.samples += chunk.len();
        pass.correct += st.correct;
        pass.count += st.count;
        if last_report.elapsed() >= Duration::from_millis(500) {
            last_report = Instant::now();
            emit(&WorkerEvent::Progress {
                epoch,
                batch: b + 1,
                batches,
                samples_per_s: pass.samples as f64 / t0.elapsed().as_secs_f64().max(1e-9),
                loss: pass.loss_sum / pass.samples.max(1) as f64,
                watts: meter.live_watts(),
            });
        }
    }
    Ok(pass)
}

/// The training record of the epochs that ran, the one that stopped part-way included in time
/// and energy (utilisation is added when the trace stops).
fn train_record(
    data: &Dataset,
    epochs: Vec<EpochRecord>,
    energies: &[ComponentEnergy],
    partial: Option<Partial>,
) -> TrainRecord {
    let trained = (data.train.len * epochs.len()) as u64
        + partial
            .as_ref()
            .map_or(0, |p| p.samples.min(data.train.len) as u64);
    let energy = ComponentEnergy::sum(energies.iter().chain(partial.as_ref().map(|p| &p.energy)));
    TrainRecord {
        validation_samples: (data.validation.len > 0).then_some(data.validation.len as u64),
        ..TrainRecord::from_epochs(epochs, partial.map(|p| p.epoch), Some(trained), energy)
    }
}

/// Inference over the test set `replicate_test` times in one meter window.
fn infer(
    req: &WorkerRequest,
    run: &mut Loaded,
    batcher: &mut Batcher,
    meter: &mut dyn PhaseMeter,
) -> Result<InferenceRecord, WorkerError> {
    let spec = &req.spec;
    emit(&WorkerEvent::Phase {
        phase: Phase::Inference,
    });
    run.trainer.synchronize()?;
    meter.begin().map_err(WorkerError::Meter)?;
    let t0 = Instant::now();
    let inf = evaluate(
        &mut run.trainer,
        batcher,
        &run.data.test,
        spec.batch_size,
        spec.replicate_test,
    )?;
    run.trainer.synchronize()?;
    let duration = t0.elapsed().as_secs_f64();
    let energy = meter.end();
    let text = run.data.kind.is_text();
    Ok(InferenceRecord::measured(
        Some(inf.samples),
        duration,
        energy,
        inf.accuracy,
        text.then(|| (inf.loss_sum / inf.count.max(1) as f64).exp()),
    ))
}

struct EvalOutcome {
    samples: u64,
    accuracy: f64,
    loss_sum: f64,
    count: usize,
}

fn evaluate(
    trainer: &mut Trainer,
    batcher: &mut Batcher,
    split: &Split,
    batch_size: usize,
    replicate: usize,
) -> Result<EvalOutcome, WorkerError> {
    let order: Vec<usize> = (0..split.len).collect();
    let (mut correct, mut count, mut loss_sum, mut samples) = (0usize, 0usize, 0.0f64, 0u64);
    for _ in 0..replicate.max(1) {
        for chunk in order.chunks(batch_size) {
            batcher.fill(split, chunk);
            let st = trainer.evaluate(&batcher.x, &batcher.y, chunk.len())?;
            correct += st.correct;
            count += st.count;
            loss_sum += st.loss_sum;
            samples += chunk.len() as u64;
        }
    }
    Ok(EvalOutcome {
        samples,
        accuracy: correct as f64 / count.max(1) as f64,
        loss_sum,
        count,
    })
}

/// Reusable batch buffers.
struct Batcher {
    x: Vec<f32>,
    y: Vec<u32>,
    sample_len: usize,
    targets: usize,
}

impl Batcher {
    fn new(d: &Dataset) -> Batcher {
        Batcher {
            x: Vec::new(),
            y: Vec::new(),
            sample_len: d.sample_len(),
            targets: d.targets_per_sample(),
        }
    }
    fn fill(&mut self, split: &Split, idx: &[usize]) {
        greenbench_data::gather(
            split,
            idx,
            self.sample_len,
            self.targets,
            &mut self.x,
            &mut self.y,
        );
    }
}
