//! Scatter plots with optional log axes, point labels and polylines.

use std::path::Path;

use plotters::chart::{ChartContext, SeriesAnno};
use plotters::coord::ranged1d::{
    AsRangedCoord, DefaultFormatting, KeyPointHint, Ranged, ValueFormatter,
};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{self, draw_legend, legend_height};
use super::{
    axis_font, emit, labels, lin_range, log_range, short, tick_font, Ctx, Dash, FigureError,
    FigureInput, FigureOutcome, Marker, Plot,
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
    /// Line style of a polyline (with colour and marker, distinct beyond eight series).
    pub dash: Dash,
    /// The (x, y) points, in the axes' units.
    pub points: Vec<(f64, f64)>,
    /// Per point, its x interval (95 % over repeats), when it has one; empty for none.
    pub x_err: Vec<Option<(f64, f64)>>,
    /// Per point, its y interval (95 % over repeats): error bars on markers, a band along a
    /// polyline; empty for none.
    pub y_err: Vec<Option<(f64, f64)>>,
    /// Draw as a polyline instead of markers.
    pub line: bool,
    /// Dashed-looking thin line (for references such as y = x).
    pub thin: bool,
}

impl Series {
    /// Series `index` of a figure: its palette colour, marker and line style, drawn as markers
    /// (set `line` with struct update syntax for a polyline).
    pub(crate) fn nth(index: usize, label: String, points: Vec<(f64, f64)>) -> Series {
        Series {
            label,
            color: super::color(index),
            marker: super::marker(index),
            dash: super::dash(index),
            points,
            x_err: Vec::new(),
            y_err: Vec::new(),
            line: false,
            thin: false,
        }
    }

    /// The grey thin y = x reference line from (lo, lo) to (hi, hi), for predicted-vs-measured
    /// figures.
    pub(crate) fn identity(lo: f64, hi: f64) -> Series {
        Series {
            color: RGBColor(120, 120, 120),
            line: true,
            thin: true,
            ..Series::nth(0, "y = x".into(), vec![(lo, lo), (hi, hi)])
        }
    }

    /// Every x and y the series draws: its points and the ends of their intervals.
    fn extents(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let ends = |e: &Vec<Option<(f64, f64)>>, i: usize| e.get(i).copied().flatten();
        self.points
            .iter()
            .enumerate()
            .flat_map(move |(i, &(x, y))| {
                let (xl, xh) = ends(&self.x_err, i).unwrap_or((x, x));
                let (yl, yh) = ends(&self.y_err, i).unwrap_or((y, y));
                [(x, y), (xl, yl), (xh, yh)]
            })
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
    /// Text beside points, placed where it covers nothing (left out, and listed under the plot,
    /// where there is no such place).
    pub notes: Vec<(f64, f64, String)>,
    /// Tick positions on a log x axis (default 1-2-5 per decade).
    pub x_ticks: Option<Vec<f64>>,
    /// Label only integer x values (epochs).
    pub x_integer: bool,
}

impl Default for Scatter {
    /// No title or series; linear axes, no notes.
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
            x_ticks: None,
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
        // At its own screen size the legend takes its room from the plot; at a paper's width a
        // plot is nearly square (room for long axis descriptions) plus its title, wrapped when
        // wider than the plot, and the legend goes below it.
        let Some(w) = width else {
            return self.size;
        };
        let aspect = (self.size.1 as f64 / self.size.0 as f64).max(0.8);
        let title = super::title_height(&self.scatter.title, w);
        let h = (w as f64 * aspect).round() as u32 + title;
        let entries = self.scatter.legend_entries();
        if entries.is_empty() || legend_side(&entries, w, h) {
            (w, h)
        } else {
            (w, h + legend_height(&entries, w))
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

/// Width of a legend column right of the plot.
pub(crate) const SIDE_W: u32 = 300;

/// From this width a legend that fits beside the plot goes there rather than below it.
const SIDE_MIN_PX: u32 = 1200;

/// Whether the legend of `entries` goes right of a plot `w` × `h` pixels (wide figures whose
/// legend column fits their height) rather than below it.
pub(crate) fn legend_side(entries: &[&Series], w: u32, h: u32) -> bool {
    w >= SIDE_MIN_PX && legend_height(entries, SIDE_W) + 60 <= h
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

/// Height of one line of an axis description or caption.
const DESC_LINE: u32 = 22;

/// Space the y tick labels take left of the plot.
const Y_TICKS_PX: u32 = 64;

/// Space the x tick labels take below the plot.
const X_TICKS_PX: u32 = 34;

/// The axis ranges a scatter is drawn over (for clipping intervals to the axes).
type Ranges = (std::ops::Range<f64>, std::ops::Range<f64>);

impl Scatter {
    fn extents(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.series.iter().flat_map(|s| s.extents())
    }

    /// The series with a legend entry, in order.
    pub(crate) fn legend_entries(&self) -> Vec<&Series> {
        self.series.iter().filter(|s| !s.label.is_empty()).collect()
    }

    /// Draws on `area`: the plot, and its legend below it (or right of it on a wide figure).
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), FigureError> {
        let entries = self.legend_entries();
        if entries.is_empty() {
            return self.draw_plot(area);
        }
        let (w, h) = area.dim_in_pixel();
        if legend_side(&entries, w, h) {
            let (plot, side) = area.split_horizontally(w.saturating_sub(SIDE_W));
            self.draw_plot(&plot)?;
            let side = side.margin(60, 0, 0, 0);
            return draw_legend(&side, &entries);
        }
        let lh = legend_height(&entries, w);
        let (plot, below) = area.split_vertically(h.saturating_sub(lh));
        self.draw_plot(&plot)?;
        draw_legend(&below, &entries)
    }

    /// Draws the title and the plot alone (no legend).
    pub(crate) fn draw_plot<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), FigureError> {
        let area = &super::titled(area, &self.title)?;
        let xs = self.extents().map(|p| p.0);
        let ys = self.extents().map(|p| p.1);
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
        let dec = (xd, yd, n_ints);
        let ranges = (xr.clone(), yr.clone());
        let lin = |r: &std::ops::Range<f64>, t: &Vec<f64>, light: bool| {
            FixedTicks::new(r.clone(), t.clone(), light)
        };
        let logx = || {
            xr.clone()
                .log_scale()
                .with_key_points(xk.clone())
                .with_light_points(xl.clone())
        };
        let logy = || {
            yr.clone()
                .log_scale()
                .with_key_points(yk.clone())
                .with_light_points(yl.clone())
        };
        let xlight = !self.x_integer;
        match (self.x_log, self.y_log) {
            (true, true) => self.draw_in(area, || (logx(), logy()), dec, &ranges),
            (true, false) => self.draw_in(area, || (logx(), lin(&yr, &yt, true)), dec, &ranges),
            (false, true) => self.draw_in(area, || (lin(&xr, &xt, xlight), logy()), dec, &ranges),
            (false, false) => self.draw_in(
                area,
                || (lin(&xr, &xt, xlight), lin(&yr, &yt, true)),
                dec,
                &ranges,
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

    /// Draws the axes, tick labels and the light grid; `decimals` is (x decimals, y decimals,
    /// integer x points). The axis descriptions are drawn by [`Scatter::draw_descs`].
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
        mesh.x_label_formatter(&|v: &f64| self.x_tick_label(*v, decimals.0))
            .y_label_formatter(&|v: &f64| self.y_tick_label(*v, decimals.1))
            .label_style(tick_font())
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .ctx()
    }

    /// The axis descriptions wrapped to the plot's size in `area` (w × h): (x lines, y lines).
    fn desc_lines(&self, (w, h): (u32, u32)) -> (Vec<String>, Vec<String>) {
        let font = axis_font();
        let plot_w = w.saturating_sub(Y_TICKS_PX + DESC_LINE + 50).max(80);
        let x = super::wrap_text(&self.x_label, plot_w, &font);
        let x_area = X_TICKS_PX + x.len() as u32 * DESC_LINE;
        let plot_h = h.saturating_sub(x_area + 40).max(80);
        let y = super::wrap_text(&self.y_label, plot_h, &font);
        (x, y)
    }

    /// Draws the wrapped axis descriptions around the plot `plot` (absolute pixel ranges) on
    /// `area`: x lines centred below the tick labels, y lines rotated left of them.
    fn draw_descs<DB: DrawingBackend>(
        area: &DrawingArea<DB, Shift>,
        plot: &(std::ops::Range<i32>, std::ops::Range<i32>),
        (x, y): &(Vec<String>, Vec<String>),
    ) -> Result<(), FigureError> {
        let base = area.get_base_pixel();
        let font = axis_font();
        let cx = (plot.0.start + plot.0.end) / 2 - base.0;
        let top = plot.1.end - base.1 + X_TICKS_PX as i32;
        let centred = font.pos(Pos::new(HPos::Center, VPos::Top));
        for (k, line) in x.iter().enumerate() {
            area.draw(&Text::new(
                line.clone(),
                (cx, top + k as i32 * DESC_LINE as i32),
                centred.clone(),
            ))
            .ctx()?;
        }
        let cy = (plot.1.start + plot.1.end) / 2 - base.1;
        let left = plot.0.start - base.0 - (Y_TICKS_PX + y.len() as u32 * DESC_LINE) as i32;
        let rotated = font
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for (k, line) in y.iter().enumerate() {
            area.draw(&Text::new(
                line.clone(),
                (left + 2 + k as i32 * DESC_LINE as i32, cy),
                rotated.clone(),
            ))
            .ctx()?;
        }
        Ok(())
    }

    fn draw_in<DB, X, Y, F>(
        &self,
        area: &DrawingArea<DB, Shift>,
        axes: F,
        decimals: (usize, usize, usize),
        ranges: &Ranges,
    ) -> Result<(), FigureError>
    where
        DB: DrawingBackend,
        F: Fn() -> (X, Y),
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let (w, h) = area.dim_in_pixel();
        let descs = self.desc_lines((w, h));
        let x_area = X_TICKS_PX + descs.0.len() as u32 * DESC_LINE + 4;
        let y_area = Y_TICKS_PX + descs.1.len() as u32 * DESC_LINE + 4;
        let note_style = tick_font().color(&RGBColor(60, 60, 60));
        let sizes: Vec<(i32, i32)> = self
            .notes
            .iter()
            .map(|(_, _, t)| (super::measure(t, &note_style) as i32 + 2, 18))
            .collect();
        // A caption line under the plot lists the labels with no room; the plot shrinks for it.
        let mut caption_h = 0;
        for pass in 0..2 {
            let (chart_area, caption_area) = area.split_vertically(h.saturating_sub(caption_h));
            let (xa, ya) = axes();
            let mut chart = ChartBuilder::on(&chart_area)
                .margin(14)
                .margin_right(30)
                .x_label_area_size(x_area)
                .y_label_area_size(y_area)
                .build_cartesian_2d(xa, ya)
                .ctx()?;
            let plot = chart.plotting_area().get_pixel_range();
            let px = |p: &(f64, f64)| chart.backend_coord(p);
            let points: Vec<(i32, i32)> =
                self.notes.iter().map(|(x, y, _)| px(&(*x, *y))).collect();
            let obstacles: Vec<labels::Rect> = self
                .series
                .iter()
                .filter(|s| !s.thin)
                .flat_map(|s| s.points.iter().map(px))
                .map(|(x, y)| (x - 6, y - 6, x + 6, y + 6))
                .collect();
            let bounds = (
                plot.0.start + 1,
                plot.1.start + 1,
                plot.0.end - 1,
                plot.1.end - 1,
            );
            let placed = labels::place_labels(&points, &sizes, &obstacles, bounds);
            let left_out: Vec<&str> = self
                .notes
                .iter()
                .zip(&placed)
                .filter(|(_, p)| p.is_none())
                .map(|(n, _)| n.2.as_str())
                .collect();
            let caption = (!left_out.is_empty())
                .then(|| left_out_caption(&left_out, w.saturating_sub(20), &note_style));
            let needed = caption
                .as_ref()
                .map_or(0, |l| l.len() as u32 * legend::LINE + 8);
            if pass == 0 && needed > caption_h {
                caption_h = needed;
                continue;
            }
            self.draw_axes(&mut chart, decimals)?;
            Self::draw_descs(&chart_area, &plot, &descs)?;
            for s in &self.series {
                draw_series(&mut chart, s, ranges)?;
            }
            let base = chart_area.get_base_pixel();
            for ((p, placed), (note, size)) in points
                .iter()
                .zip(&placed)
                .zip(self.notes.iter().zip(&sizes))
            {
                let Some(pl) = placed else { continue };
                let (x, y) = (pl.at.0 - base.0, pl.at.1 - base.1);
                let p = (p.0 - base.0, p.1 - base.1);
                if pl.leader {
                    let end = labels::nearest_on(&(x, y, x + size.0, y + size.1), p);
                    chart_area
                        .draw(&PathElement::new(
                            vec![p, end],
                            RGBColor(120, 120, 120).stroke_width(1),
                        ))
                        .ctx()?;
                }
                chart_area
                    .draw(&Text::new(
                        note.2.clone(),
                        (x + 1, y + 3),
                        note_style.pos(Pos::new(HPos::Left, VPos::Top)),
                    ))
                    .ctx()?;
            }
            let fit = (caption_h.saturating_sub(8) / legend::LINE) as usize;
            for (k, line) in caption.iter().flatten().take(fit).enumerate() {
                caption_area
                    .draw(&Text::new(
                        line.clone(),
                        (10, 2 + k as i32 * legend::LINE as i32),
                        note_style.pos(Pos::new(HPos::Left, VPos::Top)),
                    ))
                    .ctx()?;
            }
            break;
        }
        Ok(())
    }
}

/// Most lines the caption listing labels left out may take.
const CAPTION_LINES: usize = 3;

/// The caption listing the point labels with no room, wrapped to `width` pixels in at most
/// [`CAPTION_LINES`] lines (the last names counted, not listed, beyond that).
fn left_out_caption(names: &[&str], width: u32, style: &TextStyle) -> Vec<String> {
    let mut shown = names.len();
    loop {
        let more = names.len() - shown;
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let text = format!(
            "Not labelled (no room): {}{tail}",
            names[..shown].join(", ")
        );
        let lines = super::wrap_text(&text, width, style);
        if lines.len() <= CAPTION_LINES || shown == 0 {
            return lines;
        }
        shown -= 1;
    }
}

/// `(lo, hi)` clipped to the axis `r` (an interval on a log axis may reach below zero).
fn clip((lo, hi): (f64, f64), r: &std::ops::Range<f64>) -> (f64, f64) {
    (lo.max(r.start), hi.min(r.end))
}

/// Draws `s` on `chart`: a polyline (in its dash, with small markers unless thin, over its
/// interval band) or markers alone with their error bars.
fn draw_series<DB, CT>(
    chart: &mut ChartContext<'_, DB, CT>,
    s: &Series,
    (xr, yr): &Ranges,
) -> Result<(), FigureError>
where
    DB: DrawingBackend,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let y_ends = |i: usize| s.y_err.get(i).copied().flatten().map(|e| clip(e, yr));
    if s.line && s.y_err.iter().any(Option::is_some) {
        let upper = s
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| (p.0, y_ends(i).map_or(p.1, |e| e.1)));
        let lower: Vec<(f64, f64)> = s
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| (p.0, y_ends(i).map_or(p.1, |e| e.0)))
            .collect();
        let band: Vec<(f64, f64)> = upper.chain(lower.into_iter().rev()).collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                band,
                s.color.mix(0.18).filled(),
            )))
            .ctx()?;
    }
    if !s.line {
        draw_error_bars(chart, s, (xr, yr))?;
        draw_markers(chart, &s.points, s.marker, 5, s.color)?;
        return Ok(());
    }
    let style = s.color.stroke_width(if s.thin { 1 } else { 3 });
    if !s.thin {
        draw_markers(chart, &s.points, s.marker, 4, s.color)?;
    }
    let pts = s.points.iter().copied();
    match s.dash {
        Dash::Solid => chart.draw_series(LineSeries::new(pts, style)).map(|_| ()),
        Dash::Dashed => chart
            .draw_series(DashedLineSeries::new(pts, 10, 6, style))
            .map(|_| ()),
        Dash::Dotted => chart
            .draw_series(DashedLineSeries::new(pts, 3, 5, style))
            .map(|_| ()),
    }
    .ctx()
}

/// Draws each point's intervals as error bars with short caps: vertical for y, horizontal for x.
fn draw_error_bars<DB, CT>(
    chart: &mut ChartContext<'_, DB, CT>,
    s: &Series,
    (xr, yr): (&std::ops::Range<f64>, &std::ops::Range<f64>),
) -> Result<(), FigureError>
where
    DB: DrawingBackend,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let st = s.color.stroke_width(2);
    let mut bars: Vec<PathElement<(f64, f64)>> = Vec::new();
    // Cap ends: the point and whether the cap is horizontal (on a y bar).
    let mut caps: Vec<((f64, f64), bool)> = Vec::new();
    for (i, &(x, y)) in s.points.iter().enumerate() {
        if let Some((lo, hi)) = s.y_err.get(i).copied().flatten().map(|e| clip(e, yr)) {
            bars.push(PathElement::new(vec![(x, lo), (x, hi)], st));
            caps.extend([((x, lo), true), ((x, hi), true)]);
        }
        if let Some((lo, hi)) = s.x_err.get(i).copied().flatten().map(|e| clip(e, xr)) {
            bars.push(PathElement::new(vec![(lo, y), (hi, y)], st));
            caps.extend([((lo, y), false), ((hi, y), false)]);
        }
    }
    chart.draw_series(bars).ctx()?;
    chart
        .draw_series(caps.into_iter().map(|(p, horizontal)| {
            let cap = if horizontal {
                vec![(-4, 0), (4, 0)]
            } else {
                vec![(0, -4), (0, 4)]
            };
            EmptyElement::at(p) + PathElement::new(cap, st)
        }))
        .map(|_| ())
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

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn a_long_list_of_labels_left_out_is_counted_in_at_most_three_lines() {
        super::super::register_font();
        let names: Vec<String> = (0..16)
            .map(|i| format!("model-{i:02}-wide-residual-with-squeeze-excitation"))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let lines = left_out_caption(&refs, 480, &tick_font());
        assert!(lines.len() <= CAPTION_LINES, "{lines:?}");
        assert!(lines.concat().contains("more"), "{lines:?}");
        let one = left_out_caption(&refs[..1], 480, &tick_font());
        assert_eq!(
            one.concat().replace(' ', ""),
            format!("Notlabelled(noroom):{}", refs[0])
        );
    }

    /// The SVG of `scatter` drawn at 500 × 400 px.
    fn svg_of(scatter: &Scatter) -> String {
        super::super::register_font();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (500, 400)).into_drawing_area();
            scatter.draw(&root).unwrap();
            root.present().unwrap();
        }
        svg
    }

    #[test]
    fn repeats_draw_error_bars_on_both_axes_and_bands_along_curves() {
        let points = vec![(1.0, 2.0), (2.0, 3.0)];
        let plain = Scatter {
            series: vec![Series::nth(0, "p".into(), points.clone())],
            ..Default::default()
        };
        let with_bars = Scatter {
            series: vec![Series {
                x_err: vec![Some((0.9, 1.1)), None],
                y_err: vec![Some((1.8, 2.2)), Some((2.5, 3.5))],
                ..Series::nth(0, "p".into(), points.clone())
            }],
            ..Default::default()
        };
        let count = |s: &str, what: &str| s.matches(what).count();
        // Error bars and caps: strokes 2 px wide in the series' colour.
        let lines = |s: &str| count(s, r##"stroke="#0072B2" stroke-width="2""##);
        // Three bars (x and y of the first point, y of the second), each with two caps.
        assert_eq!(lines(&svg_of(&plain)), 0);
        assert_eq!(lines(&svg_of(&with_bars)), 9);
        let curve = |y_err| Scatter {
            series: vec![Series {
                line: true,
                y_err,
                ..Series::nth(0, "c".into(), points.clone())
            }],
            ..Default::default()
        };
        let band = count(
            &svg_of(&curve(vec![Some((1.8, 2.2)), Some((2.5, 3.5))])),
            "<polygon",
        );
        assert_eq!(band - count(&svg_of(&curve(Vec::new())), "<polygon"), 1);
    }

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
