//! Figures (plotters), each written as PNG and SVG with an embedded font (DejaVu Sans, see
//! `assets/DejaVuSans-LICENSE.txt`): no system font or fontconfig is needed at run time.
//!
//! Every figure module has a `write(dir, input)` that either draws the figure or says why it was
//! skipped (its data is absent, e.g. one batch size only).

mod bars;
mod batch;
mod durations;
mod epochs;
mod macs;
mod pareto;
mod power;
mod predicted;
mod scatter;
mod util;

use std::path::{Path, PathBuf};
use std::sync::Once;

use greenbench_core::record::RunRecord;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::data::EnergyBasis;
use crate::AnalysisError;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// The family name figures use; registered from the embedded font.
pub(crate) const FAMILY: &str = "sans-serif";

fn register_font() {
    REGISTER.call_once(|| {
        // The embedded font is a valid TTF; a failure here would show as missing text, not a panic.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// What the figures are drawn from.
#[derive(Debug, Clone)]
pub struct FigureInput<'a> {
    /// Ok runs.
    pub runs: Vec<&'a RunRecord>,
    /// Energy basis of every energy axis.
    pub basis: EnergyBasis,
    /// Quality label of the energies (shown on energy axes).
    pub quality: String,
    /// Held-out estimator predictions (model, predicted J, measured J), if cross-validated.
    pub cv_predictions: Vec<(String, f64, f64)>,
}

impl FigureInput<'_> {
    /// Axis label for an energy axis in Wh, naming basis and quality.
    pub fn energy_label(&self, what: &str) -> String {
        format!(
            "{what} energy, {} ({}) [Wh]",
            self.basis.name(),
            self.quality
        )
    }
}

/// The result of one figure.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureOutcome {
    /// File stem (`durations`, …).
    pub name: &'static str,
    /// What it shows.
    pub title: &'static str,
    /// Files written (PNG and SVG), empty when skipped.
    pub files: Vec<PathBuf>,
    /// Why it was skipped.
    pub skipped: Option<String>,
}

/// A drawable figure, generic over the backend so one drawing gives PNG and SVG.
pub(crate) trait Plot {
    /// Pixel size.
    fn size(&self) -> (u32, u32);
    /// Draws on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Turns any displayable error into a String (plotters errors are generic over the backend).
pub(crate) trait Ctx<T> {
    fn ctx(self) -> Result<T, String>;
}
impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self) -> Result<T, String> {
        self.map_err(|e| e.to_string())
    }
}

fn render(
    dir: &Path,
    name: &'static str,
    title: &'static str,
    plot: &impl Plot,
) -> Result<FigureOutcome, AnalysisError> {
    register_font();
    let png = dir.join(format!("{name}.png"));
    let svg = dir.join(format!("{name}.svg"));
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |message: String| AnalysisError::Figure { path, message }
    };
    {
        let root = BitMapBackend::new(&png, plot.size()).into_drawing_area();
        root.fill(&WHITE).ctx().map_err(fail(&png))?;
        plot.draw(&root).map_err(fail(&png))?;
        root.present().ctx().map_err(fail(&png))?;
    }
    {
        let root = SVGBackend::new(&svg, plot.size()).into_drawing_area();
        root.fill(&WHITE).ctx().map_err(fail(&svg))?;
        plot.draw(&root).map_err(fail(&svg))?;
        root.present().ctx().map_err(fail(&svg))?;
    }
    Ok(FigureOutcome {
        name,
        title,
        files: vec![png, svg],
        skipped: None,
    })
}

fn skipped(name: &'static str, title: &'static str, why: String) -> FigureOutcome {
    FigureOutcome {
        name,
        title,
        files: Vec::new(),
        skipped: Some(why),
    }
}

/// Draws (or skips) `plot`, the result of a figure's `prepare`.
pub(crate) fn emit<P: Plot>(
    dir: &Path,
    name: &'static str,
    title: &'static str,
    plot: Result<P, String>,
) -> Result<FigureOutcome, AnalysisError> {
    match plot {
        Ok(p) => render(dir, name, title, &p),
        Err(why) => Ok(skipped(name, title, why)),
    }
}

/// Writes every figure into `dir` (created if needed).
pub fn write_all(dir: &Path, input: &FigureInput) -> Result<Vec<FigureOutcome>, AnalysisError> {
    std::fs::create_dir_all(dir).map_err(|e| AnalysisError::io("creating", dir, e))?;
    Ok(vec![
        durations::write(dir, input)?,
        power::write(dir, input)?,
        util::write(dir, input)?,
        epochs::write(dir, input)?,
        macs::write(dir, input)?,
        batch::write(dir, input)?,
        pareto::write(dir, input)?,
        predicted::write(dir, input)?,
    ])
}

/// Tableau 10, a palette readable by most colour-vision deficiencies.
pub(crate) fn color(i: usize) -> RGBColor {
    const P: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    if let Some(&(r, g, b)) = P.get(i) {
        return RGBColor(r, g, b);
    }
    // Beyond ten series: spread hues by the golden angle, darker than the palette.
    let c = HSLColor((i as f64 * 0.618_034) % 1.0, 0.65, 0.38).to_rgba();
    RGBColor(c.0, c.1, c.2)
}

/// Caption font.
pub(crate) fn caption() -> TextStyle<'static> {
    (FAMILY, 26).into_font().into()
}

/// Axis description font.
pub(crate) fn axis_font() -> TextStyle<'static> {
    (FAMILY, 20).into_font().into()
}

/// Tick label font.
pub(crate) fn tick_font() -> TextStyle<'static> {
    (FAMILY, 16).into_font().into()
}

/// Range over positive finite values padded by a factor on a log axis; `None` if none.
pub(crate) fn log_range(v: impl Iterator<Item = f64>) -> Option<std::ops::Range<f64>> {
    let (lo, hi) = v
        .filter(|x| x.is_finite() && *x > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
    (hi > 0.0).then(|| {
        if lo == hi {
            lo / 2.0..hi * 2.0
        } else {
            lo / 1.5..hi * 1.5
        }
    })
}

/// Range over finite values padded by 5 % on a linear axis; `None` if none.
pub(crate) fn lin_range(
    v: impl Iterator<Item = f64>,
    include_zero: bool,
) -> Option<std::ops::Range<f64>> {
    let (mut lo, mut hi) = v
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
    if lo > hi {
        return None;
    }
    if include_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        hi.abs().max(1.0) * 0.5
    };
    Some(if include_zero && lo >= 0.0 {
        0.0..hi + pad
    } else {
        lo - pad..hi + pad
    })
}

/// Tick label for log axes: compact numbers.
pub(crate) fn short(v: &f64) -> String {
    let s = crate::fmt::sig(*v, 2);
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Wraps a long model name list note.
pub(crate) fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}
