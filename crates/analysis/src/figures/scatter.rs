//! Scatter plots with optional log axes, point labels and polylines.

use std::path::Path;

use plotters::chart::{ChartContext, SeriesAnno};
use plotters::coord::ranged1d::{
    AsRangedCoord, DefaultFormatting, KeyPointHint, Ranged, ValueFormatter,
};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use super::{
    axis_font, emit, lin_range, log_range, marker_element, short, tick_font, Ctx, FigureError,
    FigureInput, FigureOutcome, Marker, Plot, NARROW_PX,
};
use crate::AnalysisError;

/// A set of points (or a line) with a legend entry.
pub(crate) struct Series {
    /// Legend text; empty for none.
    pub label: String,
    /// Colour.
    pub color: RGBColor,
    /// Marker shape (with the colour, distinct per series so greyscale prints stay readable).
    pub marker: Marker,
    /// The (x, y) points, in the axes' units.
    pub points: Vec<(f64, f64)>,
    /// Draw as a polyline instead of markers.
    pub line: bool,
    /// Dashed-looking thin line (for references such as y = x).
    pub thin: bool,
}

impl Series {
    /// Series `index` of a figure: its palette colour and marker, drawn as markers (set `line`
    /// with struct update syntax for a polyline).
    pub(crate) fn nth(index: usize, label: String, points: Vec<(f64, f64)>) -> Series {
        Series {
            label,
            color: super::color(index),
            marker: super::marker(index),
            points,
            line: false,
            thin: false,
        }
    }
}

/// A scatter figure.
pub(crate) struct Scatter {
    /// Caption.
    pub title: String,
    /// X description with unit.
    pub x_label: String,
    /// Y description with unit.
    pub y_label: String,
    /// Logarithmic x.
    pub x_log: bool,
    /// Logarithmic y.
    pub y_log: bool,
    /// Force y to include 0 (linear only).
    pub y_zero: bool,
    /// The series drawn, in legend order.
    pub series: Vec<Series>,
    /// Text beside points.
    pub notes: Vec<(f64, f64, String)>,
    /// Legend corner.
    pub legend: SeriesLabelPosition,
    /// Tick positions on a log x axis (default 1-2-5 per decade).
    pub x_ticks: Option<Vec<f64>>,
    /// Draw the legend in a column right of the plot (for many series) instead of inside it.
    pub legend_outside: bool,
    /// Label only integer x values (epochs).
    pub x_integer: bool,
}

impl Default for Scatter {
    /// No title or series; linear axes, legend in the upper left, no notes.
    fn default() -> Self {
        Scatter {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            x_log: false,
            y_log: false,
            y_zero: false,
            series: Vec::new(),
            notes: Vec::new(),
            legend: SeriesLabelPosition::UpperLeft,
            x_ticks: None,
            legend_outside: false,
            x_integer: false,
        }
    }
}

/// A scatter figure drawn at a fixed pixel size.
struct FixedSize {
    size: (u32, u32),
    scatter: Scatter,
}

impl Plot for FixedSize {
    fn size(&self, width: Option<u32>) -> (u32, u32) {
        let Some(w) = width else {
            return self.size;
        };
        // At a paper's width a plot is nearly square (room for long axis descriptions) plus its
        // title, wrapped when wider than the plot.
        let aspect = (self.size.1 as f64 / self.size.0 as f64).max(0.8);
        let title = super::title_height(&self.scatter.title, w);
        let plot_h = (w as f64 * aspect).round() as u32 + title;
        if self.scatter.legend_outside && w < NARROW_PX {
            (w, plot_h + legend_grid_height(self.scatter.labelled(), w))
        } else {
            (w, plot_h)
        }
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), FigureError> {
        self.scatter.draw(root)
    }
}

/// Draws (or skips) a figure that is one scatter plot at `size` pixels, the result of its `prepare`.
pub(crate) fn emit_scatter(
    dir: &Path,
    input: &FigureInput,
    name: &'static str,
    title: &'static str,
    size: (u32, u32),
    scatter: Result<Scatter, FigureError>,
) -> Result<FigureOutcome, AnalysisError> {
    emit(
        dir,
        name,
        title,
        input,
        scatter.map(|scatter| FixedSize { size, scatter }),
    )
}

/// Width of a legend column.
pub(crate) const LEGEND_W: u32 = 240;

/// Height of one legend row.
const LEGEND_ROW: u32 = 26;

/// Legend columns that fit in `width` pixels.
fn legend_cols(width: u32) -> usize {
    ((width.saturating_sub(10)) / LEGEND_W).max(1) as usize
}

/// Height of a legend grid of `n` entries below a plot `width` pixels wide.
pub(crate) fn legend_grid_height(n: usize, width: u32) -> u32 {
    if n == 0 {
        return 0;
    }
    let rows = n.div_ceil(legend_cols(width)) as u32;
    rows * LEGEND_ROW + 16
}

/// Draws legend entries (line and marker, or marker only, then the label) in a grid filling
/// `area` row by row; `top` is the first row's centre.
pub(crate) fn legend_grid<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[&Series],
    top: i32,
) -> Result<(), FigureError> {
    let cols = legend_cols(area.dim_in_pixel().0);
    let font = tick_font();
    for (i, s) in series.iter().enumerate() {
        let x = 6 + (i % cols) as i32 * LEGEND_W as i32;
        let y = top + (i / cols) as i32 * LEGEND_ROW as i32;
        let c = s.color;
        if s.line {
            area.draw(&PathElement::new(
                vec![(x, y), (x + 28, y)],
                c.stroke_width(if s.thin { 1 } else { 3 }),
            ))
            .ctx()?;
        }
        if !s.thin {
            area.draw(&marker_element::<(i32, i32), DB>(
                s.marker,
                (x + 14, y),
                5,
                c,
            ))
            .ctx()?;
        }
        area.draw(&Text::new(
            super::truncate(&s.label, 26),
            (x + 36, y - 9),
            font.clone(),
        ))
        .ctx()?;
    }
    Ok(())
}

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
struct FixedTicks {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
    light: Vec<f64>,
}

impl FixedTicks {
    /// `ticks` on the axis `r`; `light` adds grid lines halfway between them.
    fn new(r: std::ops::Range<f64>, ticks: Vec<f64>, light: bool) -> Self {
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
fn linear_tick_labels(r: &std::ops::Range<f64>) -> Vec<String> {
    let (ticks, decimals) = linear_ticks(r);
    ticks.iter().map(|v| format!("{v:.decimals$}")).collect()
}

/// A log-axis tick label: two significant digits when they give the value exactly (1-2-5 ticks:
/// `0.05`, `2k`-style short numbers), else as many as it needs (batch size 128 stays `128`, not
/// `130`).
fn log_label(v: f64) -> String {
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
fn integer_points(r: &std::ops::Range<f64>) -> Vec<f64> {
    let (lo, hi) = (r.start.ceil() as i64, r.end.floor() as i64);
    let n = (hi - lo + 1).max(1);
    let step = ((n + 11) / 12).max(1);
    (lo..=hi)
        .filter(|i| (i - lo) % step == 0)
        .map(|i| i as f64)
        .collect()
}

fn log_light(r: &std::ops::Range<f64>) -> Vec<f64> {
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

impl Scatter {
    fn all(&self) -> impl Iterator<Item = &(f64, f64)> {
        self.series.iter().flat_map(|s| s.points.iter())
    }

    /// Number of series with a legend entry.
    pub(crate) fn labelled(&self) -> usize {
        self.series.iter().filter(|s| !s.label.is_empty()).count()
    }

    /// Draws on `area`, choosing log or linear axes; an outside legend goes right of the plot,
    /// or below it when the area is narrow.
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), FigureError> {
        if self.legend_outside && self.labelled() > 0 {
            let (w, h) = area.dim_in_pixel();
            if w < NARROW_PX {
                let lh = legend_grid_height(self.labelled(), w);
                let (plot, below) = area.split_vertically(h.saturating_sub(lh));
                self.draw_plot(&plot)?;
                return self.legend_below(&below);
            }
            let (plot, side) = area.split_horizontally(w.saturating_sub(LEGEND_W));
            self.side_legend(&side)?;
            return self.draw_plot(&plot);
        }
        self.draw_plot(area)
    }

    /// Draws the legend entries of the labelled series as a grid in `area` (below a plot).
    pub(crate) fn legend_below<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), FigureError> {
        let v: Vec<&Series> = self.series.iter().filter(|s| !s.label.is_empty()).collect();
        legend_grid(area, &v, 12)
    }

    /// Draws the legend entries of the labelled series as a column in `area`.
    pub(crate) fn side_legend<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), FigureError> {
        let v: Vec<&Series> = self.series.iter().filter(|s| !s.label.is_empty()).collect();
        let (w, h) = area.dim_in_pixel();
        let col = area.clone().shrink((0, 0), (LEGEND_W.min(w), h));
        legend_grid(&col, &v, 70)
    }

    /// Draws the plot alone (the legend inside it unless `legend_outside`).
    pub(crate) fn draw_plot<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), FigureError> {
        let xs = self.all().map(|p| p.0);
        let ys = self.all().map(|p| p.1);
        let xr = if self.x_log {
            log_range(xs)
        } else {
            lin_range(xs, false)
        };
        let yr = if self.y_log {
            log_range(ys)
        } else {
            lin_range(ys, self.y_zero)
        };
        let (Some(xr), Some(yr)) = (xr, yr) else {
            return Err(FigureError::NoFinitePoints);
        };
        let xk = self.x_ticks.clone().unwrap_or_else(|| log_ticks(&xr));
        let yk = log_ticks(&yr);
        let (xl, yl) = (log_light(&xr), log_light(&yr));
        // Linear axes get their own ticks, labelled with as many decimals as the step needs, so
        // neighbouring labels differ (96.5, 97.0, 97.5 rather than 97, 97, 96).
        let (mut xt, xd) = linear_ticks(&xr);
        let (yt, yd) = linear_ticks(&yr);
        let ints = integer_points(&xr);
        if self.x_integer {
            xt = ints.clone();
        }
        let n_ints = ints.len();
        let lin = |r: std::ops::Range<f64>, t: Vec<f64>, light: bool| FixedTicks::new(r, t, light);
        match (self.x_log, self.y_log) {
            (true, true) => self.draw_in(
                area,
                xr.log_scale().with_key_points(xk).with_light_points(xl),
                yr.log_scale().with_key_points(yk).with_light_points(yl),
                (xd, yd, n_ints),
            ),
            (true, false) => self.draw_in(
                area,
                xr.log_scale().with_key_points(xk).with_light_points(xl),
                lin(yr, yt, true),
                (xd, yd, n_ints),
            ),
            (false, true) => self.draw_in(
                area,
                lin(xr, xt, !self.x_integer),
                yr.log_scale().with_key_points(yk).with_light_points(yl),
                (xd, yd, n_ints),
            ),
            (false, false) => self.draw_in(
                area,
                lin(xr, xt, !self.x_integer),
                lin(yr, yt, true),
                (xd, yd, n_ints),
            ),
        }
    }

    /// Text of an x tick at `v`: whole numbers only on epoch axes, short numbers on log axes,
    /// else `decimals` decimals.
    fn x_tick_label(&self, v: f64, decimals: usize) -> String {
        if self.x_integer {
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        } else if self.x_log {
            log_label(v)
        } else {
            format!("{v:.*}", decimals)
        }
    }

    /// Text of a y tick at `v`: short numbers on a log axis, else `decimals` decimals.
    fn y_tick_label(&self, v: f64, decimals: usize) -> String {
        if self.y_log {
            log_label(v)
        } else {
            format!("{v:.*}", decimals)
        }
    }

    /// Draws the axes, their descriptions, tick labels and the light grid; `decimals` is (x
    /// decimals, y decimals, integer x points).
    fn draw_axes<DB, XT, YT>(
        &self,
        chart: &mut ChartContext<DB, Cartesian2d<XT, YT>>,
        decimals: (usize, usize, usize),
    ) -> Result<(), FigureError>
    where
        DB: DrawingBackend,
        XT: Ranged<ValueType = f64> + ValueFormatter<f64>,
        YT: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let mut mesh = chart.configure_mesh();
        if self.x_integer {
            // Epoch axes: at most one grid line per whole epoch, none between.
            mesh.x_labels(decimals.2.max(1)).x_max_light_lines(0);
        }
        mesh.x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v: &f64| self.x_tick_label(*v, decimals.0))
            .y_label_formatter(&|v: &f64| self.y_tick_label(*v, decimals.1))
            .axis_desc_style(axis_font())
            .label_style(tick_font())
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .ctx()
    }

    fn draw_in<DB, X, Y>(
        &self,
        area: &DrawingArea<DB, Shift>,
        xr: X,
        yr: Y,
        decimals: (usize, usize, usize),
    ) -> Result<(), FigureError>
    where
        DB: DrawingBackend,
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        // The title is drawn above the plot, wrapped when wider than it.
        let area = &super::titled(area, &self.title)?;
        let mut chart = ChartBuilder::on(area)
            .margin(16)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d(xr, yr)
            .ctx()?;
        self.draw_axes(&mut chart, decimals)?;
        let mut legend = false;
        for s in &self.series {
            let drawn = draw_series(&mut chart, s)?;
            if !s.label.is_empty() && !self.legend_outside {
                legend = true;
                drawn.label(s.label.as_str()).legend(legend_mark::<DB>(s));
            }
        }
        let note_style = tick_font().color(&RGBColor(60, 60, 60));
        let boxes: Vec<LabelBox> = self
            .notes
            .iter()
            .map(|(x, y, t)| {
                let (w, h) = chart
                    .plotting_area()
                    .estimate_text_size(t, &note_style)
                    .unwrap_or((7 * t.chars().count() as u32, 18));
                (chart.backend_coord(&(*x, *y)), (w as i32, h as i32))
            })
            .collect();
        let offsets = place_labels(&boxes);
        chart
            .draw_series(self.notes.iter().zip(offsets).map(|((x, y, t), off)| {
                EmptyElement::at((*x, *y)) + Text::new(t.clone(), off, note_style.clone())
            }))
            .ctx()?;
        if legend {
            super::draw_legend_box(&mut chart, self.legend.clone())?;
        }
        Ok(())
    }
}

/// A point label to place: the point's pixel position and the text's size in pixels.
type LabelBox = ((i32, i32), (i32, i32));

/// Pixel offsets (from each point) that keep point labels from overlapping one another: each
/// label goes up-right of its point if free, else to the first free place among positions further
/// above and below, in the order of the points (labels of points at the same place stack).
fn place_labels(boxes: &[LabelBox]) -> Vec<(i32, i32)> {
    let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
    let overlaps = |a: &(i32, i32, i32, i32), b: &(i32, i32, i32, i32)| {
        a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
    };
    boxes
        .iter()
        .map(|&((px, py), (w, h))| {
            let step = h + 2;
            let candidates = (0..12).map(|k| {
                let n = (k + 1) / 2;
                let dy = if k % 2 == 0 {
                    -18 - n * step
                } else {
                    -18 + n * step
                };
                (7, dy)
            });
            let mut chosen = (7, -18);
            for (dx, dy) in candidates {
                let r = (px + dx, py + dy, px + dx + w, py + dy + h);
                if !placed.iter().any(|p| overlaps(p, &r)) {
                    chosen = (dx, dy);
                    break;
                }
            }
            placed.push((
                px + chosen.0,
                py + chosen.1,
                px + chosen.0 + w,
                py + chosen.1 + h,
            ));
            chosen
        })
        .collect()
}

/// Draws `s` on `chart`: a polyline (with small markers unless thin) or markers alone.
fn draw_series<'a, 'c, DB, CT>(
    chart: &'c mut ChartContext<'a, DB, CT>,
    s: &Series,
) -> Result<&'c mut SeriesAnno<'a, DB>, FigureError>
where
    DB: DrawingBackend,
    CT: CoordTranslate<From = (f64, f64)>,
{
    if !s.line {
        return draw_markers(chart, &s.points, s.marker, 5, s.color);
    }
    let style = s.color.stroke_width(if s.thin { 1 } else { 3 });
    if !s.thin {
        draw_markers(chart, &s.points, s.marker, 4, s.color)?;
    }
    chart
        .draw_series(LineSeries::new(s.points.iter().copied(), style))
        .ctx()
}

/// Draws a filled marker of `shape`, radius `r` px, at each of `points`; one concrete element
/// type per shape, as `draw_series` needs sized elements.
fn draw_markers<'a, 'c, DB, CT>(
    chart: &'c mut ChartContext<'a, DB, CT>,
    points: &[(f64, f64)],
    shape: Marker,
    r: i32,
    c: RGBColor,
) -> Result<&'c mut SeriesAnno<'a, DB>, FigureError>
where
    DB: DrawingBackend,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let st = c.filled();
    let pts = points.iter().copied();
    let polygon = |vertices: Vec<(i32, i32)>| {
        points
            .iter()
            .copied()
            .map(move |p| EmptyElement::at(p) + Polygon::new(vertices.clone(), st))
    };
    match shape {
        Marker::Circle => {
            chart.draw_series(pts.map(|p| EmptyElement::at(p) + Circle::new((0, 0), r, st)))
        }
        Marker::Square => chart
            .draw_series(pts.map(|p| EmptyElement::at(p) + Rectangle::new([(-r, -r), (r, r)], st))),
        Marker::Triangle => chart.draw_series(polygon(vec![(0, -r - 1), (r + 1, r), (-r - 1, r)])),
        Marker::InvertedTriangle => {
            chart.draw_series(polygon(vec![(0, r + 1), (r + 1, -r), (-r - 1, -r)]))
        }
        Marker::Diamond => chart.draw_series(polygon(vec![
            (0, -r - 1),
            (r + 1, 0),
            (0, r + 1),
            (-r - 1, 0),
        ])),
        Marker::Cross => chart.draw_series(pts.map(|p| {
            EmptyElement::at(p)
                + PathElement::new(
                    vec![(-r, -r), (r, r), (0, 0), (-r, r), (r, -r)],
                    c.stroke_width(3),
                )
        })),
    }
    .ctx()
}

/// The legend sample of `s` inside a plot: a thin line for a reference line, else its marker
/// (larger for a polyline, whose colour band it stands for).
fn legend_mark<DB: DrawingBackend>(
    s: &Series,
) -> impl Fn((i32, i32)) -> DynElement<'static, DB, (i32, i32)> {
    let (line, thin, m, c) = (s.line, s.thin, s.marker, s.color);
    move |(x, y)| {
        if thin {
            PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(1)).into_dyn()
        } else if line {
            // The line's colour band with the marker's shape cut into it.
            super::marker_px(m, (x + 9, y), 6, c)
        } else {
            super::marker_px(m, (x + 9, y), 5, c)
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn point_labels_at_one_place_are_stacked_apart() {
        let same = ((100, 100), (80, 16));
        let off = place_labels(&[same, same, same, ((400, 100), (80, 16))]);
        assert_eq!(off[0], (7, -18));
        let rect = |o: (i32, i32)| (107 + o.0 - 7, 100 + o.1, 187 + o.0 - 7, 116 + o.1);
        let (a, b, c) = (rect(off[0]), rect(off[1]), rect(off[2]));
        for (p, q) in [(a, b), (a, c), (b, c)] {
            assert!(p.3 <= q.1 || q.3 <= p.1, "{p:?} overlaps {q:?}");
        }
        assert_eq!(off[3], (7, -18), "a label far away keeps its place");
    }

    use super::*;

    #[test]
    fn a_scatter_without_finite_points_is_a_typed_error() {
        let mut svg = String::new();
        let root = SVGBackend::with_string(&mut svg, (200, 100)).into_drawing_area();
        let empty = Scatter {
            series: vec![Series::nth(0, "x".into(), vec![(f64::NAN, 1.0)])],
            ..Default::default()
        };
        assert_eq!(empty.draw(&root), Err(FigureError::NoFinitePoints));
        assert_eq!(
            FigureError::NoFinitePoints.to_string(),
            "no finite points to draw"
        );
    }

    #[test]
    fn tick_labels_follow_the_axis_kind() {
        let epochs = Scatter {
            x_integer: true,
            ..Default::default()
        };
        assert_eq!(epochs.x_tick_label(3.0, 2), "3");
        assert_eq!(epochs.x_tick_label(2.5, 2), "");
        let linear = Scatter::default();
        assert_eq!(linear.x_tick_label(2.5, 2), "2.50");
        assert_eq!(linear.y_tick_label(96.5, 1), "96.5");
        let log = Scatter {
            x_log: true,
            y_log: true,
            ..Default::default()
        };
        assert_eq!(log.x_tick_label(2000.0, 2), "2000");
        assert_eq!(log.y_tick_label(0.5, 3), "0.5");
        assert_eq!(log.x_tick_label(192.0, 2), "192");
    }

    #[test]
    fn linear_ticks_get_the_decimals_their_spacing_needs() {
        // The Pareto accuracy axis that printed "97, 97, 96, 96": labels must differ.
        for r in [
            95.8..97.3,
            95.8..97.4,
            95.725..97.375,
            0.0..0.5,
            87.0..87.7,
            0.01..0.13,
        ] {
            let labels = linear_tick_labels(&r);
            assert!(labels.len() >= 2, "{r:?}: {labels:?}");
            let mut dedup = labels.clone();
            dedup.dedup();
            assert_eq!(dedup, labels, "{r:?}");
        }
        assert_eq!(
            linear_tick_labels(&(95.8..97.3)),
            ["95.8", "96.0", "96.2", "96.4", "96.6", "96.8", "97.0", "97.2"]
        );
        assert_eq!(linear_ticks(&(0.0..0.4)).1, 2); // step 0.05
        assert_eq!(linear_ticks(&(0.0..120.0)).1, 0);
        assert_eq!(linear_ticks(&(0.01..0.13)).1, 2);
        assert!(linear_ticks(&(0.0..120.0)).0.len() <= 10);
        assert_eq!(integer_points(&(0.9..3.1)), vec![1.0, 2.0, 3.0]);
        assert!(integer_points(&(0.5..100.5)).len() <= 12);
    }

    #[test]
    fn log_labels_are_exact_for_batch_sizes_and_short_for_decades() {
        assert_eq!(log_label(128.0), "128");
        assert_eq!(log_label(96.0), "96");
        assert_eq!(log_label(0.05), "0.05");
        assert_eq!(log_label(2000.0), "2000");
    }
}
