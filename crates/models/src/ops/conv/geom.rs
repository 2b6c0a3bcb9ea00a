//! The sizes of one convolution call and the choice of algorithm they imply.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::Result;

use super::small_map::SmallMap;
use super::takes_input_scale;
use crate::ops::cpu::tap_outputs;
use crate::ops::winograd::{self, Wino};

static FAST_3X3: AtomicBool = AtomicBool::new(true);

/// Input values per sample (`c·h·w`) from which a 3×3 convolution with 32 to 63 outputs takes
/// the Winograd path: 2¹⁷, DenseNet's 128 channels on 32×32 maps, whose im2col columns take
/// 4.5 MiB a sample. Measured on an Intel Xeon (2 MiB of L2 a core): 1.4× faster forward and
/// 1.5× in training there; 32 channels on 32×32 and 128 on 16×16 stay faster on im2col.
const LARGE_INPUT: usize = 1 << 17;

/// Turns the fast paths of dense 3×3 convolutions (Winograd F(2×2, 3×3), and the per-pixel
/// products on maps of at most 2×2) on (the default) or off, process-wide, so that they can be
/// timed against im2col (`examples/conv_layers.rs`) or a result checked with its direct sums.
pub fn set_fast_3x3_paths(on: bool) {
    FAST_3X3.store(on, Ordering::Relaxed);
}

/// Stride, zero padding, dilation and groups of a convolution (the same on both axes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvParams {
    /// Step between output positions, in input pixels (1 keeps the size, 2 halves it).
    pub stride: usize,
    /// Zero padding on each side.
    pub pad: usize,
    /// Dilation of the kernel taps.
    pub dilation: usize,
    /// Channel groups.
    pub groups: usize,
}

/// All sizes of one convolution call.
#[derive(Clone, Copy, Debug)]
pub(super) struct Geom {
    pub(super) n: usize,
    pub(super) c: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) o: usize,
    pub(super) kh: usize,
    pub(super) kw: usize,
    pub(super) oh: usize,
    pub(super) ow: usize,
    pub(super) p: ConvParams,
}

impl Geom {
    pub(super) fn new(x: &[usize], w: &[usize], p: ConvParams) -> Result<Self> {
        let (&[n, c, h, wd], &[o, cg, kh, kw]) = (x, w) else {
            candle_core::bail!("conv2d expects 4-D input and weight, got {x:?} and {w:?}")
        };
        let g = p.groups;
        if g == 0 || p.stride == 0 || p.dilation == 0 || c != cg * g || o % g != 0 || kh == 0 {
            candle_core::bail!("conv2d: input {x:?}, weight {w:?} and {p:?} do not fit")
        }
        let span_h = p.dilation * (kh - 1) + 1;
        let span_w = p.dilation * (kw - 1) + 1;
        if h == 0 || wd == 0 {
            candle_core::bail!("conv2d: empty input {x:?}")
        }
        if h + 2 * p.pad < span_h || wd + 2 * p.pad < span_w {
            candle_core::bail!("conv2d: kernel larger than the padded input {x:?}")
        }
        Ok(Self {
            n,
            c,
            h,
            w: wd,
            o,
            kh,
            kw,
            oh: (h + 2 * p.pad - span_h) / p.stride + 1,
            ow: (wd + 2 * p.pad - span_w) / p.stride + 1,
            p,
        })
    }
    pub(super) fn cg(&self) -> usize {
        self.c / self.p.groups
    }
    pub(super) fn og(&self) -> usize {
        self.o / self.p.groups
    }
    /// Rows of the column matrix of one group.
    pub(super) fn k(&self) -> usize {
        self.cg() * self.kh * self.kw
    }
    pub(super) fn l(&self) -> usize {
        self.oh * self.ow
    }
    pub(super) fn hw(&self) -> usize {
        self.h * self.w
    }
    pub(super) fn depthwise(&self) -> bool {
        self.cg() == 1
    }
    /// A 1×1 convolution whose input planes serve as the columns of its product as they are,
    /// one product per sample. Only when a sample has enough positions: with fewer (MobileNet's
    /// 4×4 and 2×2 maps) the product would get a handful of rows, which `gemm`'s 16-row AVX-512
    /// kernels mostly waste, so the chunked path lays several samples side by side instead.
    pub(super) fn direct(&self) -> bool {
        let p = self.p;
        self.kh == 1
            && self.kw == 1
            && p.stride == 1
            && p.pad == 0
            && p.groups == 1
            && self.l() >= 64
    }
    /// Whether [`forward_scaled`](super::dense::forward_scaled) can scale this convolution's
    /// input planes: a 1×1 convolution with stride 1, no padding or dilation and one group.
    pub(super) fn scalable(&self) -> bool {
        takes_input_scale((self.kh, self.kw), self.p)
    }
    /// The small-map sizes when this is a dense 3×3 convolution with stride 1 and padding 1 on
    /// a map of at most 2×2 pixels (`small_map.rs`), unless [`set_fast_3x3_paths`] turned the
    /// fast paths off.
    pub(super) fn small_map(&self) -> Option<SmallMap> {
        SmallMap::of(self).filter(|_| FAST_3X3.load(Ordering::Relaxed))
    }
    /// The Winograd sizes when this is a dense 3×3 convolution with stride 1 and padding 1 on
    /// enough channels and enough 2×2 output tiles per call ([`winograd::MIN_TILES`]), on a
    /// map larger than the small-map path's, unless [`set_fast_3x3_paths`] turned the fast
    /// paths off. A network's first layer (3 input channels) stays on
    /// im2col, whose 27-row columns suit the product better. With 32 to 63 outputs (DenseNet's
    /// 32) the products are too small to pay for the transforms unless a sample's input holds
    /// at least [`LARGE_INPUT`] values: then its im2col columns (nine times as many) no longer
    /// fit a core's L2 cache and copying them costs more than the transforms. A grouped
    /// convolution (ResNeXt's) takes the path when each group alone would: the transforms work
    /// channel by channel, and the products run group by group.
    pub(super) fn winograd(&self) -> Option<Wino> {
        let p = self.p;
        let s = Wino {
            n: self.n,
            c: self.c,
            o: self.o,
            h: self.h,
            w: self.w,
            groups: p.groups,
        };
        let (cg, og) = (self.cg(), self.og());
        let fits = (self.kh, self.kw, p.stride, p.pad, p.dilation) == (3, 3, 1, 1, 1)
            && cg >= 16
            && (og >= 64 || (og >= 32 && cg * self.hw() >= LARGE_INPUT))
            && s.call_tiles() >= winograd::MIN_TILES
            && SmallMap::of(self).is_none()
            && FAST_3X3.load(Ordering::Relaxed);
        fits.then_some(s)
    }
    /// Samples per chunk: enough columns for an efficient product, a bounded column buffer.
    pub(super) fn chunk(&self) -> usize {
        let l = self.l().max(1);
        let want = 256usize.div_ceil(l);
        let cap = ((1usize << 22) / (self.k() * l).max(1)).max(1);
        want.min(cap).clamp(1, self.n.max(1))
    }
    /// The valid output columns `ow` for kernel column `j`: `iw = ow·s + j·d − pad` in `[0, w)`.
    pub(super) fn valid(&self, j: usize, out: usize, size: usize) -> (usize, usize) {
        let r = tap_outputs(j * self.p.dilation, (self.p.pad, self.p.stride), out, size);
        (r.start, r.end)
    }
}
