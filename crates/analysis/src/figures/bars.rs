//! Horizontal (optionally stacked) bar panels: one row per model, names readable without rotation.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axis_font, caption, tick_font, Ctx};

/// One panel of horizontal bars.
pub(crate) struct HBars<'a> {
    /// Panel caption.
    pub title: &'a str,
    /// X axis description with unit.
    pub x_label: &'a str,
    /// Row names (top to bottom).
    pub names: &'a [String],
    /// Per row, one value per series (stacked left to right); `None` = absent.
    pub values: &'a [Vec<Option<f64>>],
    /// Series names and colours (a legend is drawn when there are ≥ 2).
    pub series: &'a [(&'a str, RGBColor)],
}

/// Pixel height for `rows` bars.
pub(crate) fn height(rows: usize) -> u32 {
    (160 + 34 * rows as u32).max(360)
}

/// Left label width for the longest name.
pub(crate) fn label_width(names: &[String]) -> u32 {
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(4) as u32;
    (longest * 10 + 20).clamp(80, 320)
}

pub(crate) fn draw_hbars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &HBars,
) -> Result<(), String> {
    let n = p.names.len() as i32;
    let xmax = p
        .values
        .iter()
        .map(|row| {
            row.iter()
                .flatten()
                .filter(|v| v.is_finite() && **v > 0.0)
                .sum::<f64>()
        })
        .fold(0.0f64, f64::max);
    let pad = if p.series.len() > 1 { 1.5 } else { 1.08 };
    let xmax = if xmax > 0.0 { xmax * pad } else { 1.0 };
    let names = p.names;
    let mut chart = ChartBuilder::on(area)
        .caption(p.title, caption())
        .margin(12)
        .x_label_area_size(56)
        .y_label_area_size(label_width(names))
        .build_cartesian_2d(0.0..xmax, (0..(n - 1).max(0)).into_segmented())
        .ctx()?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(names.len().max(1))
        .y_label_formatter(&|v| match v {
            // Row 0 at the top.
            SegmentValue::CenterOf(i) => names
                .get((n - 1 - *i) as usize)
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .x_label_formatter(&super::short)
        .x_desc(p.x_label)
        .axis_desc_style(axis_font())
        .label_style(tick_font())
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .ctx()?;
    for (si, (sname, col)) in p.series.iter().enumerate() {
        let bars = p.values.iter().enumerate().filter_map(move |(row, vals)| {
            let v = vals
                .get(si)
                .copied()
                .flatten()
                .filter(|v| v.is_finite() && *v > 0.0)?;
            let start: f64 = vals[..si]
                .iter()
                .flatten()
                .filter(|v| v.is_finite() && **v > 0.0)
                .sum();
            let y = n - 1 - row as i32;
            let mut r = Rectangle::new(
                [
                    (start, SegmentValue::Exact(y)),
                    (start + v, SegmentValue::Exact(y + 1)),
                ],
                col.filled(),
            );
            r.set_margin(5, 5, 0, 0);
            Some(r)
        });
        let s = chart.draw_series(bars).ctx()?;
        if p.series.len() > 1 {
            let c = *col;
            s.label(*sname)
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()));
        }
    }
    if p.series.len() > 1 {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(tick_font())
            .draw()
            .ctx()?;
    }
    Ok(())
}
