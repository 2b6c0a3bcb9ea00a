//! The accuracy–energy Pareto front: configurations that no other configuration beats on both
//! lower energy and higher accuracy.

use crate::context::ReportContext;
use crate::data::AccuracySource;
use crate::groups::{config_groups, ConfigGroup};

/// The sweep's configurations (repeats grouped) and, for each with both, `(index, mean training
/// energy in J, mean accuracy from `source`)` on the context's basis: the points the Pareto
/// front is taken over.
pub fn configuration_points<'a>(
    ctx: &ReportContext<'a>,
    source: AccuracySource,
) -> (Vec<ConfigGroup<'a>>, Vec<(usize, f64, f64)>) {
    let basis = ctx.basis;
    let groups = config_groups(ctx.runs);
    let pts = groups
        .iter()
        .enumerate()
        .filter_map(|(i, g)| Some((i, g.mean(|r| basis.train_j(r))?, g.mean(|r| source.of(r))?)))
        .collect();
    (groups, pts)
}

/// Indices of the non-dominated points among `(energy, accuracy)` pairs (lower energy and higher
/// accuracy are better), ordered by increasing energy. Non-finite points are ignored; of exact
/// duplicates the first is kept.
pub fn pareto_front(points: &[(f64, f64)]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].0.is_finite() && points[i].1.is_finite())
        .collect();
    // Energy ascending, accuracy descending, then index for stability.
    idx.sort_by(|&a, &b| {
        points[a]
            .0
            .total_cmp(&points[b].0)
            .then(points[b].1.total_cmp(&points[a].1))
            .then(a.cmp(&b))
    });
    let mut front = Vec::new();
    let mut best_acc = f64::NEG_INFINITY;
    for i in idx {
        if points[i].1 > best_acc {
            best_acc = points[i].1;
            front.push(i);
        }
    }
    front
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_keeps_only_non_dominated() {
        let p = [
            (10.0, 0.9),
            (5.0, 0.8),
            (7.0, 0.7),
            (20.0, 0.95),
            (5.0, 0.6),
            (f64::NAN, 1.0),
            (30.0, 0.95),
        ];
        assert_eq!(pareto_front(&p), vec![1, 0, 3]);
        assert!(pareto_front(&[]).is_empty());
        assert_eq!(pareto_front(&[(1.0, 0.5), (1.0, 0.5)]), vec![0]);
    }
}
