//! The convolution against candle's `conv2d` over every path, and the eval-only variants.

use super::*;
use crate::ops::epilogue::Epilogue;
use crate::ops::testing::max_rel_diff;
use crate::ops::testing::rand;
use candle_core::Var;
use candle_core::{Result, Tensor};

/// Outputs and both gradients equal candle's `conv2d` (within 1e-4, relative to the largest
/// magnitude) over dense, strided, padded, dilated, grouped, depthwise and 1×1 cases.
#[test]
fn matches_candle_conv2d_forward_and_backward() -> Result<()> {
    // (n, c, h, w, o, k, stride, pad, dilation, groups)
    let cases = [
        (2, 3, 8, 8, 4, 3, 1, 1, 1, 1),
        (3, 4, 9, 7, 6, 3, 2, 1, 1, 1),
        (2, 4, 8, 8, 4, 3, 1, 2, 2, 1),
        (2, 6, 7, 7, 4, 3, 2, 0, 1, 2),
        (2, 8, 6, 6, 8, 3, 1, 1, 1, 4),
        (2, 5, 8, 8, 5, 3, 1, 1, 1, 5),
        (2, 4, 9, 9, 8, 5, 2, 2, 1, 4),
        (2, 3, 7, 7, 3, 3, 1, 2, 2, 3),
        (4, 6, 5, 5, 7, 1, 1, 0, 1, 1),
        (3, 6, 6, 6, 4, 1, 2, 0, 1, 1),
        (1, 2, 5, 5, 3, 5, 1, 0, 1, 1),
        // Unpadded stride 1 (LeNet's layers; im2col copies whole output rows): LeNet's
        // second layer, a non-square map, rows wider than 32, grouped, and dilated (the
        // general copy).
        (4, 6, 14, 14, 16, 5, 1, 0, 1, 1),
        (3, 3, 12, 9, 4, 5, 1, 0, 1, 1),
        (2, 2, 6, 40, 3, 3, 1, 0, 1, 1),
        (2, 4, 9, 8, 6, 3, 1, 0, 1, 2),
        (2, 3, 9, 9, 4, 3, 1, 0, 2, 1),
        (40, 8, 2, 2, 4, 1, 1, 0, 1, 1),
        (37, 5, 4, 4, 6, 3, 1, 1, 1, 1),
        (8, 32, 16, 16, 32, 3, 1, 1, 1, 32),
        (8, 64, 8, 8, 64, 3, 2, 1, 1, 64),
        (8, 256, 2, 2, 128, 1, 1, 0, 1, 1),
        // 1×1 on maps of 64 positions or more: one product per sample, no column copy.
        (3, 16, 8, 8, 8, 1, 1, 0, 1, 1),
        (2, 8, 9, 11, 12, 1, 1, 0, 1, 1),
        (8, 3, 32, 32, 32, 3, 1, 1, 1, 1),
        // Stride 1 with output rows as wide as the input's (the shifted-copy im2col): 5×5
        // with padding 2 on a non-square map, and grouped.
        (2, 6, 7, 5, 4, 5, 1, 2, 1, 1),
        (2, 8, 5, 9, 8, 5, 1, 2, 1, 2),
        // Dense 3×3, stride 1, padding 1, 64+ outputs, 128+ output tiles (Winograd
        // F(2×2, 3×3)): even, odd and non-square maps, a map of 2×3 pixels, chunks of
        // several samples, and a call just under the tile threshold (im2col).
        (2, 32, 32, 32, 64, 3, 1, 1, 1, 1),
        (8, 16, 15, 17, 64, 3, 1, 1, 1, 1),
        (33, 24, 5, 6, 65, 3, 1, 1, 1, 1),
        (130, 16, 2, 3, 64, 3, 1, 1, 1, 1),
        (7, 16, 8, 8, 64, 3, 1, 1, 1, 1),
        // Grouped (ResNeXt's): Winograd group by group when each group has 16+ inputs and 64+
        // outputs (two groups; three on an odd, non-square map), im2col with 8 inputs a group.
        (8, 32, 8, 8, 128, 3, 1, 1, 1, 2),
        (7, 48, 9, 7, 192, 3, 1, 1, 1, 3),
        (8, 64, 8, 8, 64, 3, 1, 1, 1, 8),
        // Dense 3×3, stride 1, padding 1 on maps of at most 2×2 (one product per pixel pair):
        // 2×2 with many samples (its positions in parallel), one row, one column (taps no
        // pair uses), one pixel (one product on all threads), three input channels.
        (260, 16, 1, 1, 64, 3, 1, 1, 1, 1),
        (37, 24, 2, 2, 40, 3, 1, 1, 1, 1),
        (5, 8, 1, 2, 12, 3, 1, 1, 1, 1),
        (3, 12, 2, 1, 8, 3, 1, 1, 1, 1),
        (2, 3, 2, 2, 5, 3, 1, 1, 1, 1),
        // 32 outputs: Winograd from 2¹⁷ input values a sample (DenseNet's 128 channels on
        // 32×32), im2col below.
        (2, 128, 32, 32, 32, 3, 1, 1, 1, 1),
        (2, 32, 32, 32, 32, 3, 1, 1, 1, 1),
        (2, 128, 16, 16, 32, 3, 1, 1, 1, 1),
        // Depthwise: odd and non-square maps, 3×3 and 5×5 at strides 1–3, multiplier 3,
        // maps smaller than the kernel (non-square maps where candle's backward, which takes
        // its output padding from the height only, is right).
        (3, 6, 9, 7, 6, 3, 2, 1, 1, 6),
        (2, 4, 11, 11, 4, 5, 2, 2, 1, 4),
        (2, 4, 8, 7, 4, 5, 1, 2, 1, 4),
        (2, 3, 10, 9, 9, 3, 1, 1, 1, 3),
        (2, 3, 10, 10, 3, 3, 3, 0, 1, 3),
        (2, 2, 7, 9, 6, 3, 2, 0, 1, 2),
        (2, 2, 2, 2, 2, 3, 1, 1, 1, 2),
        (3, 4, 1, 1, 4, 3, 1, 1, 1, 4),
        (2, 3, 5, 7, 3, 5, 2, 2, 1, 3),
        // Grouped with several channels per group: odd sizes, stride, padding.
        (3, 16, 7, 9, 24, 3, 2, 1, 1, 4),
        (2, 12, 5, 5, 12, 3, 1, 1, 1, 6),
        (5, 16, 4, 4, 16, 3, 1, 1, 1, 2),
        // Depthwise on small maps (the triple-list path), with multiplier and stride.
        (2, 3, 4, 4, 6, 3, 1, 1, 1, 3),
        (3, 4, 4, 4, 4, 3, 2, 1, 1, 4),
        (2, 6, 2, 2, 6, 5, 1, 2, 1, 6),
        (2, 4, 3, 5, 4, 3, 1, 0, 1, 4),
    ];
    let mut paths = std::collections::BTreeMap::new();
    for (n, c, h, w, o, k, stride, pad, dilation, groups) in cases {
        let p = ConvParams {
            stride,
            pad,
            dilation,
            groups,
        };
        let path = conv_path(&[n, c, h, w], &[o, c / groups, k, k], p);
        *paths.entry(path.unwrap_or("none")).or_insert(0) += 1;
        let x = Var::from_tensor(&rand(&[n, c, h, w])?)?;
        let wt = Var::from_tensor(&rand(&[o, c / groups, k, k])?)?;
        let ours = conv2d(&x, &wt, p)?;
        let theirs = x.conv2d(&wt, pad, stride, dilation, groups)?;
        assert_eq!(ours.dims(), theirs.dims(), "{p:?}");
        assert!(max_rel_diff(&ours, &theirs)? < 1e-4, "forward {p:?}");
        let probe = rand(ours.dims())?;
        let g1 = (ours * &probe)?.sum_all()?.backward()?;
        let g2 = (theirs * &probe)?.sum_all()?.backward()?;
        for (v, what) in [(x.as_tensor(), "input"), (wt.as_tensor(), "weight")] {
            let (Some(a), Some(b)) = (g1.get(v), g2.get(v)) else {
                panic!("no {what} gradient for {p:?}")
            };
            let d = max_rel_diff(a, b)?;
            assert!(d < 1e-4, "{what} gradient {p:?}: {d}");
        }
    }
    assert_eq!(
        paths.get("winograd"),
        Some(&7),
        "the Winograd cases: {paths:?}"
    );
    assert_eq!(
        paths.get("small-map"),
        Some(&5),
        "the small-map cases: {paths:?}"
    );
    Ok(())
}

/// An input that tracks no gradient (a batch of images) gets none, and the weight's gradient
/// is the same as when the input is a variable.
#[test]
fn untracked_input_gets_no_gradient() -> Result<()> {
    let p = ConvParams {
        stride: 1,
        pad: 1,
        dilation: 1,
        groups: 1,
    };
    let (xt, w) = (
        rand(&[3, 4, 6, 6])?,
        Var::from_tensor(&rand(&[5, 4, 3, 3])?)?,
    );
    let xv = Var::from_tensor(&xt)?;
    let plain = conv2d(&xt, &w, p)?.sqr()?.sum_all()?.backward()?;
    let tracked = conv2d(&xv, &w, p)?.sqr()?.sum_all()?.backward()?;
    assert!(
        plain.get(&xt).is_none(),
        "an untracked input got a gradient"
    );
    assert!(
        tracked.get(&xv).is_some(),
        "a variable input got no gradient"
    );
    let (a, b) = (plain.get(&w), tracked.get(&w));
    let (Some(a), Some(b)) = (a, b) else {
        panic!("the weight got no gradient")
    };
    assert_eq!(max_rel_diff(a, b)?, 0.0);
    Ok(())
}

/// The scaled 1×1 convolution equals the eval convolution of the explicitly scaled input,
/// on the one-product-per-sample path (8×8 maps), the chunked path (4×4 and 2×2 maps, several
/// samples side by side) and one input channel; any other geometry or scale shape is refused.
#[test]
fn scaled_input_equals_scaling_first() -> Result<()> {
    let p = ConvParams {
        stride: 1,
        pad: 0,
        dilation: 1,
        groups: 1,
    };
    for (n, c, h, o) in [(3, 6, 8, 5), (37, 6, 4, 7), (40, 5, 2, 4), (9, 1, 2, 3)] {
        let (x, s, w) = (
            rand(&[n, c, h, h])?,
            rand(&[n, c, 1, 1])?,
            rand(&[o, c, 1, 1])?,
        );
        let (wt, b, mean) = (rand(&[o])?, rand(&[o])?, rand(&[o])?);
        let var = rand(&[o])?.abs()?;
        let v = |t: &Tensor| t.to_vec1::<f32>();
        let epi = || -> Result<Epilogue> {
            Ok(Epilogue::batch_norm(
                (&v(&wt)?, &v(&b)?),
                (&v(&mean)?, &v(&var)?),
                1e-5,
                super::super::epilogue::Act::Silu,
            ))
        };
        let ours = conv2d_eval_scaled(&x, &s, &w, p, epi()?)?;
        let theirs = conv2d_eval(&x.broadcast_mul(&s)?, &w, p, epi()?)?;
        let diff = max_rel_diff(&ours, &theirs)?;
        assert!(diff < 1e-5, "n={n} c={c} {h}×{h} o={o}: differs by {diff}");
    }
    let (x, s) = (rand(&[2, 4, 5, 5])?, rand(&[2, 4, 1, 1])?);
    let epi = |o: usize| {
        Epilogue::batch_norm(
            (&vec![1.0; o], &vec![0.0; o]),
            (&vec![0.0; o], &vec![1.0; o]),
            1e-5,
            super::super::epilogue::Act::Identity,
        )
    };
    let err = conv2d_eval_scaled(&x, &s, &rand(&[3, 4, 3, 3])?, p, epi(3)).unwrap_err();
    assert!(err.to_string().contains("only 1×1"), "{err}");
    let bad_scale = rand(&[2, 3, 1, 1])?;
    let err = conv2d_eval_scaled(&x, &bad_scale, &rand(&[3, 4, 1, 1])?, p, epi(3)).unwrap_err();
    assert!(err.to_string().contains("scale of shape"), "{err}");
    // The layers ask `takes_input_scale` before choosing this op: it agrees with the refusal.
    assert!(takes_input_scale((1, 1), p));
    assert!(!takes_input_scale((3, 3), p));
    assert!(!takes_input_scale((1, 1), ConvParams { stride: 2, ..p }));
    assert!(!takes_input_scale((1, 1), ConvParams { groups: 2, ..p }));
    Ok(())
}

#[test]
fn bad_shapes_are_errors() -> Result<()> {
    let p = ConvParams {
        stride: 1,
        pad: 0,
        dilation: 1,
        groups: 2,
    };
    assert!(conv2d(&rand(&[1, 3, 5, 5])?, &rand(&[2, 1, 3, 3])?, p).is_err());
    let p1 = ConvParams { groups: 1, ..p };
    assert!(conv2d(&rand(&[1, 3, 2, 2])?, &rand(&[2, 3, 3, 3])?, p1).is_err());
    Ok(())
}

/// The eval convolution with a batch-norm + ReLU epilogue equals the plain convolution followed
/// by the same affine map and ReLU, on the paths of dense 3×3 convolutions: one product per
/// pixel pair (2×2 and 1×1 maps), Winograd, and im2col.
#[test]
fn eval_epilogue_equals_the_convolution_then_the_affine_map() -> Result<()> {
    let p = ConvParams {
        stride: 1,
        pad: 1,
        dilation: 1,
        groups: 1,
    };
    for (n, c, h, o, path) in [
        (6, 8, 2, 5, "small-map"),
        (3, 4, 1, 6, "small-map"),
        (8, 16, 8, 64, "winograd"),
        (2, 3, 6, 4, "im2col"),
    ] {
        assert_eq!(conv_path(&[n, c, h, h], &[o, c, 3, 3], p), Some(path));
        let (x, w) = (rand(&[n, c, h, h])?, rand(&[o, c, 3, 3])?);
        let (scale, shift) = (rand(&[o])?, rand(&[o])?);
        let v = |t: &Tensor| t.to_vec1::<f32>();
        let epi = Epilogue::batch_norm(
            (&v(&scale)?, &v(&shift)?),
            (&vec![0.0; o], &vec![1.0; o]),
            0.0,
            super::super::epilogue::Act::Relu,
        );
        let ours = conv2d_eval(&x, &w, p, epi)?;
        let plain = conv2d(&x, &w, p)?;
        let theirs = plain
            .broadcast_mul(&scale.reshape((1, o, 1, 1))?)?
            .broadcast_add(&shift.reshape((1, o, 1, 1))?)?
            .relu()?;
        let diff = max_rel_diff(&ours, &theirs)?;
        assert!(
            diff < 1e-5,
            "{path} n={n} c={c} {h}×{h} o={o}: differs by {diff}"
        );
    }
    Ok(())
}
