//! Tests of scatter plots: ticks, labels, error bars, series styles.

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
