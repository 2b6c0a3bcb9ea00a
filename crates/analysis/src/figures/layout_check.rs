//! Checks a drawn SVG figure's text layout: every text inside the canvas, no two texts on top of
//! each other, no text on a legend box it does not belong to. Texts are measured as laid out by
//! `usvg` with the embedded font (the same layout the PDF gets), so the check sees what a reader
//! sees.

use svg2pdf::usvg;

use super::{svg_options, FigureError};

/// An axis-aligned box in pixels: left, top, right, bottom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PxBox {
    /// Left edge.
    pub left: f64,
    /// Top edge.
    pub top: f64,
    /// Right edge.
    pub right: f64,
    /// Bottom edge.
    pub bottom: f64,
}

impl PxBox {
    /// How far `self` and `other` overlap in x and in y (negative when apart).
    fn overlap(&self, other: &PxBox) -> (f64, f64) {
        (
            self.right.min(other.right) - self.left.max(other.left),
            self.bottom.min(other.bottom) - self.top.max(other.top),
        )
    }

    /// Whether `self` lies inside `outer`, allowing `slack` pixels.
    fn inside(&self, outer: &PxBox, slack: f64) -> bool {
        self.left >= outer.left - slack
            && self.top >= outer.top - slack
            && self.right <= outer.right + slack
            && self.bottom <= outer.bottom + slack
    }

    fn of(r: usvg::Rect) -> PxBox {
        PxBox {
            left: r.left() as f64,
            top: r.top() as f64,
            right: r.right() as f64,
            bottom: r.bottom() as f64,
        }
    }
}

/// The text and legend boxes of a figure.
#[derive(Debug, Clone, PartialEq)]
pub struct SvgLayout {
    /// Canvas width and height in pixels.
    pub size: (f64, f64),
    /// Every non-empty text with its laid-out box.
    pub texts: Vec<(String, PxBox)>,
    /// Boxes of in-plot legends (white, see-through backgrounds).
    pub legends: Vec<PxBox>,
}

/// What is wrong with a figure's layout.
#[derive(Debug, Clone, PartialEq)]
pub enum LayoutProblem {
    /// A text (partly) outside the canvas.
    Clipped(String),
    /// Two texts drawn over each other.
    Overlap(String, String),
    /// A text drawn over a legend box it is not part of.
    OnLegend(String),
}

impl std::fmt::Display for LayoutProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayoutProblem::Clipped(t) => write!(f, "`{t}` runs off the canvas"),
            LayoutProblem::Overlap(a, b) => write!(f, "`{a}` overlaps `{b}`"),
            LayoutProblem::OnLegend(t) => write!(f, "`{t}` is drawn on a legend"),
        }
    }
}

/// Reads the texts and legend boxes of an SVG figure, laid out with the embedded font.
pub fn svg_layout(svg: &str) -> Result<SvgLayout, FigureError> {
    super::register_font();
    let tree = usvg::Tree::from_str(svg, svg_options())
        .map_err(|e| FigureError::SvgParse(e.to_string()))?;
    let mut out = SvgLayout {
        size: (tree.size().width() as f64, tree.size().height() as f64),
        texts: Vec::new(),
        legends: Vec::new(),
    };
    collect(tree.root(), 1.0, &mut out);
    Ok(out)
}

fn collect(g: &usvg::Group, opacity: f32, out: &mut SvgLayout) {
    let opacity = opacity * g.opacity().get();
    for node in g.children() {
        match node {
            usvg::Node::Group(child) => collect(child, opacity, out),
            usvg::Node::Text(t) => {
                let text: String = t.chunks().iter().map(|c| c.text()).collect();
                if !text.trim().is_empty() {
                    out.texts.push((text, PxBox::of(t.abs_bounding_box())));
                }
            }
            usvg::Node::Path(p) => {
                let Some(fill) = p.fill() else { continue };
                let white = matches!(fill.paint(), usvg::Paint::Color(c)
                    if (c.red, c.green, c.blue) == (255, 255, 255));
                let alpha = opacity * fill.opacity().get();
                if white && alpha < 0.99 && alpha > 0.0 {
                    out.legends.push(PxBox::of(p.abs_bounding_box()));
                }
            }
            usvg::Node::Image(_) => {}
        }
    }
}

/// Pixels two texts may share (anti-aliasing, touching boxes) before they count as overlapping.
const SLACK: f64 = 1.0;

/// The layout problems of `layout`: clipped texts, overlapping pairs, texts on a legend.
pub fn layout_problems(layout: &SvgLayout) -> Vec<LayoutProblem> {
    let canvas = PxBox {
        left: 0.0,
        top: 0.0,
        right: layout.size.0,
        bottom: layout.size.1,
    };
    let mut v = Vec::new();
    for (t, b) in &layout.texts {
        if !b.inside(&canvas, 0.5) {
            v.push(LayoutProblem::Clipped(t.clone()));
        }
    }
    for (i, (a, ab)) in layout.texts.iter().enumerate() {
        for (b, bb) in &layout.texts[i + 1..] {
            let (x, y) = ab.overlap(bb);
            if x > SLACK && y > SLACK {
                v.push(LayoutProblem::Overlap(a.clone(), b.clone()));
            }
        }
    }
    for (t, b) in &layout.texts {
        let on = layout.legends.iter().any(|l| {
            let (x, y) = b.overlap(l);
            x > SLACK && y > SLACK && !b.inside(l, SLACK)
        });
        if on {
            v.push(LayoutProblem::OnLegend(t.clone()));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svg(body: &str) -> String {
        format!(
            r#"<svg width="200" height="100" viewBox="0 0 200 100" xmlns="http://www.w3.org/2000/svg">{body}</svg>"#
        )
    }

    #[test]
    fn clipped_overlapping_and_legend_covering_texts_are_found() {
        let s = svg(concat!(
            r#"<text x="150" y="20" font-family="sans-serif" font-size="14">far too long a text</text>"#,
            r#"<text x="10" y="50" font-family="sans-serif" font-size="14">one label</text>"#,
            r#"<text x="20" y="52" font-family="sans-serif" font-size="14">another</text>"#,
            r##"<rect x="100" y="60" width="80" height="30" opacity="0.85" fill="#FFFFFF"/>"##,
            r#"<text x="140" y="87" font-family="sans-serif" font-size="10">in box</text>"#,
            r#"<text x="60" y="72" font-family="sans-serif" font-size="14">across box</text>"#,
        ));
        let layout = svg_layout(&s).unwrap();
        assert_eq!(layout.texts.len(), 5);
        assert_eq!(layout.legends.len(), 1);
        assert_eq!(
            layout_problems(&layout),
            vec![
                LayoutProblem::Clipped("far too long a text".into()),
                LayoutProblem::Overlap("one label".into(), "another".into()),
                LayoutProblem::OnLegend("across box".into()),
            ]
        );
    }

    #[test]
    fn texts_apart_and_inside_have_no_problems() {
        let s = svg(concat!(
            r#"<text x="10" y="20" font-family="sans-serif" font-size="14">left</text>"#,
            r#"<text x="10" y="60" font-family="sans-serif" font-size="14">below</text>"#,
        ));
        assert!(layout_problems(&svg_layout(&s).unwrap()).is_empty());
    }
}
