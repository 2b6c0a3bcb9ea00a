//! Axis ticks: 1-2-5 per decade on log axes, round steps on linear ones, the light grid lines
//! between them, and their labels (exact for batch sizes, short for decades).

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

use super::short;

/// 1-2-5 ticks per decade inside `r` (thinned to 1 per decade over wide ranges).
pub(crate) fn log_ticks(r: &std::ops::Range<f64>) -> Vec<f64> {
    let decades = (r.end / r.start).log10();
    let mults: &[f64] = if decades > 5.0 {
        &[1.0]
    } else if decades > 2.5 {
        &[1.0, 3.0]
    } else {
        &[1.0, 2.0, 5.0]
    };
    decade_points(r, mults)
}

/// The ticks of a linear axis over `r`: the multiples of a 1-2-5 step that give at most ten
/// ticks, and the decimals their labels need to read apart (step 0.5 or 0.2 → 1, 0.05 → 2).
pub(crate) fn linear_ticks(r: &std::ops::Range<f64>) -> (Vec<f64>, usize) {
    let span = r.end - r.start;
    if !(span.is_finite() && span > 0.0) {
        return (Vec::new(), 0);
    }
    let rough = span / 9.0;
    let mag = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= rough * 0.999)
        .unwrap_or(mag * 10.0);
    let (first, last) = (
        (r.start / step).ceil() as i64,
        (r.end / step).floor() as i64,
    );
    // k · step rather than repeated addition, so 0.1 + 0.2 rounding never creeps in.
    let ticks: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
    let mut decimals = (-step.log10().floor()).max(0.0) as usize;
    // Belt and braces: widen until neighbouring labels differ.
    while decimals < 12 && !distinct(&ticks, decimals) {
        decimals += 1;
    }
    (ticks, decimals)
}

/// A linear axis whose ticks are given (from [`linear_ticks`]) instead of plotters' own, so
/// the label decimals are known to fit the step; light grid lines halfway between ticks.
pub(super) struct FixedTicks {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
    light: Vec<f64>,
}

impl FixedTicks {
    /// `ticks` on the axis `r`; `light` adds grid lines halfway between them.
    pub(super) fn new(r: std::ops::Range<f64>, ticks: Vec<f64>, light: bool) -> Self {
        let light = match ticks.as_slice() {
            [a, b, ..] if light => {
                let half = (b - a) / 2.0;
                let first = ((r.start - a) / half).ceil() as i64;
                let last = ((r.end - a) / half).floor() as i64;
                (first..=last).map(|k| a + k as f64 * half).collect()
            }
            _ => Vec::new(),
        };
        FixedTicks {
            inner: r.into(),
            ticks,
            light,
        }
    }
}

impl Ranged for FixedTicks {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

/// Whether `ticks` printed with `decimals` decimals give distinct labels.
fn distinct(ticks: &[f64], decimals: usize) -> bool {
    let labels: Vec<String> = ticks.iter().map(|v| format!("{v:.decimals$}")).collect();
    labels.windows(2).all(|w| w[0] != w[1])
}

/// The labels of [`linear_ticks`] over `r` (what a linear axis prints).
#[cfg(test)]
pub(super) fn linear_tick_labels(r: &std::ops::Range<f64>) -> Vec<String> {
    let (ticks, decimals) = linear_ticks(r);
    ticks.iter().map(|v| format!("{v:.decimals$}")).collect()
}

/// A log-axis tick label: two significant digits when they give the value exactly (1-2-5 ticks:
/// `0.05`, `2k`-style short numbers), else as many as it needs (batch size 128 stays `128`, not
/// `130`).
pub(super) fn log_label(v: f64) -> String {
    for digits in 2..=6 {
        let s = short_digits(v, digits);
        if s.parse::<f64>()
            .is_ok_and(|p| (p - v).abs() <= 1e-9 * v.abs())
        {
            return s;
        }
    }
    short(&v)
}

/// `v` with `digits` significant digits, trailing zeros of a fraction trimmed.
fn short_digits(v: f64, digits: usize) -> String {
    let s = crate::numbers::sig(v, digits);
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The integers inside `r` (epoch axes), thinned to at most 12.
pub(super) fn integer_points(r: &std::ops::Range<f64>) -> Vec<f64> {
    let (lo, hi) = (r.start.ceil() as i64, r.end.floor() as i64);
    let n = (hi - lo + 1).max(1);
    let step = ((n + 11) / 12).max(1);
    (lo..=hi)
        .filter(|i| (i - lo) % step == 0)
        .map(|i| i as f64)
        .collect()
}

pub(super) fn log_light(r: &std::ops::Range<f64>) -> Vec<f64> {
    decade_points(r, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
}

fn decade_points(r: &std::ops::Range<f64>, mults: &[f64]) -> Vec<f64> {
    if !(r.start > 0.0 && r.end > r.start) {
        return Vec::new();
    }
    let lo = r.start.log10().floor() as i32;
    let hi = r.end.log10().ceil() as i32;
    (lo..=hi)
        .flat_map(|e| mults.iter().map(move |m| m * 10f64.powi(e)))
        .filter(|v| *v >= r.start && *v <= r.end)
        .collect()
}
