//! The training interface the runner calls with plain arrays (no candle types cross it).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var, D};
use candle_nn::{VarBuilder, VarMap};

use crate::complexity::{macs_per_param, param_count};
use crate::error::ModelError;
use crate::init::{init_varmap, is_buffer, is_running_stat};
pub use crate::input::InputSpec;
use crate::model::Model;
use crate::optim::{learning_rate, warmup_factor, Kind, Optimizer};
use crate::pool::on_pool;
use crate::registry;
use greenbench_core::io_error as io;
use greenbench_core::{DeviceName, Family};

/// Everything a training run is configured with.
#[derive(Clone, Debug)]
pub struct TrainSettings {
    /// Registered model name.
    pub model: String,
    /// Samples per batch.
    pub batch_size: usize,
    /// Base learning rate.
    pub lr: f64,
    /// The update rule.
    pub optimizer: greenbench_core::Optimizer,
    /// SGD momentum (AdamW uses β = (0.9, 0.999)).
    pub momentum: f64,
    /// Weight decay (coupled for SGD, decoupled for AdamW).
    pub weight_decay: f64,
    /// How the learning rate falls from `lr` over `epochs × steps_per_epoch` steps.
    pub schedule: greenbench_core::Schedule,
    /// Epochs of the run (the schedule's length).
    pub epochs: usize,
    /// Optimizer steps per epoch.
    pub steps_per_epoch: usize,
    /// Epochs of linear learning-rate warm-up at the start (0: none): the rate rises step by
    /// step from `lr / warm-up steps` to the schedule's.
    pub warmup_epochs: f64,
    /// Seed of the initial weights.
    pub seed: u64,
    /// Where the model lives and trains.
    pub device: DeviceName,
}

/// Result of one training step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepStats {
    /// Mean loss over the targets of the batch.
    pub loss: f64,
    /// Correct arg-max predictions.
    pub correct: usize,
    /// Targets counted.
    pub count: usize,
}

/// Result of evaluating one batch.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct EvalStats {
    /// Sum of per-target losses.
    pub loss_sum: f64,
    /// Correct arg-max predictions.
    pub correct: usize,
    /// Targets counted.
    pub count: usize,
}

/// One registered model as `greenbench models` lists it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelEntry {
    /// Config name.
    pub name: String,
    /// What the report groups and the planner scales by.
    pub family: Family,
    /// What the model accepts.
    pub requires: &'static str,
    /// One line.
    pub description: String,
    /// The input it is listed (and summarised) with.
    pub default_input: InputSpec,
}

/// Complexity of a model for a given input.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ModelSummary {
    /// Config name.
    pub name: String,
    /// What the report groups and the planner scales by.
    pub family: Family,
    /// Trainable parameters.
    pub params: u64,
    /// Analytic MACs of one forward pass for one sample.
    pub macs_per_sample: u64,
    /// MACs per parameter.
    pub macs_per_param: f64,
    /// The sample shape it was measured at.
    pub input_shape: Vec<usize>,
}

/// Every registered model with its default input.
pub fn list() -> Vec<ModelEntry> {
    registry::entries()
        .into_iter()
        .map(|e| ModelEntry {
            default_input: registry::default_input(e.requires),
            requires: e.requires.describe(),
            name: e.name,
            family: e.family,
            description: e.description,
        })
        .collect()
}

/// Builds `name` for `input` on the CPU and reports its complexity.
pub fn describe(name: &str, input: &InputSpec) -> Result<ModelSummary, ModelError> {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let (entry, model) = registry::build(name, input, vb)?;
    let params = param_count(&varmap);
    let macs = model.macs_per_sample();
    Ok(ModelSummary {
        name: entry.name,
        family: entry.family,
        params,
        macs_per_sample: macs,
        macs_per_param: macs_per_param(macs, params),
        input_shape: input.sample_shape.clone(),
    })
}

/// Opens `device` for candle (a CUDA device needs the `cuda` build; the error says how to get it).
pub fn open_device(device: DeviceName) -> Result<Device, ModelError> {
    match device {
        DeviceName::Cpu => Ok(Device::Cpu),
        DeviceName::Cuda(i) => cuda_device(i as usize),
    }
}

#[cfg(feature = "cuda")]
fn cuda_device(ordinal: usize) -> Result<Device, ModelError> {
    Device::new_cuda(ordinal)
        .map_err(|e| ModelError::Device(format!("cannot open cuda:{ordinal}: {e}")))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(_ordinal: usize) -> Result<Device, ModelError> {
    Err(ModelError::Device(
        "this greenbench was built without CUDA; rebuild with scripts/build-cuda.sh".into(),
    ))
}

/// A model with its variables, optimizer and schedule, trained one batch at a time.
pub struct Trainer {
    model: Box<dyn Model>,
    varmap: VarMap,
    optimizer: Optimizer,
    settings: TrainSettings,
    input: InputSpec,
    family: Family,
    device: Device,
    params: u64,
    step: u64,
}

impl Trainer {
    /// Builds the model (weights from `s.seed`, deterministic), optimizer and schedule.
    pub fn new(s: &TrainSettings, input: &InputSpec) -> Result<Trainer, ModelError> {
        if s.batch_size == 0 {
            return Err(ModelError::Setting {
                field: "batch_size",
                message: "must be ≥ 1".into(),
            });
        }
        if !(s.lr.is_finite() && s.lr > 0.0) {
            return Err(ModelError::Setting {
                field: "lr",
                message: format!("must be a positive number, found {}", s.lr),
            });
        }
        let kind = Kind::new(s.optimizer, s.momentum);
        let device = open_device(s.device)?;
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &device);
        let (entry, model) = registry::build(&s.model, input, vb)?;
        init_varmap(&varmap, s.seed)?;
        let optimizer = Optimizer::new(kind, s.weight_decay, trainable_vars(&varmap))?;
        let params = param_count(&varmap);
        Ok(Trainer {
            model,
            varmap,
            optimizer,
            settings: s.clone(),
            input: input.clone(),
            family: entry.family,
            device,
            params,
            step: 0,
        })
    }

    /// Trainable parameters.
    pub fn params(&self) -> u64 {
        self.params
    }
    /// Analytic MACs per sample.
    pub fn macs_per_sample(&self) -> u64 {
        self.model.macs_per_sample()
    }
    /// The model's family.
    pub fn family(&self) -> Family {
        self.family
    }
    /// Optimizer steps taken (the schedule's position).
    pub fn step_count(&self) -> u64 {
        self.step
    }
    /// Moves the schedule to step `step` (e.g. back to 0 after warmup batches).
    pub fn set_step(&mut self, step: u64) {
        self.step = step;
    }
    /// Learning rate the next step will use: the schedule's, times the warm-up's factor.
    pub fn lr(&self) -> f64 {
        let s = &self.settings;
        let warmup_steps = (s.warmup_epochs.max(0.0) * s.steps_per_epoch as f64).ceil() as u64;
        learning_rate(s.schedule, s.lr, self.step, s.epochs, s.steps_per_epoch)
            * warmup_factor(self.step, warmup_steps)
    }

    /// One optimizer step on `n` samples; advances the schedule.
    pub fn train_step(&mut self, x: &[f32], y: &[u32], n: usize) -> Result<StepStats, ModelError> {
        // With tracking on whatever the thread's setting: a pool thread waiting inside another
        // trainer's evaluation (under `no_grad`) may steal this step.
        let cpu = self.device.is_cpu();
        on_pool(cpu, || {
            candle_core::op::with_grad(|| self.train_step_here(x, y, n))
        })
    }

    /// [`Trainer::train_step`] on the calling thread (see `pool::on_pool`).
    fn train_step_here(&mut self, x: &[f32], y: &[u32], n: usize) -> Result<StepStats, ModelError> {
        let (xs, ys) = self.batch(x, y, n)?;
        let logits = self.flat_logits(&xs, true)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &ys)?;
        // Frees each activation once the backward pass is past it (as PyTorch): the step's peak
        // memory is then about the forward pass's, not it plus the largest layers' gradients.
        let grads = loss.backward_releasing()?;
        let lr = self.lr();
        self.optimizer.step(&grads, lr)?;
        self.step += 1;
        let correct = count_correct(&logits, &ys)?;
        Ok(StepStats {
            loss: loss.to_scalar::<f32>()? as f64,
            correct,
            count: ys.dim(0)?,
        })
    }

    /// Loss and accuracy of `n` samples in eval mode (batch-norm running statistics, no update).
    pub fn evaluate(&self, x: &[f32], y: &[u32], n: usize) -> Result<EvalStats, ModelError> {
        on_pool(self.device.is_cpu(), || self.evaluate_here(x, y, n))
    }

    /// [`Trainer::evaluate`] on the calling thread (see `pool::on_pool`).
    fn evaluate_here(&self, x: &[f32], y: &[u32], n: usize) -> Result<EvalStats, ModelError> {
        let (xs, ys) = self.batch(x, y, n)?;
        // As PyTorch's `torch.no_grad()`: no op records its inputs for a backward pass.
        let logits = candle_core::op::no_grad(|| self.flat_logits(&xs, false))?;
        let loss = candle_nn::loss::cross_entropy(&logits, &ys)?.to_scalar::<f32>()? as f64;
        let count = ys.dim(0)?;
        Ok(EvalStats {
            loss_sum: loss * count as f64,
            correct: count_correct(&logits, &ys)?,
            count,
        })
    }

    /// Re-estimates every batch-norm layer's running statistics under the current weights from
    /// `batches` (inputs, targets, samples), as "precise BN" (Wu & Johnson, 2021): each running
    /// mean and variance becomes the average of that layer's batch statistics over the batches,
    /// replacing averages that a short run's earlier, since-changed weights still dominate.
    /// Training-mode forward passes without gradients; the weights and the schedule do not
    /// change. Nothing to do for a model without batch norm or with no batches.
    pub fn recalibrate_batch_norm(
        &mut self,
        batches: &[(&[f32], &[u32], usize)],
    ) -> Result<(), ModelError> {
        on_pool(self.device.is_cpu(), || self.recalibrate_here(batches))
    }

    /// [`Trainer::recalibrate_batch_norm`] on the calling thread (see `pool::on_pool`).
    fn recalibrate_here(&self, batches: &[(&[f32], &[u32], usize)]) -> Result<(), ModelError> {
        let stats: Vec<Var> = match self.varmap.data().lock() {
            Ok(data) => data
                .iter()
                .filter(|(name, _)| is_running_stat(name))
                .map(|(_, v)| v.clone())
                .collect(),
            Err(_) => {
                return Err(ModelError::Candle(candle_core::Error::Msg(
                    "the variable map's lock is poisoned (a thread panicked holding it)".into(),
                )))
            }
        };
        if stats.is_empty() || batches.is_empty() {
            return Ok(());
        }
        let m = crate::cnn::layers::BN_MOMENTUM;
        let mut sums: Vec<Option<Tensor>> = vec![None; stats.len()];
        for &(x, y, n) in batches {
            let (xs, _) = self.batch(x, y, n)?;
            let before = stats
                .iter()
                .map(|v| v.as_tensor().copy())
                .collect::<candle_core::Result<Vec<_>>>()?;
            candle_core::op::no_grad(|| self.flat_logits(&xs, true))?;
            for ((v, b), sum) in stats.iter().zip(&before).zip(sums.iter_mut()) {
                // The layer set running = (1 − m)·before + m·batch: recover the batch's.
                let batch = ((v.as_tensor() - (b * (1.0 - m))?)? / m)?;
                *sum = Some(match sum.take() {
                    Some(s) => (s + batch)?,
                    None => batch,
                });
            }
        }
        let k = batches.len() as f64;
        for (v, sum) in stats.iter().zip(sums) {
            if let Some(s) = sum {
                v.set(&(s / k)?)?;
            }
        }
        Ok(())
    }

    /// Waits for queued device work (no-op on CPU).
    pub fn synchronize(&self) -> Result<(), ModelError> {
        Ok(self.device.synchronize()?)
    }

    /// Writes every variable (batch-norm statistics included) as safetensors.
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        self.varmap.save(path).map_err(|e| ModelError::Checkpoint {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Reads variables written by [`Trainer::save`] for the same model and input.
    pub fn load(&mut self, path: &Path) -> Result<(), ModelError> {
        self.varmap.load(path).map_err(|e| ModelError::Checkpoint {
            path: path.display().to_string(),
            message: format!(
                "{e} (was it saved from model `{}` with the same input?)",
                self.settings.model
            ),
        })
    }

    /// Writes the whole training state — every variable (batch-norm statistics included), the
    /// optimizer's buffers and step count, and the schedule's position — as one safetensors file,
    /// so that [`Trainer::load_checkpoint`] continues training exactly where this one stopped.
    pub fn save_checkpoint(&self, path: &Path) -> Result<(), ModelError> {
        let err = |e: candle_core::Error| ModelError::Checkpoint {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let mut all: HashMap<String, Tensor> = HashMap::new();
        if let Ok(data) = self.varmap.data().lock() {
            for (name, var) in data.iter() {
                all.insert(format!("model.{name}"), var.as_tensor().clone());
            }
        }
        for (name, t) in self.optimizer.state_tensors().map_err(err)? {
            all.insert(name, t);
        }
        let step = Tensor::new(&[self.step as f64], &Device::Cpu).map_err(err)?;
        all.insert("trainer.step".into(), step);
        let bytes =
            safetensors::serialize(&all, None).map_err(|e| err(candle_core::Error::from(e)))?;
        std::fs::write(path, bytes).map_err(io("writing checkpoint", path))?;
        Ok(())
    }

    /// Continues from a file written by [`Trainer::save_checkpoint`] for the same model, input
    /// and optimizer: variables, optimizer state and schedule position.
    pub fn load_checkpoint(&mut self, path: &Path) -> Result<(), ModelError> {
        let err = |message: String| ModelError::Checkpoint {
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(path).map_err(io("reading checkpoint", path))?;
        let saved = candle_core::safetensors::load_buffer(&bytes, &self.device)
            .map_err(|e| err(format!("{e} (the checkpoint file is unreadable)")))?;
        if let Ok(data) = self.varmap.data().lock() {
            for (name, var) in data.iter() {
                let t = saved.get(&format!("model.{name}")).ok_or_else(|| {
                    err(format!(
                        "no variable {name}: not a checkpoint of model `{}`",
                        self.settings.model
                    ))
                })?;
                var.set(t)
                    .map_err(|e| err(format!("variable {name}: {e}")))?;
            }
        }
        self.optimizer
            .restore_state(&saved)
            .map_err(|e| err(e.to_string()))?;
        let step = saved
            .get("trainer.step")
            .and_then(|t| t.to_vec1::<f64>().ok())
            .and_then(|v| v.first().copied())
            .ok_or_else(|| err("no trainer.step in the checkpoint".into()))?;
        self.step = step as u64;
        Ok(())
    }

    fn flat_logits(&self, xs: &Tensor, train: bool) -> Result<Tensor, ModelError> {
        let logits = self.model.forward_t(xs, train)?;
        let classes = logits.dim(D::Minus1)?;
        Ok(logits.reshape(((), classes))?)
    }

    fn batch(&self, x: &[f32], y: &[u32], n: usize) -> Result<(Tensor, Tensor), ModelError> {
        let (sl, tps) = (self.input.sample_len(), self.input.targets_per_sample());
        if n == 0 {
            return Err(ModelError::Batch("empty batch (n = 0)".into()));
        }
        if x.len() != n * sl || y.len() != n * tps {
            return Err(ModelError::Batch(format!(
                "expected {} inputs and {} targets for {n} samples, got {} and {}",
                n * sl,
                n * tps,
                x.len(),
                y.len()
            )));
        }
        let classes = self.input.classes;
        if let Some(bad) = y.iter().find(|&&t| t as usize >= classes) {
            return Err(ModelError::Batch(format!(
                "target {bad} is not below the {classes} classes of the input spec"
            )));
        }
        let mut shape = vec![n];
        shape.extend_from_slice(&self.input.sample_shape);
        let xs = if self.input.text {
            if let Some(bad) = x.iter().find(|v| {
                !(v.is_finite() && **v >= 0.0 && (**v as usize) < classes && v.fract() == 0.0)
            }) {
                return Err(ModelError::Batch(format!(
                    "token id {bad} is not an integer below the vocabulary size {classes}"
                )));
            }
            let ids: Vec<u32> = x.iter().map(|&v| v as u32).collect();
            Tensor::from_vec(ids, shape, &self.device)?
        } else {
            Tensor::from_slice(x, shape, &self.device)?
        };
        Ok((xs, Tensor::from_slice(y, n * tps, &self.device)?))
    }
}

/// Trainable variables of `varmap` sorted by name (batch-norm statistics excluded).
pub fn trainable_vars(varmap: &VarMap) -> Vec<Var> {
    let Ok(data) = varmap.data().lock() else {
        return Vec::new();
    };
    let mut v: Vec<(&String, &Var)> = data.iter().filter(|(k, _)| !is_buffer(k)).collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v.into_iter().map(|(_, var)| var.clone()).collect()
}

fn count_correct(logits: &Tensor, ys: &Tensor) -> Result<usize, ModelError> {
    let pred = logits.argmax(D::Minus1)?;
    Ok(pred
        .eq(ys)?
        .to_dtype(DType::U32)?
        .sum_all()?
        .to_scalar::<u32>()? as usize)
}
