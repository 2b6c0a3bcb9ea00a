//! [`ConvCfg`], the hyper-parameters of a [`super::Conv2d`].

/// Hyper-parameters of a 2-D convolution (PyTorch defaults: stride 1, padding 0, groups 1;
/// unlike PyTorch, no bias unless [`ConvCfg::bias`] is set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvCfg {
    /// Input channels.
    pub c_in: usize,
    /// Output channels.
    pub c_out: usize,
    /// Square kernel size.
    pub k: usize,
    /// Step between output positions, in input pixels (PyTorch's `stride`, default 1).
    pub stride: usize,
    /// Zero padding on each side.
    pub pad: usize,
    /// Channel groups (`c_in` for a depthwise convolution).
    pub groups: usize,
    /// Whether the convolution has a bias.
    pub bias: bool,
}

impl ConvCfg {
    /// A `k`×`k` convolution `c_in → c_out`, stride 1, no padding, one group, no bias.
    pub fn new(c_in: usize, c_out: usize, k: usize) -> Self {
        Self {
            c_in,
            c_out,
            k,
            stride: 1,
            pad: 0,
            groups: 1,
            bias: false,
        }
    }
    /// Sets the stride.
    pub fn stride(self, stride: usize) -> Self {
        Self { stride, ..self }
    }
    /// Sets the padding.
    pub fn pad(self, pad: usize) -> Self {
        Self { pad, ..self }
    }
    /// Sets the padding to `(k - 1) / 2` ("same" for odd kernels at stride 1).
    pub fn same(self) -> Self {
        Self {
            pad: (self.k - 1) / 2,
            ..self
        }
    }
    /// Sets the number of groups.
    pub fn groups(self, groups: usize) -> Self {
        Self { groups, ..self }
    }
    /// Gives the convolution a bias.
    pub fn bias(self) -> Self {
        Self { bias: true, ..self }
    }
}
