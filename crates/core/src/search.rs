//! The decisions of a search, as pure functions of the grid and the records: which
//! configurations a random search draws, which of a rung's runs a halving search promotes, and
//! the run that continues a promoted one. Everything is derived again from the records on
//! `--resume`, so a resumed search makes the same decisions.

use serde::{Deserialize, Serialize};

use crate::rng::SplitMix64;
use crate::spec::{Continuation, RunSpec};

/// What "best" means when a search chooses (always on validation accuracy, never test).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Highest validation accuracy.
    #[default]
    Accuracy,
    /// Highest validation accuracy per joule of training energy spent on the configuration.
    AccuracyPerJoule,
    /// Non-dominated in (validation accuracy ↑, training energy ↓); crowding breaks ties.
    Pareto,
}

impl Objective {
    /// The name a config writes (`accuracy`, `accuracy_per_joule`, `pareto`).
    pub fn name(self) -> &'static str {
        match self {
            Objective::Accuracy => "accuracy",
            Objective::AccuracyPerJoule => "accuracy_per_joule",
            Objective::Pareto => "pareto",
        }
    }
}

/// `n` configurations of `grid` drawn with `seed`, in grid order. Without `lr_range` they are
/// distinct grid points (all of them when `n` is not below the grid's size); with it each draw
/// also takes its lr log-uniformly in `[low, high)`, and grid points are reused when `n` exceeds
/// the grid.
pub fn sample(grid: Vec<RunSpec>, n: usize, seed: u64, lr_range: Option<[f64; 2]>) -> Vec<RunSpec> {
    if grid.is_empty() {
        return grid;
    }
    let mut rng = SplitMix64::new(seed ^ 0x7365_6172_6368);
    let mut order: Vec<usize> = (0..grid.len()).collect();
    for i in (1..order.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let Some([lo, hi]) = lr_range else {
        let mut picked: Vec<usize> = order.into_iter().take(n).collect();
        picked.sort_unstable();
        return picked.into_iter().map(|i| grid[i].clone()).collect();
    };
    let mut drawn: Vec<(usize, RunSpec)> = (0..n)
        .map(|k| {
            let i = order[k % order.len()];
            let mut spec = grid[i].clone();
            spec.lr = (lo.ln() + rng.unit() * (hi.ln() - lo.ln())).exp();
            (i, spec)
        })
        .collect();
    drawn.sort_by_key(|(i, _)| *i);
    drawn.into_iter().map(|(_, s)| s).collect()
}

/// How many of `n` runs of a rung go on to the next: the best `n / eta`, at least one.
pub fn keep_count(n: usize, eta: usize) -> usize {
    (n / eta.max(2)).max(1)
}

/// A finished run of a rung, as the search sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Its run id (12 hex digits).
    pub run_id: String,
    /// Validation accuracy after its last epoch (0..1).
    pub val_acc: f64,
    /// Training energy spent on the configuration so far (this run and the rungs before), J;
    /// `None` when a window of it has no figure (the meter rejected or missed it).
    pub energy_j: Option<f64>,
}

impl Objective {
    /// Whether the objective weighs energy (so a candidate without an energy figure cannot be
    /// ranked by it), rather than using energy only to break ties.
    pub fn weighs_energy(self) -> bool {
        !matches!(self, Objective::Accuracy)
    }
}

/// Indices of the candidates `objective` cannot rank because their energy is missing (none
/// under `accuracy`, where energy only breaks ties): a search says which runs these are rather
/// than leaving them out silently.
pub fn unranked(cands: &[Candidate], objective: Objective) -> Vec<usize> {
    (0..cands.len())
        .filter(|&i| cands[i].val_acc.is_finite())
        .filter(|&i| objective.weighs_energy() && !finite_energy(&cands[i]))
        .collect()
}

fn finite_energy(c: &Candidate) -> bool {
    c.energy_j.is_some_and(f64::is_finite)
}

/// A candidate's energy for ordering: a missing figure sorts after every figure.
fn energy_key(c: &Candidate) -> f64 {
    c.energy_j
        .filter(|j| j.is_finite())
        .unwrap_or(f64::INFINITY)
}

/// Indices of the `keep` best candidates by `objective`, best first. Ties (and the order within
/// a Pareto front, after crowding distance) fall to the lower energy, then the run id, so the
/// choice never depends on the order the runs finished in.
///
/// Under `accuracy` a candidate without an energy figure competes on its accuracy (a missing
/// figure only loses ties); under an objective that weighs energy it cannot be ranked and is
/// left out — [`unranked`] lists those, for the caller to say so.
pub fn promote(cands: &[Candidate], keep: usize, objective: Objective) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..cands.len())
        .filter(|&i| cands[i].val_acc.is_finite())
        .filter(|&i| !objective.weighs_energy() || finite_energy(&cands[i]))
        .collect();
    let tie = |a: usize, b: usize| {
        energy_key(&cands[a])
            .total_cmp(&energy_key(&cands[b]))
            .then_with(|| cands[a].run_id.cmp(&cands[b].run_id))
    };
    match objective {
        Objective::Accuracy => idx.sort_by(|&a, &b| {
            cands[b]
                .val_acc
                .total_cmp(&cands[a].val_acc)
                .then(tie(a, b))
        }),
        Objective::AccuracyPerJoule => {
            let score = |i: usize| cands[i].val_acc / energy_key(&cands[i]).max(f64::MIN_POSITIVE);
            idx.sort_by(|&a, &b| score(b).total_cmp(&score(a)).then(tie(a, b)))
        }
        Objective::Pareto => idx = pareto_order(cands, idx),
    }
    idx.truncate(keep);
    idx
}

/// `idx` ordered front by front (non-dominated in accuracy ↑ and energy ↓ first), each front by
/// crowding distance, largest first (its two ends are infinitely far), then by the tie rule.
fn pareto_order(c: &[Candidate], mut left: Vec<usize>) -> Vec<usize> {
    let e = |i: usize| energy_key(&c[i]);
    let dominates = |a: usize, b: usize| {
        c[a].val_acc >= c[b].val_acc && e(a) <= e(b) && (c[a].val_acc > c[b].val_acc || e(a) < e(b))
    };
    let mut out = Vec::new();
    while !left.is_empty() {
        let (front, rest): (Vec<usize>, Vec<usize>) = left
            .iter()
            .partition(|&&i| !left.iter().any(|&j| dominates(j, i)));
        let dist = crowding(c, &front);
        let mut ranked: Vec<(usize, f64)> = front.into_iter().zip(dist).collect();
        ranked.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(e(a.0).total_cmp(&e(b.0)))
                .then_with(|| c[a.0].run_id.cmp(&c[b.0].run_id))
        });
        out.extend(ranked.into_iter().map(|(i, _)| i));
        left = rest;
    }
    out
}

/// Crowding distance of each member of `front` over the two objectives (normalised by their
/// ranges); the extremes of each objective get infinity.
fn crowding(c: &[Candidate], front: &[usize]) -> Vec<f64> {
    let mut dist = vec![0.0; front.len()];
    let keys: [fn(&Candidate) -> f64; 2] = [|x| x.val_acc, energy_key];
    for key in keys {
        let mut pos: Vec<usize> = (0..front.len()).collect();
        pos.sort_by(|&a, &b| key(&c[front[a]]).total_cmp(&key(&c[front[b]])));
        let (lo, hi) = match (pos.first(), pos.last()) {
            (Some(&f), Some(&l)) => (key(&c[front[f]]), key(&c[front[l]])),
            _ => continue,
        };
        if let (Some(&f), Some(&l)) = (pos.first(), pos.last()) {
            dist[f] = f64::INFINITY;
            dist[l] = f64::INFINITY;
        }
        let range = (hi - lo).max(f64::MIN_POSITIVE);
        for w in pos.windows(3) {
            dist[w[1]] += (key(&c[front[w[2]]]) - key(&c[front[w[0]]])) / range;
        }
    }
    dist
}

/// The run that continues `prev` (whose run id is `prev_id`) to `epochs` from its checkpoint.
pub fn next_rung(prev: &RunSpec, prev_id: &str, epochs: usize) -> RunSpec {
    let mut next = prev.clone();
    next.continues = Some(Continuation {
        run_id: prev_id.to_string(),
        epochs: prev.epochs,
    });
    next.epochs = epochs;
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(id: &str, acc: f64, j: f64) -> Candidate {
        Candidate {
            run_id: id.into(),
            val_acc: acc,
            energy_j: Some(j),
        }
    }

    #[test]
    fn a_missing_energy_loses_only_ties_under_accuracy_and_is_named_under_energy_objectives() {
        let mut c = vec![
            cand("a", 0.80, 10.0),
            cand("best-no-energy", 0.89, 0.0),
            cand("c", 0.85, 5.0),
            cand("tie-no-energy", 0.85, 0.0),
        ];
        c[1].energy_j = None;
        c[3].energy_j = None;
        // The best validation accuracy is promoted though its energy window is missing; the
        // one without energy loses the tie at 0.85.
        assert_eq!(promote(&c, 3, Objective::Accuracy), vec![1, 2, 3]);
        assert!(unranked(&c, Objective::Accuracy).is_empty());
        for o in [Objective::AccuracyPerJoule, Objective::Pareto] {
            let p = promote(&c, 4, o);
            assert!(!p.contains(&1) && !p.contains(&3), "{o:?}: {p:?}");
            assert_eq!(unranked(&c, o), vec![1, 3], "{o:?}");
        }
    }

    #[test]
    fn accuracy_keeps_the_top_by_validation_accuracy_ties_to_lower_energy() {
        let c = [
            cand("a", 0.80, 10.0),
            cand("b", 0.90, 50.0),
            cand("c", 0.85, 5.0),
            cand("d", 0.90, 20.0),
            cand("e", f64::NAN, 1.0),
        ];
        assert_eq!(promote(&c, 2, Objective::Accuracy), vec![3, 1]);
        assert_eq!(promote(&c, 9, Objective::Accuracy), vec![3, 1, 2, 0]);
        assert_eq!(promote(&c, 1, Objective::AccuracyPerJoule), vec![2]);
    }

    #[test]
    fn pareto_takes_the_front_first_and_its_ends_before_its_middle() {
        let c = [
            cand("cheap", 0.70, 1.0),
            cand("mid", 0.80, 5.0),
            cand("best", 0.90, 20.0),
            cand("dominated", 0.75, 30.0),
            cand("near-mid", 0.79, 5.5),
        ];
        // Front: cheap, mid, near-mid, best; ends (cheap, best) first, then the less crowded.
        let order = promote(&c, 5, Objective::Pareto);
        assert_eq!(&order[..2], &[0, 2]);
        assert_eq!(order[4], 3, "the dominated run comes last");
        assert_eq!(promote(&c, 2, Objective::Pareto), vec![0, 2]);
    }

    #[test]
    fn keep_count_and_next_rung() {
        assert_eq!(
            (keep_count(16, 3), keep_count(5, 3), keep_count(2, 3)),
            (5, 1, 1)
        );
        let mut s = crate::spec::tests::spec();
        s.epochs = 1;
        let n = next_rung(&s, "abc", 3);
        assert_eq!((n.epochs, n.first_epoch()), (3, 2));
        assert_ne!(n.run_id(), s.run_id());
    }

    #[test]
    fn random_draws_are_deterministic_distinct_and_in_grid_order() {
        let grid: Vec<RunSpec> = (0..10)
            .map(|b| {
                let mut s = crate::spec::tests::spec();
                s.batch_size = 8 + b;
                s
            })
            .collect();
        let a = sample(grid.clone(), 4, 7, None);
        assert_eq!(a, sample(grid.clone(), 4, 7, None));
        assert_ne!(a, sample(grid.clone(), 4, 8, None));
        assert!(a.windows(2).all(|w| w[0].batch_size < w[1].batch_size));
        assert_eq!(sample(grid.clone(), 50, 7, None).len(), 10);
        let lr = sample(grid, 30, 1, Some([1e-3, 1e-1]));
        assert_eq!(lr.len(), 30);
        assert!(lr.iter().all(|s| (1e-3..1e-1).contains(&s.lr)));
        let below = lr.iter().filter(|s| s.lr < 1e-2).count();
        assert!(
            (8..=22).contains(&below),
            "log-uniform: about half below 1e-2, got {below}"
        );
    }
}
