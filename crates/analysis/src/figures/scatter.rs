//! Scatter plots with optional log axes, point labels and polylines.

use std::path::Path;

use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    axis_font, caption, emit, lin_range, log_range, short, tick_font, Ctx, FigureOutcome, Plot,
};
use crate::AnalysisError;

/// A set of points (or a line) with a legend entry.
pub(crate) struct Series {
    /// Legend text; empty for none.
    pub label: String,
    /// Colour.
    pub color: RGBColor,
    /// Points.
    pub points: Vec<(f64, f64)>,
    /// Draw as a polyline instead of markers.
    pub line: bool,
    /// Dashed-looking thin line (for references such as y = x).
    pub thin: bool,
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
    /// Series.
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

/// A scatter figure drawn at a fixed pixel size.
struct FixedSize {
    size: (u32, u32),
    scatter: Scatter,
}

impl Plot for FixedSize {
    fn size(&self) -> (u32, u32) {
        self.size
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        self.scatter.draw(root)
    }
}

/// Draws (or skips) a figure that is one scatter plot at `size` pixels, the result of its `prepare`.
pub(crate) fn emit_scatter(
    dir: &Path,
    name: &'static str,
    title: &'static str,
    size: (u32, u32),
    scatter: Result<Scatter, String>,
) -> Result<FigureOutcome, AnalysisError> {
    emit(
        dir,
        name,
        title,
        scatter.map(|scatter| FixedSize { size, scatter }),
    )
}

/// Width of a legend column.
pub(crate) const LEGEND_W: u32 = 220;

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

    /// Draws on `area`, choosing log or linear axes.
    pub fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        if self.legend_outside && self.series.iter().any(|s| !s.label.is_empty()) {
            let w = area.dim_in_pixel().0;
            let (plot, side) = area.split_horizontally(w.saturating_sub(LEGEND_W));
            self.side_legend(&side)?;
            return self.draw_plot(&plot);
        }
        self.draw_plot(area)
    }

    /// Draws the legend entries of the labelled series as a column in `area`.
    pub(crate) fn side_legend<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
        let font = tick_font();
        for (i, s) in self
            .series
            .iter()
            .filter(|s| !s.label.is_empty())
            .enumerate()
        {
            let y = 70 + 24 * i as i32;
            let c = s.color;
            area.draw(&PathElement::new(vec![(4, y), (26, y)], c.stroke_width(3)))
                .ctx()?;
            area.draw(&Circle::new((15, y), 3, c.filled())).ctx()?;
            area.draw(&Text::new(
                super::truncate(&s.label, 24),
                (34, y - 8),
                font.clone(),
            ))
            .ctx()?;
        }
        Ok(())
    }

    /// Draws the plot alone (the legend inside it unless `legend_outside`).
    pub(crate) fn draw_plot<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
    ) -> Result<(), String> {
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
            return Err("no finite points to draw".into());
        };
        let xk = self.x_ticks.clone().unwrap_or_else(|| log_ticks(&xr));
        let yk = log_ticks(&yr);
        let (xl, yl) = (log_light(&xr), log_light(&yr));
        match (self.x_log, self.y_log) {
            (true, true) => self.draw_in(
                area,
                xr.log_scale().with_key_points(xk).with_light_points(xl),
                yr.log_scale().with_key_points(yk).with_light_points(yl),
            ),
            (true, false) => self.draw_in(
                area,
                xr.log_scale().with_key_points(xk).with_light_points(xl),
                yr,
            ),
            (false, true) => self.draw_in(
                area,
                xr,
                yr.log_scale().with_key_points(yk).with_light_points(yl),
            ),
            (false, false) => self.draw_in(area, xr, yr),
        }
    }

    fn draw_in<DB, X, Y>(&self, area: &DrawingArea<DB, Shift>, xr: X, yr: Y) -> Result<(), String>
    where
        DB: DrawingBackend,
        X: AsRangedCoord<Value = f64>,
        Y: AsRangedCoord<Value = f64>,
        X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
        Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(area)
            .caption(&self.title, caption())
            .margin(16)
            .x_label_area_size(60)
            .y_label_area_size(90)
            .build_cartesian_2d(xr, yr)
            .ctx()?;
        chart
            .configure_mesh()
            .x_desc(self.x_label.as_str())
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v: &f64| {
                if !self.x_integer {
                    short(v)
                } else if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&short)
            .axis_desc_style(axis_font())
            .label_style(tick_font())
            .light_line_style(RGBColor(235, 235, 235))
            .draw()
            .ctx()?;
        let mut legend = false;
        for s in &self.series {
            let c = s.color;
            let drawn = if s.line {
                let style = if s.thin {
                    c.stroke_width(1)
                } else {
                    c.stroke_width(3)
                };
                if !s.thin {
                    chart
                        .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, c.filled())))
                        .ctx()?;
                }
                chart
                    .draw_series(LineSeries::new(s.points.iter().copied(), style))
                    .ctx()?
            } else {
                chart
                    .draw_series(
                        s.points
                            .iter()
                            .map(|&p| Circle::new(p, 5, c.mix(0.8).filled())),
                    )
                    .ctx()?
            };
            if !s.label.is_empty() && !self.legend_outside {
                legend = true;
                let line = s.line;
                drawn.label(s.label.as_str()).legend(
                    move |(x, y)| -> DynElement<'static, DB, (i32, i32)> {
                        if line {
                            PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                                .into_dyn()
                        } else {
                            Circle::new((x + 9, y), 5, c.filled()).into_dyn()
                        }
                    },
                );
            }
        }
        let note_style = tick_font().color(&RGBColor(60, 60, 60));
        chart
            .draw_series(self.notes.iter().map(|(x, y, t)| {
                EmptyElement::at((*x, *y)) + Text::new(t.clone(), (7, -18), note_style.clone())
            }))
            .ctx()?;
        if legend {
            chart
                .configure_series_labels()
                .position(self.legend.clone())
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .label_font(tick_font())
                .draw()
                .ctx()?;
        }
        Ok(())
    }
}
