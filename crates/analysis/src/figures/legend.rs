//! Legends outside the plot area: entries (sample and wrapped label) in as many columns as fit
//! the width, below the plot, so a legend never covers data and never runs off the canvas.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::scatter::Series;
use super::{marker_element, measure, tick_font, wrap_text, Ctx, Dash, FigureError};

/// Width of an entry's sample (line and marker) before its label.
const SAMPLE_W: u32 = 36;
/// Space after a column's widest label.
const GAP: u32 = 16;
/// Height of one line of legend text.
pub(crate) const LINE: u32 = 20;
/// Margin around the legend.
const PAD: u32 = 8;

/// Where a legend's entries go in an area `width` pixels wide.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LegendLayout {
    /// Per entry: its sample's left edge and first line's top, and its label's lines.
    pub cells: Vec<((i32, i32), Vec<String>)>,
    /// Height of the whole legend in pixels (0 without entries).
    pub height: u32,
}

/// Lays out entries labelled `labels` in columns of equal width filling `width` pixels row by
/// row; a label wider than a column is wrapped.
pub(crate) fn legend_layout(labels: &[&str], width: u32) -> LegendLayout {
    if labels.is_empty() {
        return LegendLayout {
            cells: Vec::new(),
            height: 0,
        };
    }
    let font = tick_font();
    let avail = width.saturating_sub(2 * PAD).max(SAMPLE_W + GAP + 40);
    let widest = labels
        .iter()
        .map(|l| SAMPLE_W + measure(l, &font) + GAP)
        .max()
        .unwrap_or(avail);
    let col_w = widest.min(avail);
    let cols = (avail / col_w).max(1) as usize;
    let text_w = col_w - SAMPLE_W - GAP / 2;
    let wrapped: Vec<Vec<String>> = labels.iter().map(|l| wrap_text(l, text_w, &font)).collect();
    let mut cells = Vec::new();
    let mut top = PAD;
    for (r, row) in wrapped.chunks(cols).enumerate() {
        let lines = row.iter().map(Vec::len).max().unwrap_or(1) as u32;
        for (c, l) in row.iter().enumerate() {
            let x = PAD + c as u32 * col_w;
            cells.push(((x as i32, top as i32), l.clone()));
            let _ = r;
        }
        top += lines * LINE + 6;
    }
    LegendLayout {
        cells,
        height: top + PAD,
    }
}

/// Height of the legend of `series`' labelled entries in an area `width` pixels wide.
pub(crate) fn legend_height(series: &[&Series], width: u32) -> u32 {
    let labels: Vec<&str> = series.iter().map(|s| s.label.as_str()).collect();
    legend_layout(&labels, width).height
}

/// Draws the legend of `series` (each with its sample and label) into `area`.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series: &[&Series],
) -> Result<(), FigureError> {
    let labels: Vec<&str> = series.iter().map(|s| s.label.as_str()).collect();
    let layout = legend_layout(&labels, area.dim_in_pixel().0);
    let font = tick_font().pos(Pos::new(HPos::Left, VPos::Top));
    for (s, ((x, y), lines)) in series.iter().zip(&layout.cells) {
        let mid = y + LINE as i32 / 2;
        draw_sample(area, s, (*x, mid))?;
        for (k, line) in lines.iter().enumerate() {
            area.draw(&Text::new(
                line.clone(),
                (x + SAMPLE_W as i32, y + 2 + k as i32 * LINE as i32),
                font.clone(),
            ))
            .ctx()?;
        }
    }
    Ok(())
}

/// A series' legend sample at `(x, y)`: its line (in its dash) and marker, or the marker alone.
fn draw_sample<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Series,
    (x, y): (i32, i32),
) -> Result<(), FigureError> {
    let c = s.color;
    if s.line {
        let style = c.stroke_width(if s.thin { 1 } else { 3 });
        let segments: Vec<(i32, i32)> = match s.dash {
            Dash::Solid => vec![(0, 28)],
            Dash::Dashed => vec![(0, 8), (11, 19), (22, 28)],
            Dash::Dotted => vec![(0, 3), (7, 10), (14, 17), (21, 24), (27, 28)],
        };
        for (a, b) in segments {
            area.draw(&PathElement::new(vec![(x + a, y), (x + b, y)], style))
                .ctx()?;
        }
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legend_fills_columns_and_wraps_labels_wider_than_the_area() {
        super::super::register_font();
        let short = ["a", "b", "c", "d"];
        let l = legend_layout(&short, 500);
        // Four short entries fit on one row.
        assert!(l.cells.iter().all(|((_, y), _)| *y == l.cells[0].0 .1));
        let long = "models: Spearman ρ = 0.89 (n = 16, t-approx. p = 4.3e-6, 95 % CI [0.67, 0.98])";
        let l = legend_layout(&[long], 400);
        assert!(l.cells[0].1.len() >= 2, "{:?}", l.cells);
        for line in &l.cells[0].1 {
            assert!(
                measure(line, &tick_font()) + SAMPLE_W + PAD <= 400,
                "{line}"
            );
        }
        assert_eq!(legend_layout(&[], 400).height, 0);
    }
}
