//! Figures (plotters), each written as PNG, SVG and vector PDF with an embedded font (DejaVu
//! Sans, see `assets/DejaVuSans-LICENSE.txt`): no system font or fontconfig is needed at run time.
//! The PDF is the SVG converted by `svg2pdf` with the same font loaded into `usvg`'s font
//! database, so its text stays text (subset-embedded TrueType, searchable).
//!
//! A requested physical width (`--figure-width 3.5in`) sets the drawing's pixel width so that the
//! smallest text (16 px: tick labels, legends) is [`MIN_TEXT_PT`] at that width, and the PDF page
//! is exactly that wide; narrow figures stack their panels and put legends below the plot.
//!
//! Every figure module has a `write(dir, input)` that either draws the figure or says why it was
//! skipped (its data is absent, e.g. one batch size only).

mod bars;
mod batch;
mod durations;
mod epochs;
mod error;
mod labels;
mod layout_check;
mod legend;
mod macs;
mod pareto;
mod power;
mod power_vs_util;
mod predicted;
mod scatter;
mod search;
mod ticks;
pub(crate) mod validation;

use std::path::{Path, PathBuf};
use std::sync::{Once, OnceLock};

use plotters::chart::ChartContext;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::context::ReportContext;
use crate::AnalysisError;

pub use error::FigureError;
pub use layout_check::{layout_problems, svg_layout, LayoutProblem, SvgLayout};

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// The family name figures use; registered from the embedded font.
pub(crate) const FAMILY: &str = "sans-serif";

/// Size in points of the smallest text (tick labels, legends) at a requested figure width.
pub const MIN_TEXT_PT: f64 = 7.2;

/// Font size of the smallest text figures draw (see [`tick_font`]).
const TICK_SIZE: u32 = 18;

/// Em size in pixels of the smallest text: plotters draws a font of size s at s / 1.24 px per em
/// (in its bitmap and SVG backends alike).
const MIN_TEXT_PX: f64 = TICK_SIZE as f64 / 1.24;

/// Below this pixel width figures stack panels and put legends under the plot.
pub(crate) const NARROW_PX: u32 = 1000;

/// The pixel width a figure is drawn at for a physical width in inches (smallest text at
/// [`MIN_TEXT_PT`]): 3.5 in → 508 px, 7 in → 1016 px.
pub fn width_px(width_in: f64) -> u32 {
    (width_in * 72.0 * MIN_TEXT_PX / MIN_TEXT_PT).round() as u32
}

/// Parses a figure width such as `3.5in`, `7in`, `88mm` or `8.9cm` into inches (1–20 in).
pub fn parse_width(s: &str) -> Result<f64, FigureError> {
    let t = s.trim();
    let (num, per_in) = if let Some(n) = t.strip_suffix("in") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix("mm") {
        (n, 25.4)
    } else if let Some(n) = t.strip_suffix("cm") {
        (n, 2.54)
    } else {
        return Err(FigureError::WidthUnit { text: s.into() });
    };
    let v: f64 = num.trim().parse().map_err(|_| FigureError::WidthNumber {
        text: s.into(),
        number: num.into(),
    })?;
    let inches = v / per_in;
    if !(1.0..=20.0).contains(&inches) {
        return Err(FigureError::WidthRange {
            text: s.into(),
            inches,
        });
    }
    Ok(inches)
}

fn register_font() {
    REGISTER.call_once(|| {
        // The embedded font is a valid TTF; a failure here would show as missing text, not a panic.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

/// What the figures are drawn from.
#[derive(Debug, Clone)]
pub struct FigureInput<'a> {
    /// The ok runs, the energy basis of every energy axis and its quality label (shown on
    /// energy axes).
    pub ctx: &'a ReportContext<'a>,
    /// Held-out estimator predictions (model, predicted J, measured J), if cross-validated.
    pub cv_predictions: Vec<(String, f64, f64)>,
    /// Physical width of every figure in inches; `None` = each figure's own screen size (PDF at
    /// 96 px per inch).
    pub width_in: Option<f64>,
    /// Why there are no cross-validated predictions, when there are none.
    pub cv_note: Option<String>,
    /// The search's course, when the sweep is a search (random or halving).
    pub search: Option<crate::search::SearchSummary>,
}

impl FigureInput<'_> {
    /// Axis label for an energy axis in Wh, naming basis and quality.
    pub fn energy_label(&self, what: &str) -> String {
        format!(
            "{what} energy, {} ({}) [Wh]",
            self.ctx.basis.name(),
            self.ctx.quality
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
    /// Files written (PNG, SVG and PDF), empty when skipped.
    pub files: Vec<PathBuf>,
    /// Why it was skipped.
    pub skipped: Option<String>,
}

/// A drawable figure, generic over the backend so one drawing gives PNG and SVG.
pub(crate) trait Plot {
    /// Pixel size: the figure's own size, or its height for the given pixel width.
    fn size(&self, width: Option<u32>) -> (u32, u32);
    /// Draws on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), FigureError>;
}

/// Turns a plotters error into [`FigureError::Draw`] (plotters errors are generic over the
/// backend, so their text is kept).
pub(crate) trait Ctx<T> {
    /// The error as [`FigureError::Draw`].
    fn ctx(self) -> Result<T, FigureError>;
}
impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn ctx(self) -> Result<T, FigureError> {
        self.map_err(|e| FigureError::Draw(e.to_string()))
    }
}

/// `usvg` options whose font database holds only the embedded font, as every family figures use.
fn svg_options() -> &'static svg2pdf::usvg::Options<'static> {
    static OPTS: OnceLock<svg2pdf::usvg::Options<'static>> = OnceLock::new();
    OPTS.get_or_init(|| {
        let mut db = svg2pdf::usvg::fontdb::Database::new();
        db.load_font_data(FONT.to_vec());
        let family = db
            .faces()
            .next()
            .and_then(|f| f.families.first().map(|(n, _)| n.clone()))
            .unwrap_or_else(|| "DejaVu Sans".into());
        db.set_sans_serif_family(family.clone());
        let mut o = svg2pdf::usvg::Options {
            font_family: family,
            ..Default::default()
        };
        o.fontdb = std::sync::Arc::new(db);
        o
    })
}

/// Converts the SVG at `svg` to a vector PDF at `pdf`, `px_per_in` pixels per inch.
fn svg_to_pdf(svg: &Path, pdf: &Path, px_per_in: f64) -> Result<(), AnalysisError> {
    let fail = |message: String| AnalysisError::Figure {
        path: pdf.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(svg).map_err(|e| AnalysisError::io("reading", svg, e))?;
    let tree = svg2pdf::usvg::Tree::from_str(&text, svg_options())
        .map_err(|e| fail(format!("parsing {}: {e}", svg.display())))?;
    let bytes = svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions {
            dpi: px_per_in as f32,
        },
    )
    .map_err(|e| fail(format!("converting {} to PDF: {e:?}", svg.display())))?;
    std::fs::write(pdf, bytes).map_err(|e| AnalysisError::io("writing", pdf, e))
}

fn render(
    dir: &Path,
    name: &'static str,
    title: &'static str,
    plot: &impl Plot,
    width_in: Option<f64>,
) -> Result<FigureOutcome, AnalysisError> {
    register_font();
    let png = dir.join(format!("{name}.png"));
    let svg = dir.join(format!("{name}.svg"));
    let pdf = dir.join(format!("{name}.pdf"));
    let size = plot.size(width_in.map(width_px));
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |e: FigureError| AnalysisError::Figure {
            path,
            message: e.to_string(),
        }
    };
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        root.fill(&WHITE).ctx().map_err(fail(&png))?;
        plot.draw(&root).map_err(fail(&png))?;
        root.present().ctx().map_err(fail(&png))?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        root.fill(&WHITE).ctx().map_err(fail(&svg))?;
        plot.draw(&root).map_err(fail(&svg))?;
        root.present().ctx().map_err(fail(&svg))?;
    }
    let px_per_in = width_in.map_or(96.0, |w| size.0 as f64 / w);
    svg_to_pdf(&svg, &pdf, px_per_in)?;
    Ok(FigureOutcome {
        name,
        title,
        files: vec![png, svg, pdf],
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

/// Draws (or skips) `plot`, the result of a figure's `prepare`, at the input's width.
pub(crate) fn emit<P: Plot>(
    dir: &Path,
    name: &'static str,
    title: &'static str,
    input: &FigureInput,
    plot: Result<P, FigureError>,
) -> Result<FigureOutcome, AnalysisError> {
    match plot {
        Ok(p) => render(dir, name, title, &p, input.width_in),
        Err(why) => Ok(skipped(name, title, why.to_string())),
    }
}

/// Writes every figure into `dir` (created if needed).
pub fn write_all(dir: &Path, input: &FigureInput) -> Result<Vec<FigureOutcome>, AnalysisError> {
    std::fs::create_dir_all(dir).map_err(|e| AnalysisError::io("creating", dir, e))?;
    Ok(vec![
        durations::write(dir, input)?,
        power::write(dir, input)?,
        power_vs_util::write(dir, input)?,
        epochs::write(dir, input)?,
        macs::write(dir, input)?,
        batch::write(dir, input)?,
        pareto::write(dir, input)?,
        predicted::write(dir, input)?,
        search::write(dir, input)?,
    ])
}

/// Okabe–Ito, the colour-blind-safe palette (black last, for references); beyond eight series the
/// colours repeat and [`marker`] and [`dash`] tell the series apart.
const OKABE_ITO: [(u8, u8, u8); 8] = [
    (0, 114, 178),   // blue
    (230, 159, 0),   // orange
    (0, 158, 115),   // bluish green
    (213, 94, 0),    // vermillion
    (86, 180, 233),  // sky blue
    (204, 121, 167), // reddish purple
    (240, 228, 66),  // yellow
    (0, 0, 0),       // black
];

/// Colour of series `i` (Okabe–Ito, cycling).
pub(crate) fn color(i: usize) -> RGBColor {
    let (r, g, b) = OKABE_ITO[i % OKABE_ITO.len()];
    RGBColor(r, g, b)
}

/// Marker shapes, so series stay distinct in greyscale: one per series within a colour cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
    InvertedTriangle,
}

/// Marker of series `i`: the shape changes with every series and again every colour cycle, so
/// (colour, marker) pairs are unique for the first 48 series.
pub(crate) fn marker(i: usize) -> Marker {
    const M: [Marker; 6] = [
        Marker::Circle,
        Marker::Square,
        Marker::Triangle,
        Marker::Diamond,
        Marker::Cross,
        Marker::InvertedTriangle,
    ];
    M[(i + i / OKABE_ITO.len()) % M.len()]
}

/// Line style of a series: beyond the palette's eight colours, lines differ in dash as well as
/// colour and marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dash {
    /// A solid line.
    Solid,
    /// Long dashes.
    Dashed,
    /// Short dots.
    Dotted,
}

/// Line style of series `i`: solid for the first colour cycle, dashed for the second, dotted for
/// the third, and so on.
pub(crate) fn dash(i: usize) -> Dash {
    [Dash::Solid, Dash::Dashed, Dash::Dotted][(i / OKABE_ITO.len()) % 3]
}

/// Pixel width of `s` drawn in `style`, measured with the embedded font (as plotters lays it
/// out), or estimated when the font cannot measure it.
pub(crate) fn measure(s: &str, style: &TextStyle) -> u32 {
    register_font();
    style
        .font
        .box_size(s)
        .map(|b| b.0)
        .unwrap_or_else(|_| text_px(s.chars().count(), style.font.get_size() as u32))
}

/// `text` broken into lines no wider than `width` pixels in `style`: at spaces, else after
/// hyphens, else (a single word wider than the line) between characters.
pub(crate) fn wrap_text(text: &str, width: u32, style: &TextStyle) -> Vec<String> {
    let fits = |s: &str| measure(s, style) <= width;
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (wi, word) in text.split(' ').enumerate() {
        // Break after a hyphen, but not inside a number such as 4.3e-6.
        let mut parts: Vec<String> = Vec::new();
        for part in word.split_inclusive('-') {
            match parts.last_mut() {
                Some(last) if part.starts_with(|c: char| c.is_ascii_digit()) => last.push_str(part),
                _ => parts.push(part.to_string()),
            }
        }
        for (pi, part) in parts.iter().enumerate() {
            let sep = if pi == 0 && wi > 0 && !cur.is_empty() {
                " "
            } else {
                ""
            };
            let candidate = format!("{cur}{sep}{part}");
            if cur.is_empty() || fits(&candidate) {
                cur = candidate;
            } else {
                lines.push(std::mem::take(&mut cur));
                cur = part.to_string();
            }
            // A part wider than a whole line is cut between characters.
            while !fits(&cur) && cur.chars().count() > 1 {
                let mut head = String::new();
                for c in cur.chars() {
                    head.push(c);
                    if !fits(&head) {
                        head.pop();
                        break;
                    }
                }
                if head.is_empty() {
                    break;
                }
                let rest = cur[head.len()..].to_string();
                lines.push(head);
                cur = rest;
            }
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// `text` cut to fit `width` pixels in `style`, ending in "…" when cut.
pub(crate) fn fit_text(text: &str, width: u32, style: &TextStyle) -> String {
    if measure(text, style) <= width {
        return text.to_string();
    }
    let mut s: String = text.to_string();
    while !s.is_empty() && measure(&format!("{s}…"), style) > width {
        s.pop();
    }
    format!("{s}…")
}

/// Draws the labelled series' legend in a framed, slightly see-through box at `position`.
pub(crate) fn draw_legend_box<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), FigureError>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(tick_font())
        .draw()
        .ctx()
}

/// A marker of shape `m` centred at `c` with half-size `r` pixels.
pub(crate) fn marker_element<'a, C: Clone + 'a, DB: DrawingBackend + 'a>(
    m: Marker,
    c: C,
    r: i32,
    color: RGBColor,
) -> DynElement<'a, DB, C> {
    let st = color.filled();
    match m {
        Marker::Circle => (EmptyElement::at(c) + Circle::new((0, 0), r, st)).into_dyn(),
        Marker::Square => (EmptyElement::at(c) + Rectangle::new([(-r, -r), (r, r)], st)).into_dyn(),
        Marker::Triangle => (EmptyElement::at(c)
            + Polygon::new(vec![(0, -r - 1), (r + 1, r), (-r - 1, r)], st))
        .into_dyn(),
        Marker::InvertedTriangle => (EmptyElement::at(c)
            + Polygon::new(vec![(0, r + 1), (r + 1, -r), (-r - 1, -r)], st))
        .into_dyn(),
        Marker::Diamond => (EmptyElement::at(c)
            + Polygon::new(vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)], st))
        .into_dyn(),
        Marker::Cross => (EmptyElement::at(c)
            + PathElement::new(vec![(-r, -r), (r, r)], color.stroke_width(3))
            + PathElement::new(vec![(-r, r), (r, -r)], color.stroke_width(3)))
        .into_dyn(),
    }
}

/// Caption font.
pub(crate) fn caption() -> TextStyle<'static> {
    (FAMILY, 26).into_font().into()
}

/// Axis description font.
pub(crate) fn axis_font() -> TextStyle<'static> {
    (FAMILY, 19).into_font().into()
}

/// Tick label font (also legends and point notes: the smallest text).
pub(crate) fn tick_font() -> TextStyle<'static> {
    (FAMILY, TICK_SIZE).into_font().into()
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
    let s = crate::numbers::sig(*v, 2);
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Estimated pixel width of `n` characters of DejaVu Sans at font size `px` (plotters' em is
/// size / 1.24; an average advance is ≈ 0.55 em, wider for capitals).
pub(crate) fn text_px(n: usize, px: u32) -> u32 {
    (n as f64 * px as f64 / 1.24 * 0.6).ceil() as u32
}

/// `text` broken at spaces into lines no wider than `width` pixels at font size `px`, measured by
/// `measure` (pixel width of a string).
fn wrap_by(text: &str, width: u32, measure: &dyn Fn(&str) -> u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let candidate = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if !cur.is_empty() && measure(&candidate) > width {
            lines.push(std::mem::replace(&mut cur, word.to_string()));
        } else {
            cur = candidate;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// `text` broken at spaces into lines of at most `width` pixels at font size `px` (estimated).
pub(crate) fn wrap(text: &str, width: u32, px: u32) -> Vec<String> {
    wrap_by(text, width, &|s| text_px(s.chars().count(), px))
}

/// Title font size.
pub(crate) const TITLE_PX: u32 = 22;

/// Line height of titles in pixels.
const TITLE_LINE: u32 = 24;

/// Height of `text` as a title wrapped to `width` pixels (estimated, before drawing).
pub(crate) fn title_height(text: &str, width: u32) -> u32 {
    wrap(text, width.saturating_sub(20), TITLE_PX).len() as u32 * TITLE_LINE + 14
}

/// Draws `text` centred at the top of `root`, wrapped to its width (measured with the embedded
/// font); returns the area below.
pub(crate) fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &str,
) -> Result<DrawingArea<DB, Shift>, FigureError> {
    let w = root.dim_in_pixel().0;
    let style: TextStyle = (FAMILY, TITLE_PX).into_font().into();
    let measure = |s: &str| {
        root.estimate_text_size(s, &style)
            .map(|(x, _)| x)
            .unwrap_or_else(|_| text_px(s.chars().count(), TITLE_PX))
    };
    let lines = wrap_by(text, w.saturating_sub(20), &measure);
    let (top, rest) = root.split_vertically(lines.len() as u32 * TITLE_LINE + 14);
    let centred = style.pos(Pos::new(HPos::Center, VPos::Top));
    for (i, line) in lines.iter().enumerate() {
        top.draw(&Text::new(
            line.clone(),
            ((w / 2) as i32, 8 + i as i32 * TITLE_LINE as i32),
            centred.clone(),
        ))
        .ctx()?;
    }
    Ok(rest)
}

#[cfg(test)]
mod tests;
