//! Point labels that collide with nothing: each label tries places around its point (nearest
//! first, then further out with a leader line) and takes the first that stays inside the plot
//! area and covers no other label and no marker; a label with no such place is left out (the
//! figure lists it in a caption line).

/// A pixel rectangle: left, top, right, bottom.
pub(crate) type Rect = (i32, i32, i32, i32);

/// Where a label went: its text's top-left corner and whether a leader line joins it to its
/// point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placed {
    /// Top-left corner of the label's box, in pixels.
    pub at: (i32, i32),
    /// Whether the label sits away from its point (draw a leader line).
    pub leader: bool,
}

/// Distances (pixels) from a point to its label's nearest corner: the first is beside the point,
/// the others need a leader line.
const RINGS: [i32; 7] = [4, 16, 30, 46, 66, 90, 120];

/// Space kept between a label and anything else.
const PAD: i32 = 2;

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a.0 < b.2 + PAD && b.0 < a.2 + PAD && a.1 < b.3 + PAD && b.1 < a.3 + PAD
}

fn inside(a: &Rect, outer: &Rect) -> bool {
    a.0 >= outer.0 && a.1 >= outer.1 && a.2 <= outer.2 && a.3 <= outer.3
}

/// Top-left corners around `(px, py)` at distance `d` for a `w` × `h` label: beside (right,
/// left), the four diagonals, then above and below.
fn candidates((px, py): (i32, i32), (w, h): (i32, i32), d: i32) -> [(i32, i32); 8] {
    [
        (px + d + 3, py - d - h),
        (px + d + 3, py + d),
        (px + d + 4, py - h / 2),
        (px - d - 3 - w, py - d - h),
        (px - d - 3 - w, py + d),
        (px - d - 4 - w, py - h / 2),
        (px - w / 2, py - d - 5 - h),
        (px - w / 2, py + d + 5),
    ]
}

/// Places labels of `sizes` (w, h) at `points`, in order, inside `bounds`, avoiding each other
/// and the `obstacles` (marker boxes); `None` for a label with no free place.
pub(crate) fn place_labels(
    points: &[(i32, i32)],
    sizes: &[(i32, i32)],
    obstacles: &[Rect],
    bounds: Rect,
) -> Vec<Option<Placed>> {
    let mut taken: Vec<Rect> = Vec::new();
    points
        .iter()
        .zip(sizes)
        .map(|(&p, &(w, h))| {
            let found = RINGS.iter().enumerate().find_map(|(ring, &d)| {
                candidates(p, (w, h), d).into_iter().find_map(|(x, y)| {
                    let r = (x, y, x + w, y + h);
                    let free = inside(&r, &bounds)
                        && !taken.iter().any(|t| overlaps(t, &r))
                        && !obstacles.iter().any(|o| overlaps(o, &r));
                    free.then_some((
                        r,
                        Placed {
                            at: (x, y),
                            leader: ring > 0,
                        },
                    ))
                })
            });
            found.map(|(r, placed)| {
                taken.push(r);
                placed
            })
        })
        .collect()
}

/// The point of `r` nearest to `p` (where a leader line meets the label).
pub(crate) fn nearest_on(r: &Rect, (x, y): (i32, i32)) -> (i32, i32) {
    (x.clamp(r.0, r.2), y.clamp(r.1, r.3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_avoid_each_other_markers_and_the_edges_or_are_left_out() {
        let bounds = (0, 0, 300, 200);
        // Three labels at one point, one near the right edge.
        let points = [(100, 100), (100, 100), (100, 100), (295, 100)];
        let sizes = [(80, 16); 4];
        let markers: Vec<Rect> = points
            .iter()
            .map(|&(x, y)| (x - 6, y - 6, x + 6, y + 6))
            .collect();
        let placed = place_labels(&points, &sizes, &markers, bounds);
        let rects: Vec<Rect> = placed
            .iter()
            .zip(&sizes)
            .map(|(p, &(w, h))| {
                let (x, y) = p.expect("room for every label").at;
                (x, y, x + w, y + h)
            })
            .collect();
        for (i, a) in rects.iter().enumerate() {
            assert!(inside(a, &bounds), "{a:?} off the plot");
            for m in &markers {
                assert!(!overlaps(a, m), "{a:?} covers a marker");
            }
            for b in &rects[i + 1..] {
                assert!(!overlaps(a, b), "{a:?} overlaps {b:?}");
            }
        }
        assert!(
            !placed[0].unwrap().leader,
            "the first label sits beside its point"
        );
        assert!(rects[3].2 <= 295, "the edge point's label goes left of it");
        // No room at all: left out.
        let none = place_labels(&[(10, 10)], &[(500, 16)], &[], bounds);
        assert_eq!(none, vec![None]);
    }

    #[test]
    fn a_leader_line_meets_the_label_at_its_nearest_point() {
        assert_eq!(nearest_on(&(10, 10, 50, 30), (0, 20)), (10, 20));
        assert_eq!(nearest_on(&(10, 10, 50, 30), (60, 40)), (50, 30));
    }
}
