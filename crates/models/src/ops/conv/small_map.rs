//! Dense 3×3 convolutions (stride 1, padding 1, one group) on maps of at most 2×2 pixels
//! (VGG's last three layers on CIFAR-10): every input pixel `Q` lies in every output pixel
//! `P`'s window, under the kernel tap `(qy − py + 1, qx − px + 1)`, so the convolution is one
//! product per pair `(P, Q)` of that tap's weights `W_tap` (`o × c`) with the input's pixel `Q`
//! of every channel and sample (`c × n`), read where they lie through strides:
//!
//! - forward: `Y_P = Σ_Q W_tap(P,Q) · X_Q`;
//! - input gradient: `dX_Q = Σ_P W_tap(P,Q)ᵀ · dY_P`;
//! - weight gradient: `dW_t = Σ_{tap(P,Q) = t} dY_P · X_Qᵀ`.
//!
//! On a 2×2 map that is 16 multiply-adds per channel pair and sample. im2col does 36, 20 of them
//! with the padding's zeros, and Winograd F(2×2, 3×3) does 16 plus its transforms of the input,
//! weight and output. The products' results are laid out `[P][o][n]` and spread into the
//! `[n][o][h·w]` tensors afterwards (a few hundred kilobytes), so that `gemm` writes contiguous
//! rows. Positions (or taps) are spread over rayon's pool, each product on one thread; with
//! fewer of them than threads (a 1×1 map) each product runs on all threads instead.

use gemm::Parallelism;
use rayon::prelude::*;

use super::geom::Geom;
use crate::ops::cpu::{filled, matmul, parallelism, SendPtr};
use crate::ops::epilogue::Epilogue;

/// Sides up to which a map takes this path.
pub(super) const MAX_SIDE: usize = 2;

/// Taps of the 3×3 kernel.
const TAPS: usize = 9;

/// Sizes of a small-map convolution: `n` samples, `c` input and `o` output channels, an `h×w`
/// map (both at most [`MAX_SIDE`]).
#[derive(Clone, Copy, Debug)]
pub(super) struct SmallMap {
    n: usize,
    c: usize,
    o: usize,
    h: usize,
    w: usize,
}

impl SmallMap {
    /// The sizes when `g` takes this path: a dense 3×3 convolution with stride 1, padding 1 and
    /// dilation 1 on a map of at most [`MAX_SIDE`] × [`MAX_SIDE`].
    pub(super) fn of(g: &Geom) -> Option<Self> {
        let p = g.p;
        let fits = (g.kh, g.kw, p.stride, p.pad, p.dilation, p.groups) == (3, 3, 1, 1, 1, 1)
            && g.h <= MAX_SIDE
            && g.w <= MAX_SIDE;
        fits.then_some(Self {
            n: g.n,
            c: g.c,
            o: g.o,
            h: g.h,
            w: g.w,
        })
    }

    /// Pixels of the map (the same for input and output).
    fn hw(&self) -> usize {
        self.h * self.w
    }

    /// Every `(P, Q, tap)`: output pixel, input pixel, and the kernel tap that joins them.
    fn pairs(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let (h, w) = (self.h, self.w);
        (0..h * w).flat_map(move |p| {
            (0..h * w).map(move |q| {
                let (py, px, qy, qx) = (p / w, p % w, q / w, q % w);
                (p, q, (qy + 1 - py) * 3 + (qx + 1 - px))
            })
        })
    }

    /// Runs `task(i, par)` for `i` in `0..tasks`: in parallel on rayon's pool with each
    /// product on one thread when there are enough tasks for every thread, else one after
    /// another with each product on all threads.
    fn run(&self, tasks: usize, task: impl Fn(usize, Parallelism) + Sync) {
        if tasks >= rayon::current_num_threads() {
            (0..tasks)
                .into_par_iter()
                .for_each(|i| task(i, Parallelism::None));
        } else {
            (0..tasks).for_each(|i| task(i, parallelism()));
        }
    }
}

/// `out[a][b][k] = t[k][b][a]` for `t` laid out `[k][b][a]` (`k` the map's pixels or the taps,
/// `b` channels, `a` samples or input channels) into `[a][b][k]`, rows of `out` in parallel.
fn spread(t: &[f32], (a, b, k): (usize, usize, usize), out: &mut [f32]) {
    out.par_chunks_mut(b * k).enumerate().for_each(|(ai, row)| {
        for (bi, px) in row.chunks_exact_mut(k).enumerate() {
            for (ki, v) in px.iter_mut().enumerate() {
                *v = t[(ki * b + bi) * a + ai];
            }
        }
    });
}

/// The weight `[o, c, 3, 3]` laid out tap by tap, `[9][o][c]`, so that each product reads its
/// tap's `o × c` weights contiguously: read in place, 9 floats apart, every product touched
/// every cache line of the whole weight (VGG's 9 MiB ones from memory, in a model), and the
/// layers ran 30 % slower there than alone.
fn tap_major(s: &SmallMap, w: &[f32]) -> Vec<f32> {
    let oc = s.o * s.c;
    let fill = |t: &mut [f32]| {
        let dst = SendPtr(t.as_mut_ptr());
        // Blocks of kernels (9 KiB of weights, in the L1 cache while their nine runs are
        // written); a tap's run read straight from the whole weight would pull every cache
        // line of it nine times.
        w.par_chunks(TAPS * KERNELS)
            .enumerate()
            .for_each(|(bi, blk)| {
                let (k0, len) = (bi * KERNELS, blk.len() / TAPS);
                assert!(k0 + len <= oc, "kernel block outside the weight");
                for tap in 0..TAPS {
                    // SAFETY: kernels `k0 … k0 + len` of run `tap` (k0 + len ≤ oc, checked
                    // above): inside `t`, and written by this block only.
                    let run = unsafe { dst.slice(tap * oc + k0, len) };
                    for (d, &v) in run.iter_mut().zip(blk[tap..].iter().step_by(TAPS)) {
                        *d = v;
                    }
                }
            });
    };
    // SAFETY: the blocks cover the `oc` kernels and each writes its kernels' 9 taps into the
    // 9 runs, so every element is written.
    unsafe { filled(TAPS * oc, fill) }
}

/// Kernels per block of [`tap_major`].
const KERNELS: usize = 256;

/// A product's operand: its first element, row stride and column stride.
type Operand = (*const f32, usize, usize);

/// `blocks` blocks of `m × n` sums, one after another: block `b` is the sum over the pixel pairs
/// `e` with `key(e) == b` of the products `a·b` (`m × k` by `k × n`) that `operands(e)` gives, the
/// first written, the others added (zero when no pair has the key: a tap on a map of one row or
/// column). Blocks in parallel ([`SmallMap::run`]).
///
/// # Safety
/// Each operand `operands(e)` returns must address a whole `m × k` (`k × n`) matrix with its
/// strides.
unsafe fn block_sums(
    s: &SmallMap,
    blocks: usize,
    (m, n, k): (usize, usize, usize),
    key: impl Fn((usize, usize, usize)) -> usize + Sync,
    operands: impl Fn((usize, usize, usize)) -> (Operand, Operand) + Sync,
) -> Vec<f32> {
    let len = m * n;
    let fill = |t: &mut [f32]| {
        let dst = SendPtr(t.as_mut_ptr());
        s.run(blocks, |b, par| {
            let mut first = true;
            for e in s.pairs().filter(|&e| key(e) == b) {
                let (a, bm) = operands(e);
                // SAFETY: block `b` of `t` holds m × n and is this task's alone; the operands
                // are whole matrices (the caller's promise), and `t` is a buffer of its own.
                unsafe { matmul((m, n, k), dst.ptr().add(b * len), n, !first, a, bm, par) };
                first = false;
            }
            if first {
                // SAFETY: block `b` of `t`, written by this task only.
                unsafe { std::ptr::write_bytes(dst.ptr().add(b * len), 0, len) };
            }
        });
    };
    // SAFETY: each block's task writes all of its block (first product, or zeros), and the
    // blocks cover `t`.
    unsafe { filled(blocks * len, fill) }
}

/// The convolution of `x` `[n, c, h, w]` with `w` `[o, c, 3, 3]`, then `epi` on each output
/// plane when given.
pub(super) fn forward(s: &SmallMap, x: &[f32], w: &[f32], epi: Option<&Epilogue>) -> Vec<f32> {
    let (n, c, o, hw) = (s.n, s.c, s.o, s.hw());
    let w = tap_major(s, w);
    // Y_P (o × n) = Σ_Q W_tap (o × c, block `tap` of `w`) · X_Q (c × n: `x` from `q`, rows hw
    // and columns c·hw apart).
    let operands = |(_, q, tap): (usize, usize, usize)| {
        (
            (w[tap * o * c..].as_ptr(), c, 1),
            (x[q..].as_ptr(), hw, c * hw),
        )
    };
    // SAFETY: both operands lie inside `w` and `x` with those strides.
    let t = unsafe { block_sums(s, hw, (o, n, c), |e| e.0, operands) };
    // SAFETY: `spread` writes every element of `y` from `t`.
    let mut y = unsafe { filled(n * o * hw, |y| spread(&t, (n, o, hw), y)) };
    if let Some(e) = epi {
        y.par_chunks_mut(o * hw).for_each(|ys| e.samples(ys, hw));
    }
    y
}

/// The gradient with respect to the input, from `dy` `[n, o, h, w]` and the weight `w`.
pub(super) fn backward_input(s: &SmallMap, dy: &[f32], w: &[f32]) -> Vec<f32> {
    let (n, c, o, hw) = (s.n, s.c, s.o, s.hw());
    let w = tap_major(s, w);
    // dX_Q (c × n) = Σ_P W_tapᵀ (c × o, block `tap` of `w` read transposed) · dY_P (o × n:
    // `dy` from `p`, rows hw and columns o·hw apart).
    let operands = |(p, _, tap): (usize, usize, usize)| {
        (
            (w[tap * o * c..].as_ptr(), 1, c),
            (dy[p..].as_ptr(), hw, o * hw),
        )
    };
    // SAFETY: both operands lie inside `w` and `dy` with those strides.
    let t = unsafe { block_sums(s, hw, (c, n, o), |e| e.1, operands) };
    // SAFETY: `spread` writes every element of `dx` from `t`.
    unsafe { filled(n * c * hw, |dx| spread(&t, (n, c, hw), dx)) }
}

/// The gradient with respect to the weight, from `dy` `[n, o, h, w]` and the input `x`.
pub(super) fn backward_weight(s: &SmallMap, dy: &[f32], x: &[f32]) -> Vec<f32> {
    let (n, c, o, hw) = (s.n, s.c, s.o, s.hw());
    let oc = o * c;
    // dW_tap (o × c) = Σ dY_P (o × n: `dy` from `p`, rows hw and columns o·hw apart) · X_Qᵀ
    // (n × c: `x` from `q`, rows c·hw and columns hw apart) over the pairs with that tap.
    let operands = |(p, q, _): (usize, usize, usize)| {
        (
            (dy[p..].as_ptr(), hw, o * hw),
            (x[q..].as_ptr(), c * hw, hw),
        )
    };
    // SAFETY: both operands lie inside `dy` and `x` with those strides.
    let t = unsafe { block_sums(s, TAPS, (o, c, n), |e| e.2, operands) };
    let fill = |dw: &mut [f32]| {
        // Blocks of kernels, as in `tap_major`, the other way round.
        dw.par_chunks_mut(TAPS * KERNELS)
            .enumerate()
            .for_each(|(bi, blk)| {
                let k0 = bi * KERNELS;
                for (tap, run) in t.chunks_exact(oc).enumerate() {
                    let run = &run[k0..][..blk.len() / TAPS];
                    for (d, &v) in blk[tap..].iter_mut().step_by(TAPS).zip(run) {
                        *d = v;
                    }
                }
            });
    };
    // SAFETY: each block writes all 9 taps of its kernels, and the blocks cover `dw`.
    unsafe { filled(TAPS * oc, fill) }
}
