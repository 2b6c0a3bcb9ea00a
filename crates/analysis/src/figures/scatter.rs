//! Scatter plots with optional log axes, point labels and polylines.

use std::path::Path;

use plotters::chart::{ChartContext, SeriesAnno};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{self, draw_legend, legend_height};
#[cfg(test)]
use super::ticks::linear_tick_labels;
use super::ticks::{integer_points, linear_ticks, log_label, log_light, log_ticks, FixedTicks};
use super::{
    axis_font, emit, labels, lin_range, log_range, tick_font, Ctx, Dash, FigureError, FigureInput,
    FigureOutcome, Marker, Plot,
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
mod tests;
