//! The zero-padded, stride-phase-split copy of a plane that the general depthwise loops read
//! (and write) one contiguous run per kernel tap.

use super::geom::Geom;

/// A zero-padded copy of one input plane, split by phase modulo the stride in both directions:
/// padded pixel `(r, q)` lies in sub-plane `(r mod s, q mod s)` at row `r / s`, column `q / s`.
/// Every kernel tap then reads a contiguous run of one sub-plane: output `(oh, ow)` of tap
/// `(i, j)` sits at `tap(i, j) + oh·wq + ow` for any stride or dilation. Outputs are computed on
/// that pitch (`wq ≥ ow`), so one run of `(oh − 1)·wq + ow` elements covers the whole plane — long
/// vectorised loops even for 2×2 maps; the extra columns are dropped (forward) or kept zero
/// (backward).
pub(super) struct Padded {
    /// Stride.
    pub(super) s: usize,
    /// Rows and columns of a sub-plane.
    pub(super) hq: usize,
    pub(super) wq: usize,
    /// Elements of one run.
    pub(super) run: usize,
}

impl Padded {
    pub(super) fn new(g: &Geom) -> Self {
        let s = g.p.stride;
        let wq = (g.w + 2 * g.p.pad).div_ceil(s);
        Self {
            s,
            hq: (g.h + 2 * g.p.pad).div_ceil(s),
            wq,
            run: (g.oh - 1) * wq + g.ow,
        }
    }
    pub(super) fn len(&self) -> usize {
        self.s * self.s * self.hq * self.wq
    }
    /// Offset of the run tap `(i, j)` reads (forward, weight gradient) or writes (input gradient).
    #[inline(always)]
    pub(super) fn tap(&self, g: &Geom, i: usize, j: usize) -> usize {
        let (id, jd, s) = (i * g.p.dilation, j * g.p.dilation, self.s);
        ((id % s) * s + jd % s) * self.hq * self.wq + (id / s) * self.wq + jd / s
    }
    /// The sub-plane row slice of padded row `r`, phase `ph`: `(offset, first image column of
    /// that phase, its index in the sub-plane row)`; `None` when the phase has no image column.
    #[inline(always)]
    fn rows(&self, g: &Geom, ih: usize) -> impl Iterator<Item = (usize, usize, usize)> {
        let (s, p, w, wq, hq) = (self.s, g.p.pad, g.w, self.wq, self.hq);
        let r = ih + p;
        (0..s).filter_map(move |ph| {
            let iw0 = (ph + s - p % s) % s;
            let off = (((r % s) * s + ph) * hq + r / s) * wq;
            (iw0 < w).then_some((off, iw0, (iw0 + p) / s))
        })
    }
    /// Copies `plane` (`[h, w]`) into `buf`, zero elsewhere.
    #[inline(always)]
    pub(super) fn fill(&self, g: &Geom, plane: &[f32], buf: &mut Vec<f32>) {
        buf.clear();
        buf.resize(self.len(), 0.0);
        for (ih, src) in plane.chunks_exact(g.w).enumerate() {
            for (off, iw0, k0) in self.rows(g, ih) {
                let dst = &mut buf[off + k0..off + self.wq];
                if self.s == 1 {
                    dst[..g.w].copy_from_slice(src);
                    continue;
                }
                for (d, &v) in dst.iter_mut().zip(src[iw0..].iter().step_by(self.s)) {
                    *d = v;
                }
            }
        }
    }
    /// Writes the image part of `buf` to `plane` (`[h, w]`): the inverse of [`Padded::fill`].
    #[inline(always)]
    pub(super) fn crop_into(&self, g: &Geom, buf: &[f32], plane: &mut [f32]) {
        for (ih, dst) in plane.chunks_exact_mut(g.w).enumerate() {
            for (off, iw0, k0) in self.rows(g, ih) {
                let src = &buf[off + k0..off + self.wq];
                if self.s == 1 {
                    dst.copy_from_slice(&src[..g.w]);
                    continue;
                }
                for (d, &v) in dst[iw0..].iter_mut().step_by(self.s).zip(src) {
                    *d = v;
                }
            }
        }
    }
    /// Copies an output plane (`[oh, ow]`) onto the pitch `wq`, zero in the extra columns.
    #[inline(always)]
    pub(super) fn spread(&self, g: &Geom, plane: &[f32], ext: &mut Vec<f32>) {
        ext.clear();
        ext.resize(self.run, 0.0);
        for (oh, row) in plane.chunks_exact(g.ow).enumerate() {
            ext[oh * self.wq..][..g.ow].copy_from_slice(row);
        }
    }
}
