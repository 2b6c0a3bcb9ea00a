//! Every registered model (CNNs included, as they appear): forward shape and a backward pass
//! that reaches every trainable variable with a finite, non-zero gradient.

mod common;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{VarBuilder, VarMap};
use common::{random_batch, Lcg};
use greenbench_core::Family;
use greenbench_models::{init_varmap, list, trainable_vars};

#[test]
fn every_model_forwards_and_every_variable_gets_a_gradient() {
    let mut failures = Vec::new();
    for entry in list() {
        if let Err(e) = check(&entry.name, &entry.default_input) {
            failures.push(format!("{}: {e}", entry.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn check(name: &str, input: &greenbench_models::InputSpec) -> Result<(), String> {
    let n = 2;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let (_, model) = greenbench_models::build(name, input, vb).map_err(|e| e.to_string())?;
    init_varmap(&varmap, 3).map_err(|e| e.to_string())?;
    let (x, y) = random_batch(input, n, &mut Lcg(5));
    let mut shape = vec![n];
    shape.extend_from_slice(&input.sample_shape);
    let xs = if input.text {
        Tensor::from_vec(
            x.iter().map(|&v| v as u32).collect::<Vec<_>>(),
            shape,
            &Device::Cpu,
        )
    } else {
        Tensor::from_vec(x, shape, &Device::Cpu)
    }
    .map_err(|e| e.to_string())?;
    let out = model.forward_t(&xs, true).map_err(|e| e.to_string())?;
    let want: Vec<usize> = if input.text {
        vec![n, input.sample_shape[0], input.classes]
    } else {
        vec![n, input.classes]
    };
    if out.dims() != want.as_slice() {
        return Err(format!("output shape {:?}, want {want:?}", out.dims()));
    }
    let r = || -> candle_core::Result<Vec<String>> {
        let logits = out.reshape(((), out.dim(D::Minus1)?))?;
        let ys = Tensor::from_vec(y.clone(), logits.dim(0)?, &Device::Cpu)?;
        let grads = candle_nn::loss::cross_entropy(&logits, &ys)?.backward()?;
        let mut bad = Vec::new();
        let names: Vec<String> = {
            let data = varmap
                .data()
                .lock()
                .map_err(|_| candle_core::Error::Msg("lock".into()))?;
            let mut k: Vec<String> = data
                .keys()
                .filter(|k| !greenbench_models::is_buffer(k))
                .cloned()
                .collect();
            k.sort();
            k
        };
        let unused = model.unused_variables();
        for (var, name) in trainable_vars(&varmap).iter().zip(names) {
            if unused.iter().any(|p| name.starts_with(p)) {
                continue;
            }
            match grads.get(var.as_tensor()) {
                None => bad.push(format!("{name}: no gradient")),
                Some(g) => {
                    let v = g.flatten_all()?.to_vec1::<f32>()?;
                    if v.iter().any(|x| !x.is_finite()) {
                        bad.push(format!("{name}: non-finite gradient"));
                    } else if v.iter().all(|x| *x == 0.0) {
                        bad.push(format!("{name}: zero gradient"));
                    }
                }
            }
        }
        Ok(bad)
    };
    let bad = r().map_err(|e| e.to_string())?;
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    }
}

#[test]
fn descriptions_are_consistent() {
    let entries = list();
    assert!(entries.iter().any(|e| e.family == Family::Mlp));
    assert!(
        entries.iter().any(|e| e.name == "vit-tiny")
            && entries.iter().any(|e| e.name == "vit-small")
    );
    assert!(entries
        .iter()
        .any(|e| e.name == "char-gpt" && e.default_input.text));
    let cnns: Vec<_> = entries.iter().filter(|e| e.family == Family::Cnn).collect();
    assert_eq!(cnns.len(), 16, "the 16 pytorch-cifar networks");
    for e in cnns {
        assert_eq!(
            e.default_input.sample_shape.as_slice(),
            &[3usize, 32, 32][..],
            "{}",
            e.name
        );
    }
    let s = greenbench_models::describe("mlp-small", &common::image(1, 28, 28, 10)).unwrap();
    assert_eq!(s.params, 784 * 256 + 256 + 256 * 10 + 10);
    assert_eq!(s.macs_per_sample, 784 * 256 + 256 * 10);
    assert_eq!(s.family, Family::Mlp);
    let c = greenbench_models::describe("mlp-100x50", &common::image(1, 8, 8, 10)).unwrap();
    assert_eq!(
        c.params,
        (64 * 100 + 100 + 100 * 50 + 50 + 50 * 10 + 10) as u64
    );
    // ViT-tiny: 64 patches + class token, width 64.
    let v = greenbench_models::describe("vit-tiny", &common::image(3, 32, 32, 10)).unwrap();
    assert!(v.params > 100_000 && v.macs_per_sample > v.params);
    assert!(greenbench_models::describe("vit-tiny", &common::image(3, 30, 30, 10)).is_err());
    assert!(greenbench_models::describe("no-such-model", &common::image(3, 32, 32, 10)).is_err());
}
