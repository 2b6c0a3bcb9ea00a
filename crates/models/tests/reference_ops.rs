//! Gradients of whole models with greenbench's custom CPU ops (f32) against candle's primitive
//! ops in f64 (the custom ops apply to f32 only), and against candle's primitive ops in f32
//! (`ops::set_reference_ops`): the custom ops must be at least as close to the f64 truth.
//! Own test binary, because the reference switch is process-wide.

mod common;

use candle_core::{DType, Device, Tensor, D};
use candle_nn::{VarBuilder, VarMap};
use common::{image, random_batch, Lcg};
use greenbench_models::{init_varmap, is_buffer, set_reference_ops, InputSpec};

/// Loss and every trainable variable's gradient (by name) after one training-mode backward pass.
fn gradients(model: &str, input: &InputSpec, dtype: DType) -> (f64, Vec<(String, Vec<f32>)>) {
    let n = 4;
    let (x, y) = random_batch(input, n, &mut Lcg(21));
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, dtype, &Device::Cpu);
    let (_, m) = greenbench_models::build(model, input, vb).unwrap();
    init_varmap(&varmap, 1).unwrap();
    let mut shape = vec![n];
    shape.extend_from_slice(&input.sample_shape);
    let xs = if input.text {
        let ids: Vec<u32> = x.iter().map(|&v| v as u32).collect();
        Tensor::from_vec(ids, shape, &Device::Cpu).unwrap()
    } else {
        Tensor::from_vec(x, shape, &Device::Cpu)
            .and_then(|t| t.to_dtype(dtype))
            .unwrap()
    };
    let logits = m.forward_t(&xs, true).unwrap();
    let logits = logits
        .reshape(((), logits.dim(D::Minus1).unwrap()))
        .unwrap();
    let ys = Tensor::from_vec(y, logits.dim(0).unwrap(), &Device::Cpu).unwrap();
    let loss = candle_nn::loss::cross_entropy(&logits, &ys).unwrap();
    let grads = loss.backward().unwrap();
    let data = varmap.data().lock().unwrap();
    let mut out: Vec<(String, Vec<f32>)> = data
        .iter()
        .filter(|(k, _)| !is_buffer(k))
        .filter_map(|(k, v)| {
            let g = grads.get(v.as_tensor())?;
            let g = g.to_dtype(DType::F32).and_then(|g| g.flatten_all()).ok()?;
            Some((k.clone(), g.to_vec1::<f32>().ok()?))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    let loss = loss
        .to_dtype(DType::F64)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap();
    (loss, out)
}

/// Largest error of `a` against `truth`, relative to each variable's largest gradient.
fn error(a: &[(String, Vec<f32>)], truth: &[(String, Vec<f32>)]) -> f32 {
    assert_eq!(a.len(), truth.len());
    a.iter()
        .zip(truth)
        .map(|((na, ga), (nt, gt))| {
            assert_eq!(na, nt);
            let scale = gt.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
            ga.iter()
                .zip(gt)
                .fold(0f32, |m, (x, y)| m.max((x - y).abs()))
                / scale
        })
        .fold(0f32, f32::max)
}

#[test]
fn custom_op_gradients_are_as_accurate_as_candle_ops() {
    let text = InputSpec {
        sample_shape: vec![16],
        classes: 12,
        text: true,
    };
    let cifar = image(3, 32, 32, 10);
    for (model, input) in [
        ("lenet", &cifar),
        ("mobilenet", &cifar),
        ("vit-tiny", &cifar),
        ("char-gpt", &text),
    ] {
        let (loss64, truth) = gradients(model, input, DType::F64);
        let (loss, custom) = gradients(model, input, DType::F32);
        set_reference_ops(true);
        let (_, candle) = gradients(model, input, DType::F32);
        set_reference_ops(false);
        let (e_custom, e_candle) = (error(&custom, &truth), error(&candle, &truth));
        println!(
            "{model}: gradient error vs f64, custom ops {e_custom:.2e}, candle ops {e_candle:.2e}"
        );
        assert!(
            (loss - loss64).abs() < 1e-4 * loss64.abs().max(1.0),
            "{model}: loss"
        );
        assert!(
            e_custom <= 2.0 * e_candle + 1e-4,
            "{model}: custom ops {e_custom} vs candle ops {e_candle}"
        );
    }
}
