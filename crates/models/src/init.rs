//! Deterministic, PyTorch-like initialisation of every variable of a [`VarMap`].
//!
//! candle's CPU random generator cannot be seeded reliably, so models are first built through a
//! `VarBuilder` (whatever candle fills in is discarded) and then every variable is overwritten here
//! from a generator seeded by `(seed, variable name)`, so the same seed gives the same weights and
//! adding a layer does not change the others. Rules, by the variable's full name:
//! - `…running_mean` → 0, `…running_var` → 1 (batch-norm statistics, not trainable);
//! - `…weight` of rank ≥ 2 (linear `[out, in]`, conv `[out, in/groups, kh, kw]`) →
//!   U(±1/√fan_in), PyTorch's default `kaiming_uniform_(a=√5)`;
//! - `…bias` whose sibling `…weight` has rank ≥ 2 → U(±1/√fan_in) of that weight (PyTorch default);
//! - other `…weight` / `…bias` of rank 1 (norm scales and shifts) → 1 / 0;
//! - anything else (embeddings, class token, positions) → N(0, 0.02²).

use std::collections::HashMap;

use candle_core::{Tensor, Var};
use candle_nn::VarMap;
use rand::{rngs::StdRng, Rng, SeedableRng};

/// True for variables that are state, not trainable parameters (batch-norm running statistics).
pub fn is_buffer(name: &str) -> bool {
    is_running_stat(name) || name.ends_with("num_batches_tracked")
}

/// True for a batch-norm layer's running mean or variance.
pub(crate) fn is_running_stat(name: &str) -> bool {
    name.ends_with("running_mean") || name.ends_with("running_var")
}

/// Overwrites every variable of `varmap` deterministically from `seed` (see the module rules).
pub fn init_varmap(varmap: &VarMap, seed: u64) -> candle_core::Result<()> {
    let vars: Vec<(String, Var)> = {
        let data = varmap
            .data()
            .lock()
            .map_err(|_| candle_core::Error::Msg("var map lock poisoned".into()))?;
        let mut v: Vec<_> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let shapes: HashMap<&str, Vec<usize>> = vars
        .iter()
        .map(|(k, v)| (k.as_str(), v.dims().to_vec()))
        .collect();
    for (name, var) in &vars {
        let dims = var.dims();
        let n = var.elem_count();
        let mut rng = StdRng::seed_from_u64(seed ^ fnv1a(name));
        let values: Vec<f32> = match rule(name, dims, &shapes) {
            Rule::Const(c) => vec![c; n],
            Rule::Uniform(b) => (0..n).map(|_| rng.random_range(-b..b)).collect(),
            Rule::Normal(std) => (0..n).map(|_| std * standard_normal(&mut rng)).collect(),
        };
        let t = Tensor::from_vec(values, dims, var.device())?.to_dtype(var.dtype())?;
        var.set(&t)?;
    }
    Ok(())
}

enum Rule {
    Const(f32),
    Uniform(f32),
    Normal(f32),
}

fn rule(name: &str, dims: &[usize], shapes: &HashMap<&str, Vec<usize>>) -> Rule {
    if name.ends_with("running_mean") || name.ends_with("num_batches_tracked") {
        return Rule::Const(0.0);
    }
    if name.ends_with("running_var") {
        return Rule::Const(1.0);
    }
    let fan_in = |d: &[usize]| d[1..].iter().product::<usize>().max(1) as f32;
    if name.ends_with("weight") {
        return if dims.len() >= 2 {
            Rule::Uniform(1.0 / fan_in(dims).sqrt())
        } else {
            Rule::Const(1.0)
        };
    }
    if let Some(prefix) = name.strip_suffix("bias") {
        let w = format!("{prefix}weight");
        return match shapes.get(w.as_str()) {
            Some(wd) if wd.len() >= 2 => Rule::Uniform(1.0 / fan_in(wd).sqrt()),
            _ => Rule::Const(0.0),
        };
    }
    Rule::Normal(0.02)
}

fn standard_normal(rng: &mut StdRng) -> f32 {
    // Box–Muller; u1 in (0, 1] so ln is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarBuilder;

    fn build(seed: u64) -> VarMap {
        let vm = VarMap::new();
        let vb = VarBuilder::from_varmap(&vm, DType::F32, &Device::Cpu);
        let _ = candle_nn::linear(8, 4, vb.pp("fc")).map(|_| ());
        let _ = candle_nn::batch_norm(4, 1e-5, vb.pp("bn")).map(|_| ());
        init_varmap(&vm, seed).map(|_| ()).ok();
        vm
    }

    fn values(vm: &VarMap, name: &str) -> Vec<f32> {
        let data = vm.data().lock().ok();
        data.and_then(|d| {
            d.get(name)
                .and_then(|v| v.flatten_all().ok()?.to_vec1::<f32>().ok())
        })
        .unwrap_or_default()
    }

    #[test]
    fn same_seed_same_weights_and_pytorch_like_rules() {
        let (a, b, c) = (build(7), build(7), build(8));
        assert_eq!(values(&a, "fc.weight"), values(&b, "fc.weight"));
        assert_ne!(values(&a, "fc.weight"), values(&c, "fc.weight"));
        let bound = 1.0 / 8f32.sqrt();
        assert!(values(&a, "fc.weight").iter().all(|v| v.abs() <= bound));
        assert!(values(&a, "fc.bias").iter().all(|v| v.abs() <= bound));
        assert_eq!(values(&a, "bn.weight"), vec![1.0; 4]);
        assert_eq!(values(&a, "bn.bias"), vec![0.0; 4]);
        assert_eq!(values(&a, "bn.running_var"), vec![1.0; 4]);
        assert_eq!(values(&a, "bn.running_mean"), vec![0.0; 4]);
    }
}
