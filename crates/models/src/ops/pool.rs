//! Max pooling and the global average pool as custom ops with their own CPU forward and
//! backward.
//!
//! candle's `max_pool2d` backward is six full-size ops (upsample the output, compare with the
//! input, average-pool the mask, multiply, upsample, multiply) and supports only windows equal
//! to the stride; greenbench's padded and overlapping pools (GoogLeNet, PNASNet) went through a
//! gather of every window. This op takes any window, stride and padding: the forward pass takes
//! maxima over each window's columns, then over its rows (vectorised loops, not a scan per
//! window); the backward pass sends each output's gradient to the first input position of its
//! window holding the output's value (PyTorch's choice on ties), so nothing but the op's own
//! output is kept between the passes.

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu::{f32_slice, filled, planes_per_task, read, simd, sum8, tap_outputs};

/// Names this op in error messages.
const OP: &str = "max-pool";

/// A `k`×`k` max pool with `stride` and `pad` (padding never wins).
#[derive(Clone, Copy)]
struct MaxPool {
    k: usize,
    stride: usize,
    pad: usize,
}

impl MaxPool {
    /// Output side for an input side `h`.
    fn out(&self, h: usize) -> usize {
        (h + 2 * self.pad - self.k) / self.stride + 1
    }

    /// Checks `[n, c, h, w]` against the window; returns `(planes, h, w, ho, wo)`.
    fn geometry(&self, dims: &[usize]) -> Result<(usize, usize, usize, usize, usize)> {
        let &[n, c, h, w] = dims else {
            candle_core::bail!("max pool needs [batch, channels, h, w], got {dims:?}")
        };
        if self.k == 0 || self.stride == 0 || h + 2 * self.pad < self.k || w + 2 * self.pad < self.k
        {
            candle_core::bail!(
                "max pool window {} (stride {}, pad {}) does not fit {h}×{w}",
                self.k,
                self.stride,
                self.pad
            )
        }
        Ok((n * c, h, w, self.out(h), self.out(w)))
    }

    /// The outputs `o` along one side of `size` inputs whose window includes offset `j`
    /// (input `o·stride + j − pad` inside `[0, size)`).
    fn reach(&self, j: usize, out: usize, size: usize) -> std::ops::Range<usize> {
        tap_outputs(j, (self.pad, self.stride), out, size)
    }

    /// Max pool of one `h`×`w` plane with any window into `out` (`ho`×`wo`), separably: the
    /// maxima over each window's columns for every input row (`rows`, `h`×`wo`), then over each
    /// window's rows — long loops over outputs that vectorise, instead of a scan per window.
    /// The maximum does not depend on the order, so the values are the scan's.
    #[inline(always)]
    fn forward_plane(
        &self,
        plane: &[f32],
        (h, w): (usize, usize),
        out: &mut [f32],
        rows: &mut Vec<f32>,
    ) {
        let (s, ho, wo) = (self.stride, self.out(h), self.out(w));
        rows.clear();
        rows.resize(h * wo, f32::NEG_INFINITY);
        for (row, src) in rows.chunks_exact_mut(wo).zip(plane.chunks_exact(w)) {
            for j in 0..self.k {
                let cols = self.reach(j, wo, w);
                let first = cols.start * s + j - self.pad;
                for (m, ow) in row[cols.clone()].iter_mut().zip(0..) {
                    *m = max_nan(*m, src[first + ow * s]);
                }
            }
        }
        out.fill(f32::NEG_INFINITY);
        for i in 0..self.k {
            for oh in self.reach(i, ho, h) {
                let src = &rows[(oh * s + i - self.pad) * wo..][..wo];
                for (o, &m) in out[oh * wo..][..wo].iter_mut().zip(src) {
                    *o = max_nan(*o, m);
                }
            }
        }
    }

    /// Sends each output's gradient `g` to the first position of its window (row by row) that
    /// holds the window's maximum `y` (its first NaN when the maximum is NaN), as PyTorch.
    #[inline(always)]
    fn backward_plane(
        &self,
        plane: &[f32],
        (h, w): (usize, usize),
        y: &[f32],
        g: &[f32],
        d: &mut [f32],
    ) {
        let (s, wo) = (self.stride, self.out(w));
        for ((oh, ow), (&m, &gv)) in (0..self.out(h))
            .flat_map(|oh| (0..wo).map(move |ow| (oh, ow)))
            .zip(y.iter().zip(g))
        {
            let (r0, c0) = (oh * s, ow * s);
            let cols = c0.max(self.pad) - self.pad..(c0 + self.k).min(w + self.pad) - self.pad;
            let hit = (r0.max(self.pad) - self.pad..(r0 + self.k).min(h + self.pad) - self.pad)
                .flat_map(|r| cols.clone().map(move |c| r * w + c))
                .find(|&at| plane[at] == m || (m.is_nan() && plane[at].is_nan()));
            if let Some(at) = hit {
                d[at] += gv;
            }
        }
    }
}

/// The larger of `a` and `b`, `a` on ties, NaN if either is (branch-free, so loops vectorise).
#[inline(always)]
fn max_nan(a: f32, b: f32) -> f32 {
    if b > a || b.is_nan() {
        b
    } else {
        a
    }
}

/// 2×2, stride-2, unpadded max pool of an `h`×`w` plane into `out` (the common case: LeNet,
/// VGG), one pair of input rows at a time.
#[inline(always)]
fn forward_2x2(plane: &[f32], (h, w): (usize, usize), out: &mut [f32]) {
    let wo = w / 2;
    for (oh, out_row) in out.chunks_exact_mut(wo.max(1)).take(h / 2).enumerate() {
        let r0 = &plane[2 * oh * w..][..2 * wo];
        let r1 = &plane[(2 * oh + 1) * w..][..2 * wo];
        for ((o, a), b) in out_row
            .iter_mut()
            .zip(r0.chunks_exact(2))
            .zip(r1.chunks_exact(2))
        {
            // a[0] first: NaN-propagating, first maximum kept on ties.
            *o = max_nan(max_nan(a[0], a[1]), max_nan(b[0], b[1]));
        }
    }
}

/// Outputs of a row that [`backward_2x2`] takes at a time (one AVX2 vector).
const BLOCK: usize = 8;

/// Backward of [`forward_2x2`]: each output's gradient to its window's first maximum (the
/// first NaN if any, as PyTorch), the other three positions set to 0 (`d` must be zero
/// where no window reaches: leftover rows/columns). Each row runs in blocks of [`BLOCK`]
/// outputs through [`backward_block`]; a row's last part block is copied into a padded one
/// first, so it too runs vectorised (as the scalar remainder it took LeNet's 14- and 5-wide
/// rows through one branch per input: over half of the pool's time).
#[inline(always)]
fn backward_2x2(plane: &[f32], (h, w): (usize, usize), g: &[f32], d: &mut [f32]) {
    let wo = w / 2;
    let whole = wo / BLOCK * BLOCK;
    for oh in 0..h / 2 {
        let rows = 2 * oh * w..(2 * oh + 2) * w;
        let (x0, x1) = plane[rows.clone()].split_at(w);
        let (d0, d1) = d[rows].split_at_mut(w);
        let grow = &g[oh * wo..][..wo];
        for ((((d0, d1), x0), x1), g) in d0[..2 * whole]
            .chunks_exact_mut(2 * BLOCK)
            .zip(d1[..2 * whole].chunks_exact_mut(2 * BLOCK))
            .zip(x0[..2 * whole].chunks_exact(2 * BLOCK))
            .zip(x1[..2 * whole].chunks_exact(2 * BLOCK))
            .zip(grow[..whole].chunks_exact(BLOCK))
        {
            backward_block(x0, x1, g, d0, d1);
        }
        let rest = wo - whole;
        if rest > 0 {
            let part = 2 * whole..2 * wo;
            let mut xb = [[0f32; 2 * BLOCK]; 2];
            xb[0][..2 * rest].copy_from_slice(&x0[part.clone()]);
            xb[1][..2 * rest].copy_from_slice(&x1[part.clone()]);
            let mut gb = [0f32; BLOCK];
            gb[..rest].copy_from_slice(&grow[whole..]);
            let mut db = [[0f32; 2 * BLOCK]; 2];
            let [d0b, d1b] = &mut db;
            backward_block(&xb[0], &xb[1], &gb, d0b, d1b);
            d0[part.clone()].copy_from_slice(&d0b[..2 * rest]);
            d1[part].copy_from_slice(&d1b[..2 * rest]);
        }
    }
}

/// [`backward_2x2`] for [`BLOCK`] windows side by side: `x0`, `x1` their two input rows, `g`
/// their gradients, `d0`, `d1` where the input gradients go (all of length `2·BLOCK` but `g`).
/// Branch-free: the window's maximum is recomputed and compared, so random data costs no
/// mispredictions.
#[inline(always)]
fn backward_block(x0: &[f32], x1: &[f32], g: &[f32], d0: &mut [f32], d1: &mut [f32]) {
    for ((((d0, d1), x0), x1), &gv) in d0
        .chunks_exact_mut(2)
        .zip(d1.chunks_exact_mut(2))
        .zip(x0.chunks_exact(2))
        .zip(x1.chunks_exact(2))
        .zip(&g[..BLOCK])
    {
        let m = max_nan(max_nan(x0[0], x0[1]), max_nan(x1[0], x1[1]));
        // The maximum, or the NaN when there is one: `m` is NaN exactly when an input is,
        // so `x == m | x.is_nan()` needs no branch on `m`; masks and `&`, not branches, so
        // the loop vectorises.
        let hit = |x: f32| (x == m) | x.is_nan();
        let (e0, e1, e2) = (hit(x0[0]), hit(x0[1]), hit(x1[0]));
        let pick = |on: bool| f32::from_bits(gv.to_bits() & (-(on as i32)) as u32);
        d0[0] = pick(e0);
        d0[1] = pick(e1 & !e0);
        d1[0] = pick(e2 & !e0 & !e1);
        d1[1] = pick(!e0 & !e1 & !e2);
    }
}

impl MaxPool {
    fn is_2x2(&self) -> bool {
        self.k == 2 && self.stride == 2 && self.pad == 0
    }
}

impl CustomOp1 for MaxPool {
    fn name(&self) -> &'static str {
        "greenbench-max-pool"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, OP)?;
        let dims = l.dims();
        let (planes, h, w, ho, wo) = self.geometry(dims)?;
        let mut y = vec![0f32; planes * ho * wo];
        if ho * wo > 0 {
            y.par_chunks_mut(ho * wo)
                .zip(x.par_chunks(h * w))
                .with_min_len(planes_per_task(h * w))
                .for_each_init(Vec::new, |rows, (out, plane)| {
                    simd(
                        #[inline(always)]
                        || {
                            if self.is_2x2() {
                                forward_2x2(plane, (h, w), out)
                            } else {
                                self.forward_plane(plane, (h, w), out, rows)
                            }
                        },
                    )
                });
        }
        Ok((CpuStorage::F32(y), Shape::from((dims[0], dims[1], ho, wo))))
    }

    fn bwd(&self, x: &Tensor, res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        let (_, h, w, ho, wo) = self.geometry(x.dims())?;
        let (xc, g, yc) = (x.contiguous()?, dy.contiguous()?, res.contiguous()?);
        let dx = read(&xc, OP, |xv| {
            read(&g, OP, |gv| {
                read(&yc, OP, |yv| {
                    let mut dx = vec![0f32; xv.len()];
                    if ho * wo > 0 {
                        dx.par_chunks_mut(h * w)
                            .zip(xv.par_chunks(h * w).zip(gv.par_chunks(ho * wo)))
                            .zip(yv.par_chunks(ho * wo))
                            .with_min_len(planes_per_task(h * w))
                            .for_each(|((d, (plane, gp)), yp)| {
                                if self.is_2x2() {
                                    simd(
                                        #[inline(always)]
                                        || backward_2x2(plane, (h, w), gp, d),
                                    )
                                } else {
                                    self.backward_plane(plane, (h, w), yp, gp, d)
                                }
                            });
                    }
                    Ok(dx)
                })
            })
        })?;
        Ok(Some(Tensor::from_vec(dx, x.shape(), x.device())?))
    }
}

/// `k`×`k` max pooling of `x` `[n, c, h, w]` with `stride` and `pad` (padding never wins, as in
/// PyTorch). On devices other than the CPU or dtypes other than f32, falls back to `fallback`.
pub fn max_pool2d(
    x: &Tensor,
    k: usize,
    stride: usize,
    pad: usize,
    fallback: impl FnOnce() -> Result<Tensor>,
) -> Result<Tensor> {
    if super::use_custom(x) {
        x.contiguous()?.apply_op1(MaxPool { k, stride, pad })
    } else {
        fallback()
    }
}

/// Names the global average pool in error messages.
const AVG: &str = "global-avg-pool";

/// The mean of each `[h, w]` plane: `[n, c, h, w]` → `[n, c, 1, 1]`. candle's `mean_keepdim`
/// reduces on one thread (its reductions are sequential), which left the second core idle for
/// the squeeze of every squeeze-and-excitation block; this op sums planes in parallel, 8 lanes
/// at a time, and its backward pass spreads `dy/(h·w)` over each plane.
struct GlobalAvgPool;

impl GlobalAvgPool {
    /// `(n, c, h·w)` of a 4-D input.
    fn planes(dims: &[usize]) -> Result<(usize, usize, usize)> {
        let &[n, c, h, w] = dims else {
            candle_core::bail!("{AVG} needs [batch, channels, h, w], got {dims:?}")
        };
        if h * w == 0 {
            candle_core::bail!("{AVG} of empty planes {dims:?}")
        }
        Ok((n, c, h * w))
    }
}

impl CustomOp1 for GlobalAvgPool {
    fn name(&self) -> &'static str {
        "greenbench-global-avg-pool"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let x = f32_slice(s, l, AVG)?;
        let (n, c, hw) = Self::planes(l.dims())?;
        let inv = 1.0 / hw as f32;
        let y: Vec<f32> = x
            .par_chunks(hw)
            .with_min_len(planes_per_task(hw))
            .map(|p| {
                simd(
                    #[inline(always)]
                    || sum8(p, |v| v) * inv,
                )
            })
            .collect();
        Ok((CpuStorage::F32(y), Shape::from((n, c, 1, 1))))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        let (_, _, hw) = Self::planes(x.dims())?;
        let inv = 1.0 / hw as f32;
        let g = dy.contiguous()?;
        let dx = read(&g, AVG, |gv| {
            // SAFETY: every plane is filled with its gradient.
            Ok(unsafe {
                filled(gv.len() * hw, |dx| {
                    dx.par_chunks_mut(hw)
                        .zip(gv.par_iter())
                        .with_min_len(planes_per_task(hw))
                        .for_each(|(d, &gv)| d.fill(gv * inv));
                })
            })
        })?;
        Ok(Some(Tensor::from_vec(dx, x.shape(), x.device())?))
    }
}

/// The mean over each plane of `x` `[n, c, h, w]`, as `[n, c, 1, 1]`. On devices other than
/// the CPU or dtypes other than f32, candle's `mean_keepdim`.
pub fn global_avg_pool_keepdim(x: &Tensor) -> Result<Tensor> {
    if super::use_custom(x) {
        x.contiguous()?.apply_op1(GlobalAvgPool)
    } else {
        x.mean_keepdim((2, 3))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::assert_matches;
    use super::*;
    use candle_core::{Device, Var};

    /// Non-overlapping windows: output and gradient equal candle's `max_pool2d`.
    #[test]
    fn matches_candle_max_pool() -> Result<()> {
        // Sides divisible by the window: candle's backward upsamples to the input size, which
        // misplaces gradients when a row or column is left over.
        // 2×2: rows of whole blocks of outputs, a part block alone, and both.
        for (shape, k) in [
            ([2, 3, 8, 8], 2),
            ([1, 4, 9, 9], 3),
            ([3, 2, 6, 4], 2),
            ([1, 2, 6, 32], 2),
            ([1, 2, 6, 38], 2),
            ([2, 1, 4, 22], 2),
        ] {
            let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, &shape, &Device::Cpu)?)?;
            let ours = max_pool2d(&x, k, k, 0, || unreachable!())?;
            let theirs = x.max_pool2d(k)?;
            assert_matches(&ours, &theirs, &[&x], 1e-6, None, &format!("{shape:?}"))?;
        }
        Ok(())
    }

    /// The global average pool equals candle's `mean_keepdim` in value and gradient, on odd
    /// planes, 1×1 planes and planes long enough for several 8-lane blocks.
    #[test]
    fn global_avg_pool_matches_candle_mean() -> Result<()> {
        for shape in [[2, 3, 5, 7], [3, 4, 1, 1], [2, 2, 32, 32], [1, 5, 2, 2]] {
            let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, &shape, &Device::Cpu)?)?;
            let ours = global_avg_pool_keepdim(&x)?;
            assert_eq!(ours.dims(), &[shape[0], shape[1], 1, 1]);
            let theirs = x.mean_keepdim((2, 3))?;
            assert_matches(&ours, &theirs, &[&x], 1e-5, None, &format!("{shape:?}"))?;
        }
        Ok(())
    }

    /// The gradient of `sum(y ⊙ probe)` with respect to `x`, flattened (`probe` in `y`'s shape).
    fn input_grad(x: &Var, y: Tensor, probe: &[f32]) -> Result<Vec<f32>> {
        let probe = Tensor::from_slice(probe, y.dims(), &Device::Cpu)?;
        let g = (y * probe)?.sum_all()?.backward()?;
        g.get(x).expect("gradient").flatten_all()?.to_vec1::<f32>()
    }

    /// Padded, overlapping 3×3 windows at stride 1 and 2, and the 2×2 fast path on odd sides,
    /// against a hand-rolled reference: padding never wins, each output's gradient goes to its
    /// window's first maximum, leftover rows and columns get none.
    #[test]
    fn windows_against_hand_reference() -> Result<()> {
        let (h, w) = (5, 7);
        let xs: Vec<f32> = (0..h * w).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
        for (k, stride, pad) in [(3, 1, 1), (3, 2, 1), (2, 2, 0)] {
            let x = Var::from_tensor(&Tensor::from_slice(&xs, (1, 1, h, w), &Device::Cpu)?)?;
            let y = max_pool2d(&x, k, stride, pad, || unreachable!())?;
            let (ho, wo) = (
                (h + 2 * pad - k) / stride + 1,
                (w + 2 * pad - k) / stride + 1,
            );
            assert_eq!(y.dims(), &[1, 1, ho, wo]);
            let mut expect_y = vec![0f32; ho * wo];
            let mut expect_dx = vec![0f32; h * w];
            for oh in 0..ho {
                for ow in 0..wo {
                    let mut best: Option<(f32, usize)> = None;
                    for i in 0..k {
                        for j in 0..k {
                            let r = (oh * stride + i) as isize - pad as isize;
                            let c = (ow * stride + j) as isize - pad as isize;
                            if r < 0 || c < 0 || r >= h as isize || c >= w as isize {
                                continue;
                            }
                            let at = r as usize * w + c as usize;
                            if best.is_none_or(|(b, _)| xs[at] > b) {
                                best = Some((xs[at], at));
                            }
                        }
                    }
                    let (v, at) = best.expect("window overlaps the input");
                    expect_y[oh * wo + ow] = v;
                    expect_dx[at] += (oh * wo + ow + 1) as f32;
                }
            }
            assert_eq!(y.flatten_all()?.to_vec1::<f32>()?, expect_y);
            let probe: Vec<f32> = (1..=ho * wo).map(|v| v as f32).collect();
            let dx = input_grad(&x, y, &probe)?;
            assert_eq!(dx, expect_dx, "k {k} stride {stride} pad {pad}");
        }
        Ok(())
    }

    /// The 2×2 fast path's backward: ties go to the window's first maximum in row-major order,
    /// and with NaNs to its first NaN, in every position of the window.
    #[test]
    fn ties_and_nans_go_to_the_first_in_the_2x2_path() -> Result<()> {
        let nan = f32::NAN;
        #[rustfmt::skip]
        let xs = [
            5.0, 5.0, 1.0, 7.0, 0.0, 1.0, 1.0, 2.0,
            5.0, 5.0, 2.0, 7.0, nan, nan, 3.0, nan,
        ];
        let x = Var::from_tensor(&Tensor::from_slice(&xs, (1, 1, 2, 8), &Device::Cpu)?)?;
        let y = max_pool2d(&x, 2, 2, 0, || unreachable!())?;
        let ys = y.flatten_all()?.to_vec1::<f32>()?;
        assert_eq!(ys[..2], [5.0, 7.0]);
        assert!(ys[2].is_nan() && ys[3].is_nan(), "{ys:?}");
        let dx = input_grad(&x, y, &[1.0, 2.0, 3.0, 4.0])?;
        #[rustfmt::skip]
        let expect = [
            1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0, 4.0,
        ];
        assert_eq!(dx, expect);
        Ok(())
    }

    /// A NaN in a window is the window's output and takes its gradient (PyTorch propagates it),
    /// in the 2×2 fast path and the general path.
    #[test]
    fn nan_wins_its_window() -> Result<()> {
        let xs = [1.0, f32::NAN, 3.0, 2.0, 0.5, 0.25, 9.0, 4.0];
        for (k, stride, pad) in [(2, 2, 0), (2, 2, 1)] {
            let x = Var::from_tensor(&Tensor::from_slice(&xs, (1, 1, 2, 4), &Device::Cpu)?)?;
            let y = max_pool2d(&x, k, stride, pad, || unreachable!())?;
            let ys = y.flatten_all()?.to_vec1::<f32>()?;
            assert!(ys.iter().any(|v| v.is_nan()), "{ys:?}");
            let ones = vec![1.0; y.elem_count()];
            let dx = input_grad(&x, y, &ones)?;
            assert_eq!(dx[1], 1.0, "k {k} pad {pad}: {dx:?}");
        }
        Ok(())
    }
}
