//! The order a sweep runs its runs in (`order = "interleaved" | "shuffled" | "grid"`): a
//! permutation of the expanded runs that changes no run id, and is the same on every machine,
//! shard and resume (it depends on the config alone).

use std::collections::BTreeMap;

use crate::choices::RunOrder;
use crate::rng::{shuffle, SplitMix64};
use crate::spec::RunSpec;

/// Mixed into the sweep's seed for the shuffle, so the run order is not the same stream of
/// numbers as a random search's draw from the same seed.
const ORDER_STREAM: u64 = 0x6f72_6465_725f_7631; // "order_v1"

/// `runs` (in expansion order) in the order `order` asks for. `interleaved` and `shuffled` run in
/// rounds: round k holds every configuration's k-th sample, where a configuration's samples are
/// its seeds and repeats (seed 0 repeat 0, seed 0 repeat 1, …, seed 1 repeat 0, …), as the report
/// pools them. So three seeds with `repeats = 1` interleave just as one seed with `repeats = 3`.
/// `shuffled` permutes each round with its own draw from `seed`; `grid` leaves the runs as they
/// are.
pub(super) fn arrange(runs: Vec<RunSpec>, order: RunOrder, seed: u64) -> Vec<RunSpec> {
    if order == RunOrder::Grid {
        return runs;
    }
    // Each seed's rank among the grid's seeds, in the order they first appear.
    let mut seeds: Vec<u64> = Vec::new();
    for spec in &runs {
        if !seeds.contains(&spec.seed) {
            seeds.push(spec.seed);
        }
    }
    let mut rounds: BTreeMap<(usize, usize), Vec<RunSpec>> = BTreeMap::new();
    for spec in runs {
        let rank = seeds.iter().position(|&s| s == spec.seed).unwrap_or(0);
        rounds.entry((rank, spec.repeat)).or_default().push(spec);
    }
    let mut rounds: Vec<Vec<RunSpec>> = rounds.into_values().collect();
    if order == RunOrder::Shuffled {
        for (r, round) in rounds.iter_mut().enumerate() {
            let mut rng = SplitMix64::new(seed ^ ORDER_STREAM ^ (r as u64).rotate_left(32));
            shuffle(round, &mut rng);
        }
    }
    rounds.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SweepConfig;

    fn config(extra: &str) -> SweepConfig {
        let text = format!(
            "name = \"t\"\ndataset = \"d\"\nbatch_size = 8\nmodel = [\"a\", \"b\", \"c\"]\nrepeats = 3\n{extra}"
        );
        SweepConfig::parse(&text, std::path::Path::new("t.toml")).unwrap()
    }

    fn order(runs: &[RunSpec]) -> Vec<(String, usize)> {
        runs.iter().map(|s| (s.model.clone(), s.repeat)).collect()
    }

    #[test]
    fn interleaved_is_the_default_and_runs_every_configuration_before_the_next_repeat() {
        let got = order(&config("").expand());
        let want: Vec<(String, usize)> = (0..3)
            .flat_map(|r| ["a", "b", "c"].map(|m| (m.to_string(), r)))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn interleaved_takes_seeds_as_samples_of_a_configuration_like_repeats() {
        let text = "name = \"t\"\ndataset = \"d\"\nbatch_size = 8\nmodel = [\"a\", \"b\"]\nseed = [5, 1]\nrepeats = 2\n";
        let runs = SweepConfig::parse(text, std::path::Path::new("t.toml"))
            .unwrap()
            .expand();
        let got: Vec<(String, u64, usize)> = runs
            .iter()
            .map(|s| (s.model.clone(), s.seed, s.repeat))
            .collect();
        let mut want = Vec::new();
        for (seed, repeat) in [(5, 0), (5, 1), (1, 0), (1, 1)] {
            for m in ["a", "b"] {
                want.push((m.to_string(), seed, repeat));
            }
        }
        assert_eq!(got, want);
    }

    #[test]
    fn grid_keeps_the_repeats_of_a_configuration_in_a_row() {
        let got = order(&config("order = \"grid\"").expand());
        let want: Vec<(String, usize)> = ["a", "b", "c"]
            .iter()
            .flat_map(|m| (0..3).map(move |r| (m.to_string(), r)))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn shuffled_is_deterministic_per_seed_and_keeps_the_rounds_of_repeats() {
        let big = "order = \"shuffled\"\nlr = [0.1, 0.2, 0.3, 0.4]";
        let a = config(big).expand();
        assert_eq!(
            order(&a),
            order(&config(big).expand()),
            "same seed, same order"
        );
        let other = config(&format!("{big}\nseed = 7")).expand();
        let strip = |runs: &[RunSpec]| -> Vec<(String, u64, usize)> {
            runs.iter()
                .map(|s| (s.model.clone(), s.lr.to_bits(), s.repeat))
                .collect()
        };
        assert_ne!(strip(&a), strip(&other), "another seed, another order");
        let grid = config("order = \"grid\"\nlr = [0.1, 0.2, 0.3, 0.4]").expand();
        assert_ne!(strip(&a), strip(&grid), "shuffled");
        // Each block of 12 runs is one round of repeats, holding every configuration once.
        for (r, block) in a.chunks(12).enumerate() {
            assert!(block.iter().all(|s| s.repeat == r));
            let mut configs: Vec<_> = block.iter().map(|s| (&s.model, s.lr.to_bits())).collect();
            configs.sort();
            configs.dedup();
            assert_eq!(configs.len(), 12);
        }
    }

    #[test]
    fn the_order_changes_neither_the_run_ids_nor_the_fingerprint() {
        let ids = |c: &SweepConfig| {
            let mut v: Vec<String> = c.expand().iter().map(RunSpec::run_id).collect();
            v.sort();
            v
        };
        let grid = config("order = \"grid\"");
        for o in ["interleaved", "shuffled"] {
            let c = config(&format!("order = \"{o}\""));
            assert_eq!(ids(&c), ids(&grid), "{o}");
            assert_eq!(c.fingerprint(), grid.fingerprint(), "{o}");
        }
    }

    #[test]
    fn an_unknown_order_is_a_located_error_listing_the_accepted_names() {
        let text =
            "name = \"t\"\ndataset = \"d\"\nbatch_size = 8\nmodel = \"a\"\norder = \"random\"\n";
        let e = SweepConfig::parse(text, std::path::Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown run order `random`"), "{e}");
        assert!(e.contains("interleaved, shuffled, grid"), "{e}");
        assert!(e.contains("t.toml:5"), "{e}");
    }
}
