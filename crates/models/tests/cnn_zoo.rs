//! The CNN zoo against the PyTorch reference (pytorch-cifar): exact trainable parameter counts,
//! output shapes, MACs, gradients reaching every trainable variable, the fused inference pass
//! equal to the separate ops, and LeNet overfitting.

use candle_core::{DType, Device, Tensor};
use candle_nn::{Optimizer, VarBuilder, VarMap, SGD};
use greenbench_core::Family;
use greenbench_models::{init_varmap, is_buffer};
use greenbench_models::{InputSpec, Model};

/// Per network: PyTorch's trainable parameter count (paper.md); the conv + linear MACs per
/// sample that PyTorch executes at 3×32×32 (summed by forward hooks on `nn.Conv2d`/`nn.Linear`
/// of the pytorch-cifar models, torch 2.x); and ptflops' total (`get_model_complexity_info`,
/// which also counts batch-norm, activations, pooling and biases).
const REFERENCE: &[(&str, usize, u64, u64)] = &[
    ("lenet", 62_006, 651_720, 671_050),
    ("vgg16", 14_728_266, 313_201_664, 314_834_954),
    ("resnet18", 11_173_962, 555_422_720, 557_216_778),
    ("preact-resnet18", 11_171_146, 555_422_720, 557_077_514),
    ("googlenet", 6_166_250, 1_521_756_160, 1_538_503_690),
    ("densenet121", 6_956_298, 888_350_720, 903_157_770),
    ("resnext29-2x64d", 9_128_778, 1_409_492_992, 1_419_814_922),
    ("mobilenet", 3_217_226, 46_354_432, 47_593_482),
    ("mobilenet-v2", 2_296_922, 91_154_944, 96_160_266),
    ("dpn26", 11_574_842, 665_050_880, 672_514_314),
    ("shufflenet-v2", 1_263_854, 45_002_112, 46_556_810),
    ("senet18", 11_260_354, 555_509_760, 557_609_082),
    ("efficientnet-b0", 3_599_686, 30_331_392, 31_620_102),
    ("regnetx-200mf", 2_321_946, 223_317_600, 228_010_602),
    ("simple-dla", 15_142_970, 913_495_040, 916_739_082),
    ("pnasnet-b", 451_626, 74_474_752, 79_078_666),
];

/// Networks whose batch-norm/activation/pooling work (which ptflops adds and greenbench's MAC
/// convention leaves out) is more than 3 % of ptflops' total; checked within 6 %.
const ELEMENTWISE_HEAVY: &[&str] = &[
    "mobilenet-v2",
    "shufflenet-v2",
    "efficientnet-b0",
    "pnasnet-b",
];

/// Seed of the deterministic initialisation (the trainer's `init_varmap`), so the checks are
/// reproducible: with random weights a tiny squeeze-excitation hidden layer (4 units in SENet18)
/// can be all-negative after ReLU and legitimately receive no gradient.
const SEED: u64 = 42;

/// What every CNN takes: a CIFAR-10 image.
fn cifar() -> InputSpec {
    InputSpec {
        sample_shape: vec![3, 32, 32],
        classes: 10,
        text: false,
    }
}

fn build(name: &str) -> (VarMap, Box<dyn Model>) {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    let model = match greenbench_models::build(name, &cifar(), vb) {
        Ok((_, m)) => m,
        Err(e) => panic!("building {name}: {e}"),
    };
    if let Err(e) = init_varmap(&varmap, SEED) {
        panic!("initialising {name}: {e}");
    }
    (varmap, model)
}

/// A reproducible pseudo-random tensor in [-1, 1) (xorshift).
fn input(shape: &[usize], seed: u64) -> candle_core::Result<Tensor> {
    let n: usize = shape.iter().product();
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let v: Vec<f32> = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect();
    Tensor::from_vec(v, shape, &Device::Cpu)
}

fn param_count(varmap: &VarMap) -> usize {
    greenbench_models::param_count(varmap) as usize
}

/// Builds `name`, checks parameters, output shape, MACs, and one backward pass (as training runs
/// it, freeing activations on the way: the same gradients as candle's plain backward pass).
fn check(name: &str) -> candle_core::Result<()> {
    let Some(&(_, ref_params, ref_macs, ptflops)) = REFERENCE.iter().find(|r| r.0 == name) else {
        panic!("no reference for {name}")
    };
    let (varmap, model) = build(name);
    let params = param_count(&varmap);
    let macs = model.macs_per_sample();
    let rel = (ptflops as f64 - macs as f64) / ptflops as f64;
    println!(
        "{name}: params {params} (PyTorch {ref_params}), MACs/sample {macs} (PyTorch conv+linear \
         {ref_macs}, ptflops {ptflops}, {:.1} % below)",
        rel * 100.0
    );
    assert_eq!(params, ref_params, "{name}: trainable parameters");
    assert_eq!(macs, ref_macs, "{name}: conv + linear MACs per sample");
    let tol = if ELEMENTWISE_HEAVY.contains(&name) {
        0.06
    } else {
        0.03
    };
    assert!(
        (0.0..tol).contains(&rel),
        "{name}: {macs} MACs vs ptflops {ptflops}"
    );

    let dev = Device::Cpu;
    let x = input(&[2, 3, 32, 32], 1)?;
    let y = Tensor::new(&[3u32, 7], &dev)?;
    let logits = model.forward_t(&x, true)?;
    assert_eq!(logits.dims(), &[2, 10], "{name}: train-mode logits");
    let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
    assert!(loss.to_scalar::<f32>()?.is_finite(), "{name}: loss");
    let plain = loss.backward()?;
    let grads = loss.backward_releasing()?;

    let data = varmap
        .data()
        .lock()
        .map_err(|_| candle_core::Error::Msg("poisoned".into()))?;
    let mut bad = Vec::new();
    for (var_name, var) in data.iter().filter(|(k, _)| !is_buffer(k)) {
        // Variables the reference creates but never uses (EfficientNet's first block has
        // expansion 1: pytorch-cifar builds its expansion conv and batch-norm but skips them).
        let unused = model
            .unused_variables()
            .iter()
            .any(|p| var_name.starts_with(p));
        match grads.get(var.as_tensor()) {
            None if unused => {}
            None => bad.push(format!("{var_name}: no gradient")),
            Some(g) => {
                let g = g.flatten_all()?.to_vec1::<f32>()?;
                let same = plain
                    .get(var.as_tensor())
                    .map(|p| p.flatten_all()?.to_vec1::<f32>())
                    .transpose()?;
                if same.as_ref() != Some(&g) {
                    bad.push(format!("{var_name}: gradient differs from plain backward"));
                } else if g.iter().any(|v| !v.is_finite()) {
                    bad.push(format!("{var_name}: non-finite gradient"));
                } else if g.iter().all(|v| *v == 0.0) && !unused {
                    bad.push(format!("{var_name}: zero gradient"));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{name}: {bad:?}");
    let expect_unused: &[&str] = if name == "efficientnet-b0" {
        &["layers.0.conv1.", "layers.0.bn1."]
    } else {
        &[]
    };
    assert_eq!(
        model.unused_variables(),
        expect_unused,
        "{name}: unused variables"
    );

    let eval = model.forward_t(&x, false)?;
    assert_eq!(eval.dims(), &[2, 10], "{name}: eval-mode logits");
    let eval = eval.flatten_all()?.to_vec1::<f32>()?;
    assert!(
        eval.iter().all(|v| v.is_finite()),
        "{name}: eval logits finite"
    );

    // Without gradient tracking (a sweep's inference phase) each convolution applies its
    // batch-norm (the running statistics one training step moved) and activation itself: the
    // same logits as the separate ops above.
    let fused = candle_core::op::no_grad(|| model.forward_t(&x, false))?
        .flatten_all()?
        .to_vec1::<f32>()?;
    let largest = eval.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
    let diff = eval
        .iter()
        .zip(&fused)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        diff <= 1e-4 * largest,
        "{name}: the fused eval pass differs by {diff} (largest logit {largest})"
    );
    Ok(())
}

macro_rules! zoo_tests {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() -> candle_core::Result<()> {
                check($name)
            }
        )*

        #[test]
        fn names_cover_the_reference() {
            let tested = [$($name),*];
            let cnns: Vec<String> = greenbench_models::entries()
                .into_iter()
                .filter(|e| e.family == Family::Cnn)
                .map(|e| e.name)
                .collect();
            assert_eq!(cnns.len(), REFERENCE.len());
            for (name, ..) in REFERENCE {
                assert!(cnns.iter().any(|c| c == name), "{name} is not a registered CNN");
                assert!(tested.contains(name), "{name} not tested");
            }
        }
    };
}

zoo_tests! {
    lenet => "lenet",
    vgg16 => "vgg16",
    resnet18 => "resnet18",
    preact_resnet18 => "preact-resnet18",
    googlenet => "googlenet",
    densenet121 => "densenet121",
    resnext29_2x64d => "resnext29-2x64d",
    mobilenet => "mobilenet",
    mobilenet_v2 => "mobilenet-v2",
    dpn26 => "dpn26",
    shufflenet_v2 => "shufflenet-v2",
    senet18 => "senet18",
    efficientnet_b0 => "efficientnet-b0",
    regnetx_200mf => "regnetx-200mf",
    simple_dla => "simple-dla",
    pnasnet_b => "pnasnet-b",
}

#[test]
fn unknown_name_is_an_error() {
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    assert!(greenbench_models::build("alexnet", &cifar(), vb).is_err());
}

#[test]
fn lenet_overfits_a_tiny_batch() -> candle_core::Result<()> {
    let dev = Device::Cpu;
    let (varmap, model) = build("lenet");
    let x = input(&[8, 3, 32, 32], 2)?;
    let y = Tensor::new(&[0u32, 1, 2, 3, 4, 5, 6, 7], &dev)?;
    let mut sgd = SGD::new(greenbench_models::trainable_vars(&varmap), 0.2)?;
    let loss0 =
        candle_nn::loss::cross_entropy(&model.forward_t(&x, true)?, &y)?.to_scalar::<f32>()?;
    let mut loss = loss0;
    for _ in 0..100 {
        let l = candle_nn::loss::cross_entropy(&model.forward_t(&x, true)?, &y)?;
        sgd.backward_step(&l)?;
        loss = l.to_scalar::<f32>()?;
    }
    println!("lenet overfit: loss {loss0} -> {loss}");
    assert!(loss <= 0.1 * loss0, "loss {loss0} -> {loss}");
    Ok(())
}
