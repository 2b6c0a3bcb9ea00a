//! Horizontal (optionally stacked) bar panels: one row per model, names readable without rotation.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axis_font, caption, fit_text, measure, tick_font, Ctx, FigureError};

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

/// Left label width for the longest name (measured), at most 40 % of a panel `width` pixels
/// wide; names wider than that are cut (see [`row_names`]).
pub(crate) fn label_width(names: &[String], width: u32) -> u32 {
    let font = tick_font();
    let longest = names.iter().map(|n| measure(n, &font)).max().unwrap_or(40);
    (longest + 20).clamp(80, (width * 2 / 5).max(80))
}

/// The row names as drawn: each cut to fit `label_width` (ending in "…" when cut).
fn row_names(names: &[String], label_width: u32) -> Vec<String> {
    let font = tick_font();
    names
        .iter()
        .map(|n| fit_text(n, label_width.saturating_sub(20), &font))
        .collect()
}

/// Whether a bar value can be drawn: finite and positive (others leave a gap).
fn drawable(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

/// Right end of the x axis: the longest stacked row, with head room for the legend of a
/// stacked panel (1.5×) or the bar ends (1.08×); 1 when nothing is drawable.
fn x_extent(values: &[Vec<Option<f64>>], stacked: bool) -> f64 {
    let longest = values
        .iter()
        .map(|row| row.iter().flatten().filter(|v| drawable(**v)).sum::<f64>())
        .fold(0.0f64, f64::max);
    let pad = if stacked { 1.5 } else { 1.08 };
    if longest > 0.0 {
        longest * pad
    } else {
        1.0
    }
}

/// Where series `si`'s bar of a row starts and ends, stacked after the drawable values of the
/// series before it; `None` when its own value is not drawable.
fn bar_span(row: &[Option<f64>], si: usize) -> Option<(f64, f64)> {
    let v = row.get(si).copied().flatten().filter(|v| drawable(*v))?;
    let start: f64 = row[..si].iter().flatten().filter(|v| drawable(**v)).sum();
    Some((start, start + v))
}

/// Draws `p` on `area`: a caption, the row names left of the bars, one colour per series and
/// a legend when there are ≥ 2 series.
pub(crate) fn draw_hbars<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &HBars,
) -> Result<(), FigureError> {
    let n = p.names.len() as i32;
    let stacked = p.series.len() > 1;
    let width = area.dim_in_pixel().0;
    let label_w = label_width(p.names, width);
    let names = &row_names(p.names, label_w);
    // About one x tick label per 70 px of bar width, so they never run together.
    let x_ticks = (width.saturating_sub(label_w + 40) / 70).clamp(2, 10) as usize;
    let mut chart = ChartBuilder::on(area)
        .caption(p.title, caption())
        .margin(12)
        .margin_right(30)
        .x_label_area_size(56)
        .y_label_area_size(label_w)
        .build_cartesian_2d(
            0.0..x_extent(p.values, stacked),
            (0..(n - 1).max(0)).into_segmented(),
        )
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
        .x_labels(x_ticks)
        .x_label_formatter(&super::short)
        .x_desc(p.x_label)
        .axis_desc_style(axis_font())
        .label_style(tick_font())
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .ctx()?;
    for (si, (sname, col)) in p.series.iter().enumerate() {
        let bars = p.values.iter().enumerate().filter_map(move |(row, vals)| {
            let (start, end) = bar_span(vals, si)?;
            let y = n - 1 - row as i32;
            let mut r = Rectangle::new(
                [
                    (start, SegmentValue::Exact(y)),
                    (end, SegmentValue::Exact(y + 1)),
                ],
                col.filled(),
            );
            r.set_margin(5, 5, 0, 0);
            Some(r)
        });
        let s = chart.draw_series(bars).ctx()?;
        if stacked {
            let c = *col;
            s.label(*sname)
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()));
        }
    }
    if stacked {
        super::draw_legend_box(&mut chart, SeriesLabelPosition::UpperRight)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_stack_after_the_drawable_values_before_them() {
        let row = [Some(2.0), None, Some(f64::NAN), Some(3.0), Some(-1.0)];
        assert_eq!(bar_span(&row, 0), Some((0.0, 2.0)));
        assert_eq!(bar_span(&row, 1), None);
        assert_eq!(bar_span(&row, 2), None);
        assert_eq!(bar_span(&row, 3), Some((2.0, 5.0)));
        assert_eq!(bar_span(&row, 4), None);
        assert_eq!(bar_span(&row, 9), None);
    }

    #[test]
    fn x_extent_leaves_room_after_the_longest_row() {
        let values = vec![
            vec![Some(2.0), Some(3.0)],
            vec![Some(4.0), Some(f64::INFINITY)],
        ];
        assert_eq!(x_extent(&values, true), 5.0 * 1.5);
        assert_eq!(x_extent(&values, false), 5.0 * 1.08);
        assert_eq!(x_extent(&[vec![None, Some(0.0)]], false), 1.0);
        assert_eq!(x_extent(&[], true), 1.0);
    }
}
