//! The vendored candle-core's `Tensor::backward_releasing` (vendor/README.md), which a training
//! step uses: the same gradients as `backward`, every intermediate buffer of the graph freed by
//! the time it returns (while the loss, and so the graph, is still alive), and tensors the caller
//! still holds (or views of them) left intact.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use candle_core::{Device, Result, Tensor, Var};

/// Bytes currently allocated on the heap by this test binary.
static LIVE: AtomicUsize = AtomicUsize::new(0);

struct Counting;

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Tests of this file one at a time, so that one's allocations do not count in another's.
static SERIAL: Mutex<()> = Mutex::new(());

const LEN: usize = 1 << 20; // 4 MB of f32 per activation
const DEPTH: usize = 16;

fn input() -> Result<Var> {
    let v: Vec<f32> = (0..LEN).map(|i| (i % 997) as f32 / 997.0 - 0.5).collect();
    Var::from_tensor(&Tensor::from_vec(v, LEN, &Device::Cpu)?)
}

/// `Σ sin(sin(…sin(x)…))`, DEPTH deep (each backward rule reads its input), and the result of
/// the 8th step, when `keep`.
fn chain(x: &Var, keep: bool) -> Result<(Tensor, Option<Tensor>)> {
    let mut h = x.as_tensor().clone();
    let mut kept = None;
    for i in 0..DEPTH {
        h = (h.sin()? * 1.5)?;
        if keep && i == 8 {
            kept = Some(h.clone());
        }
    }
    Ok((h.sum_all()?, kept))
}

#[test]
fn frees_the_graphs_buffers_and_gives_the_same_gradient() -> Result<()> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let x = input()?;
    let (loss, _) = chain(&x, false)?;
    let want = loss.backward()?;
    let want = want.get(&x).expect("x has a gradient").to_vec1::<f32>()?;
    drop(loss);

    let before = LIVE.load(Ordering::Relaxed);
    let (loss, _) = chain(&x, false)?;
    let with_graph = LIVE.load(Ordering::Relaxed) - before;
    let grads = loss.backward_releasing()?;
    let after = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    // The graph holds 2·DEPTH activations of 4 MB; afterwards only x's gradient (4 MB) remains,
    // although `loss` (the graph's root) is still alive.
    assert!(with_graph >= 2 * DEPTH * 4 * LEN, "graph {with_graph} B");
    assert!(
        after <= 2 * 4 * LEN,
        "{after} B still allocated after backward_releasing (graph {with_graph} B)"
    );
    let got = grads.get(&x).expect("x has a gradient").to_vec1::<f32>()?;
    assert_eq!(got, want, "the same gradient as backward()");
    assert!(got.iter().any(|&g| g != 0.0));
    drop(loss);
    Ok(())
}

#[test]
fn keeps_what_the_caller_holds() -> Result<()> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let x = input()?;
    let (loss, kept) = chain(&x, true)?;
    let kept = kept.expect("the 8th step was kept");
    let view = kept.reshape((1024, 1024))?;
    let values = kept.to_vec1::<f32>()?;
    let total = loss.to_scalar::<f32>()?;
    let grads = loss.backward_releasing()?;
    assert!(grads.get(&x).is_some());
    assert_eq!(
        kept.to_vec1::<f32>()?,
        values,
        "a held intermediate is intact"
    );
    assert_eq!(
        view.flatten_all()?.to_vec1::<f32>()?,
        values,
        "and its view"
    );
    assert_eq!(loss.to_scalar::<f32>()?, total, "the root is intact");
    Ok(())
}
