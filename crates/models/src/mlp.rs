//! The MLP family: linear layers with ReLU, inputs flattened from any sample shape; the named
//! sizes are in the model table (`crate::definitions`), any other is written `mlp-<w1>x<w2>…`.

use candle_core::Tensor;
use candle_nn::{Linear, VarBuilder};

use crate::complexity::linear_macs;
use crate::model::Model;

/// Parses a custom MLP's name, `mlp-<w1>x<w2>…` (e.g. `mlp-512x256`), into hidden widths. The
/// named MLPs (`mlp-small`, …) are entries of the model table (`crate::definitions`), not parsed.
pub fn parse_widths(name: &str) -> Option<Vec<usize>> {
    let rest = name.strip_prefix("mlp-")?;
    let widths: Option<Vec<usize>> = rest
        .split('x')
        .map(|w| w.parse::<usize>().ok().filter(|&v| v > 0 && v <= MAX_WIDTH))
        .collect();
    widths.filter(|w| !w.is_empty() && w.len() <= MAX_LAYERS)
}

/// Largest hidden width of a custom `mlp-<w1>x<w2>…`.
pub const MAX_WIDTH: usize = 1 << 16;
/// Most hidden layers of a custom `mlp-<w1>x<w2>…`.
pub const MAX_LAYERS: usize = 16;

/// Why a name that starts like a custom MLP (`mlp-…`) is not one, in words; `None` when it is
/// one, or does not start with `mlp-`. Meant for names the registry does not know: a named MLP
/// (`mlp-small`) is no custom MLP either.
pub fn width_problem(name: &str) -> Option<String> {
    let rest = name.strip_prefix("mlp-")?;
    if parse_widths(name).is_some() {
        return None;
    }
    let parts: Vec<&str> = rest.split('x').collect();
    if parts.len() > MAX_LAYERS {
        return Some(format!(
            "{} hidden layers, more than the {MAX_LAYERS} a custom MLP may have",
            parts.len()
        ));
    }
    for p in parts {
        match p.parse::<usize>() {
            Ok(0) => return Some("a hidden width of 0".into()),
            Ok(w) if w > MAX_WIDTH => {
                return Some(format!(
                    "hidden width {w} is above the limit of {MAX_WIDTH}"
                ))
            }
            Ok(_) => {}
            Err(_) => {
                return Some(format!(
                    "`{p}` is not a width: write mlp-<w1>x<w2>…, e.g. mlp-512x256"
                ))
            }
        }
    }
    None
}

/// A multilayer perceptron `in → hidden… → classes` with ReLU between layers.
pub struct Mlp {
    layers: Vec<Linear>,
    dims: Vec<usize>,
}

impl Mlp {
    /// Builds an MLP for flattened inputs of `input` features.
    pub fn new(
        input: usize,
        hidden: &[usize],
        classes: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
        let mut dims = vec![input];
        dims.extend_from_slice(hidden);
        dims.push(classes);
        let layers = dims
            .windows(2)
            .enumerate()
            .map(|(i, d)| candle_nn::linear(d[0], d[1], vb.pp(format!("fc{i}"))))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self { layers, dims })
    }
}

impl Model for Mlp {
    fn forward_t(&self, x: &Tensor, _train: bool) -> candle_core::Result<Tensor> {
        let mut h = x.flatten_from(1)?;
        let last = self.layers.len().saturating_sub(1);
        for (i, l) in self.layers.iter().enumerate() {
            h = crate::ops::linear::linear_act(&h, l.weight(), l.bias(), i < last)?;
        }
        Ok(h)
    }

    fn macs_per_sample(&self) -> u64 {
        self.dims
            .windows(2)
            .map(|d| linear_macs(d[0], d[1], 1))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_custom_mlp_name_says_why() {
        assert_eq!(width_problem("mlp-512x256"), None);
        assert_eq!(width_problem("resnet18"), None);
        assert!(width_problem("mlp-65537")
            .unwrap()
            .contains("above the limit of 65536"));
        assert!(width_problem("mlp-0").unwrap().contains("width of 0"));
        assert!(width_problem("mlp-ax2")
            .unwrap()
            .contains("`a` is not a width"));
        let deep = format!("mlp-{}", vec!["8"; 17].join("x"));
        assert!(width_problem(&deep).unwrap().contains("17 hidden layers"));
    }

    #[test]
    fn parses_custom_widths() {
        assert_eq!(parse_widths("mlp-64x32x16"), Some(vec![64, 32, 16]));
        assert_eq!(parse_widths("mlp-128"), Some(vec![128]));
        assert_eq!(parse_widths("mlp-"), None);
        assert_eq!(parse_widths("mlp-0x3"), None);
        assert_eq!(parse_widths("mlp-axb"), None);
        assert_eq!(parse_widths("resnet18"), None);
    }
}
