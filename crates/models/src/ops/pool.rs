//! Max pooling as a custom op with its own CPU forward and backward.
//!
//! candle's `max_pool2d` backward is six full-size ops (upsample the output, compare with the
//! input, average-pool the mask, multiply, upsample, multiply) and supports only windows equal
//! to the stride; greenbench's padded and overlapping pools (GoogLeNet, PNASNet) went through a
//! gather of every window. This op takes any window, stride and padding, and its backward sends
//! each output's gradient to the first input position holding the window's maximum (PyTorch's
//! choice on ties), recomputed from the input so nothing is saved between the passes.

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu::{f32_slice, planes_per_task, read, simd};

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

    /// Index in the `h`×`w` plane of the first maximum of output `(oh, ow)`'s window.
    fn argmax(&self, plane: &[f32], (h, w): (usize, usize), oh: usize, ow: usize) -> usize {
        let (r0, c0) = (oh * self.stride, ow * self.stride);
        let (mut best, mut at) = (f32::NEG_INFINITY, usize::MAX);
        for i in r0.max(self.pad)..(r0 + self.k).min(h + self.pad) {
            let row = (i - self.pad) * w;
            for j in c0.max(self.pad)..(c0 + self.k).min(w + self.pad) {
                let v = plane[row + j - self.pad];
                if v > best || at == usize::MAX || v.is_nan() {
                    best = v;
                    at = row + j - self.pad;
                    if v.is_nan() {
                        return at;
                    }
                }
            }
        }
        at
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

/// Backward of [`forward_2x2`]: each output's gradient to its window's first maximum (the
/// first NaN if any, as PyTorch), the other three positions set to 0 (`d` must be zero
/// where no window reaches: leftover rows/columns). Branch-free: the window's maximum is
/// recomputed and compared, so random data costs no mispredictions.
#[inline(always)]
fn backward_2x2(plane: &[f32], (h, w): (usize, usize), g: &[f32], d: &mut [f32]) {
    let wo = w / 2;
    for oh in 0..h / 2 {
        let rows = 2 * oh * w..(2 * oh + 2) * w;
        let (x0, x1) = plane[rows.clone()].split_at(w);
        let (d0, d1) = d[rows].split_at_mut(w);
        let grow = &g[oh * wo..][..wo];
        for (ow, &gv) in grow.iter().enumerate() {
            let c = 2 * ow;
            let v = [x0[c], x0[c + 1], x1[c], x1[c + 1]];
            let m = max_nan(max_nan(v[0], v[1]), max_nan(v[2], v[3]));
            let hit = |x: f32| if m.is_nan() { x.is_nan() } else { x == m };
            let (e0, e1, e2) = (hit(v[0]), hit(v[1]), hit(v[2]));
            d0[c] = if e0 { gv } else { 0.0 };
            d0[c + 1] = if e1 && !e0 { gv } else { 0.0 };
            d1[c] = if e2 && !e0 && !e1 { gv } else { 0.0 };
            d1[c + 1] = if !e0 && !e1 && !e2 { gv } else { 0.0 };
        }
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
                .for_each(|(out, plane)| {
                    if self.is_2x2() {
                        simd(
                            #[inline(always)]
                            || forward_2x2(plane, (h, w), out),
                        );
                        return;
                    }
                    for oh in 0..ho {
                        for ow in 0..wo {
                            out[oh * wo + ow] = plane[self.argmax(plane, (h, w), oh, ow)];
                        }
                    }
                });
        }
        Ok((CpuStorage::F32(y), Shape::from((dims[0], dims[1], ho, wo))))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        let (_, h, w, ho, wo) = self.geometry(x.dims())?;
        let (xc, g) = (x.contiguous()?, dy.contiguous()?);
        let dx = read(&xc, OP, |xv| {
            read(&g, OP, |gv| {
                let mut dx = vec![0f32; xv.len()];
                if ho * wo > 0 {
                    dx.par_chunks_mut(h * w)
                        .zip(xv.par_chunks(h * w).zip(gv.par_chunks(ho * wo)))
                        .with_min_len(planes_per_task(h * w))
                        .for_each(|(d, (plane, gp))| {
                            if self.is_2x2() {
                                simd(
                                    #[inline(always)]
                                    || backward_2x2(plane, (h, w), gp, d),
                                );
                                return;
                            }
                            for oh in 0..ho {
                                for ow in 0..wo {
                                    d[self.argmax(plane, (h, w), oh, ow)] += gp[oh * wo + ow];
                                }
                            }
                        });
                }
                Ok(dx)
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
        for (shape, k) in [([2, 3, 8, 8], 2), ([1, 4, 9, 9], 3), ([3, 2, 6, 4], 2)] {
            let x = Var::from_tensor(&Tensor::randn(0f32, 1.0, &shape, &Device::Cpu)?)?;
            let ours = max_pool2d(&x, k, k, 0, || unreachable!())?;
            let theirs = x.max_pool2d(k)?;
            assert_matches(&ours, &theirs, &[&x], 1e-6, None, &format!("{shape:?}"))?;
        }
        Ok(())
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
            let probe = Tensor::from_slice(&probe, (1, 1, ho, wo), &Device::Cpu)?;
            let g = (y * probe)?.sum_all()?.backward()?;
            let dx = g
                .get(&x)
                .expect("gradient")
                .flatten_all()?
                .to_vec1::<f32>()?;
            assert_eq!(dx, expect_dx, "k {k} stride {stride} pad {pad}");
        }
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
            let g = y.sum_all()?.backward()?;
            let dx = g
                .get(&x)
                .expect("gradient")
                .flatten_all()?
                .to_vec1::<f32>()?;
            assert_eq!(dx[1], 1.0, "k {k} pad {pad}: {dx:?}");
        }
        Ok(())
    }
}
