//! The vendored candle-core's backprop patch (vendor/README.md): the first gradient reaching a
//! tensor is stored as produced (possibly a view) instead of being added to zeros. These cases
//! exercise fan-out (several gradients summed), subtraction and negation as the first gradient,
//! views (transpose, broadcast) handed to later backward rules, and the index ops whose backward
//! needs contiguous gradients, against hand-derived values.

use candle_core::{Device, IndexOp, Result, Tensor, Var, D};

fn values(t: &Tensor) -> Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + y.abs()))
}

fn var(v: &[f32], shape: &[usize]) -> Result<Var> {
    Var::from_tensor(&Tensor::from_slice(v, shape, &Device::Cpu)?)
}

#[test]
fn fan_out_subtraction_and_views_sum_correctly() -> Result<()> {
    let xv = [1.0f32, -2.0, 3.0, 0.5, 4.0, -1.5];
    let x = var(&xv, &[2, 3])?;
    let b = var(&[0.25, -0.75, 2.0, 1.0, -3.0, 0.5], &[2, 3])?;
    // loss = Σ x² + Σ (xᵀ)ᵀ − Σ x − Σ b  ⇒  dx = 2x, db = −1 (a negation stored first).
    let loss = ((x.sqr()?.sum_all()? + x.t()?.t()?.sum_all()?)? - x.sum_all()?)?;
    let loss = (loss - b.sum_all()?)?;
    let g = loss.backward()?;
    let dx = values(g.get(&x).expect("x has a gradient"))?;
    let expect: Vec<f32> = xv.iter().map(|v| 2.0 * v).collect();
    assert!(close(&dx, &expect), "dx {dx:?} vs {expect:?}");
    let db = values(g.get(&b).expect("b has a gradient"))?;
    assert!(close(&db, &[-1.0; 6]), "db {db:?}");
    Ok(())
}

#[test]
fn transposed_and_broadcast_gradients_feed_matmul_and_reductions() -> Result<()> {
    // y = x·Wᵀ with W used through a transpose; loss = Σ_rows mean(y) broadcast back.
    let x = var(&[1.0, 2.0, 3.0, 4.0], &[2, 2])?;
    let w = var(&[0.5, -1.0, 2.0, 1.0, 0.0, -0.5], &[3, 2])?;
    // y [2, 3]; its mean over the last dim is broadcast back (a stride-0 view in the backward).
    let y = x.matmul(&w.t()?)?;
    let m = y.mean_keepdim(D::Minus1)?.broadcast_as(y.shape())?;
    let loss = (&y * &m)?.sum_all()?;
    let g = loss.backward()?;
    // Finite differences on W.
    let wv = values(w.as_tensor())?;
    let f = |wv: &[f32]| -> Result<f32> {
        let w = Tensor::from_slice(wv, (3, 2), &Device::Cpu)?;
        let y = x.as_tensor().matmul(&w.t()?)?;
        let m = y.mean_keepdim(D::Minus1)?.broadcast_as(y.shape())?;
        (&y * &m)?.sum_all()?.to_scalar::<f32>()
    };
    let dw = values(g.get(&w).expect("w has a gradient"))?;
    for i in 0..wv.len() {
        let (mut up, mut down) = (wv.clone(), wv.clone());
        up[i] += 1e-2;
        down[i] -= 1e-2;
        let fd = (f(&up)? - f(&down)?) / 2e-2;
        assert!(
            (dw[i] - fd).abs() < 1e-2 * (1.0 + fd.abs()),
            "dW[{i}] {} vs {fd}",
            dw[i]
        );
    }
    Ok(())
}

#[test]
fn index_select_and_gather_backward_accept_view_gradients() -> Result<()> {
    // An embedding lookup (index_select) and a gather, each reached by a broadcast gradient.
    let table = var(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2])?;
    let ids = Tensor::new(&[2u32, 0, 2], &Device::Cpu)?;
    let emb = table.index_select(&ids, 0)?; // [3, 2]
    let picked = emb.gather(&Tensor::new(&[[1u32], [0], [1]], &Device::Cpu)?, 1)?; // [3, 1]
    let loss = picked.sum_all()?;
    let g = loss.backward()?;
    // Row 2 is looked up twice, column 1 each time; row 0 once, column 0.
    let dt = values(g.get(&table).expect("table has a gradient"))?;
    assert!(close(&dt, &[1.0, 0.0, 0.0, 0.0, 0.0, 2.0]), "{dt:?}");
    assert_eq!(picked.i((0, 0))?.to_scalar::<f32>()?, 6.0);
    Ok(())
}

#[test]
fn max_pool_gradient_goes_whole_to_the_maximum() -> Result<()> {
    // Upstream candle 0.11 scaled it by 1/k² (the patch divides by the number of maxima).
    let x = var(
        &[
            1.0, 5.0, 2.0, 2.0, 0.0, 3.0, 7.0, 7.0, 4.0, 1.0, 0.0, 0.0, 1.0, 2.0, 0.0, 6.0,
        ],
        &[1, 1, 4, 4],
    )?;
    let g = (x.max_pool2d(2)? * 3.0)?.sum_all()?.backward()?;
    let dx = values(g.get(&x).expect("x has a gradient"))?;
    // Windows: {1,5,0,3} max 5; {2,2,7,7} two maxima 7; {4,1,1,2} max 4; {0,0,0,6} max 6.
    let expect = [
        0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 1.5, 1.5, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0,
    ];
    assert!(close(&dx, &expect), "{dx:?}");
    Ok(())
}

/// The no-grad patch: ops built inside `candle_core::op::no_grad` record no backprop op (so they
/// hold no inputs alive), those outside it do, `grad_enabled` says which, `with_grad` turns
/// tracking back on for a closure, and the setting is restored afterwards.
#[test]
fn no_grad_builds_untracked_tensors_and_restores_tracking() -> Result<()> {
    let x = var(&[1.0, 2.0, 3.0], &[3])?;
    assert!(candle_core::op::grad_enabled(), "tracking is on by default");
    let inside = candle_core::op::no_grad(|| {
        assert!(!candle_core::op::grad_enabled(), "tracking is off inside");
        let on = candle_core::op::with_grad(candle_core::op::grad_enabled);
        assert!(on, "with_grad turns it on inside no_grad");
        assert!(!candle_core::op::grad_enabled(), "and off again after");
        x.sqr()?.sum_all()
    })?;
    assert!(
        candle_core::op::grad_enabled(),
        "tracking is on again after"
    );
    let g = inside.backward()?;
    assert!(
        g.get(&x).is_none(),
        "no gradient flows through a no_grad op"
    );
    let outside = x.sqr()?.sum_all()?;
    let g = outside.backward()?;
    let dx = values(g.get(&x).expect("tracking is back after no_grad"))?;
    assert!(close(&dx, &[2.0, 4.0, 6.0]), "dx {dx:?}");
    Ok(())
}
