//! Checks of the grid a config expands to: no value repeated in an axis, no two runs with one run
//! id (the records would hold two results for one id), and every `[[exclude]]` table removing
//! some runs while the tables together leave at least one.

use std::collections::hash_map::{Entry, HashMap};

use serde_json::Value;

use super::expand::has_value;
use super::raw::line_col;
use super::schema::{axis_values, Point};
use super::{PendingError, Strategy, SweepConfig};
use crate::compact_number::compact_number;
use crate::spec::RunSpec;

/// A value as a person reads it: text bare, numbers compact, a dataset table as `{ k = v, … }`
/// without its unset keys (just its name when it has no other).
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => compact_number(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::Object(m) => {
            let set: Vec<(&String, &Value)> = m.iter().filter(|(_, v)| !v.is_null()).collect();
            match set.as_slice() {
                [(k, v)] if k.as_str() == "name" => shown(v),
                _ => {
                    let kv: Vec<String> = set
                        .iter()
                        .map(|(k, v)| match v {
                            Value::String(s) => format!("{k} = \"{s}\""),
                            _ => format!("{k} = {}", shown(v)),
                        })
                        .collect();
                    format!("{{ {} }}", kv.join(", "))
                }
            }
        }
        other => other.to_string(),
    }
}

impl SweepConfig {
    /// Pushes an error for each value written more than once in one axis (`lr = [0.05, 0.05]`,
    /// also `[0.05, 5e-2]`): its runs would be the same runs, under one run id.
    pub(super) fn check_repeated_values(&self, errs: &mut Vec<PendingError>) {
        for ax in self.axes_in_order() {
            let mut counts: Vec<(String, &Value, usize)> = Vec::new();
            for v in &ax.values {
                let key = v.to_string();
                match counts.iter_mut().find(|(k, _, _)| *k == key) {
                    Some(c) => c.2 += 1,
                    None => counts.push((key, v, 1)),
                }
            }
            for (_, v, n) in counts.into_iter().filter(|c| c.2 > 1) {
                let times = if n == 2 {
                    "twice".to_string()
                } else {
                    format!("{n} times")
                };
                errs.push((
                    ax.field.to_string(),
                    ax.span.clone(),
                    format!(
                        "{} is given {times}: its runs would be the same runs, under one run id",
                        shown(v)
                    ),
                    Some(format!(
                        "give each {} once; to run a configuration more than once, set `repeats`",
                        ax.name
                    )),
                ));
            }
        }
    }

    /// Walks the grid once: pushes an error for two runs with one run id (located at the first
    /// axis whose values differ between them), for an `[[exclude]]` table that matches no run,
    /// and for tables that together remove every run; then, for a search, for a run it would
    /// draw twice.
    pub(super) fn check_grid(&self, errs: &mut Vec<PendingError>) {
        let axes = self.axes_in_order();
        let mut table_hits = vec![0usize; self.exclude.len()];
        let mut key_hits: Vec<Vec<bool>> = self
            .exclude
            .iter()
            .map(|(t, _)| vec![false; t.len()])
            .collect();
        let mut ids: HashMap<String, Point> = HashMap::new();
        let mut reported = vec![false; axes.len()];
        let (mut total, mut kept) = (0usize, 0usize);
        for (point, spec) in self.grid_points() {
            total += 1;
            let mut excluded = false;
            if !self.exclude.is_empty() {
                let fields = axis_values(&spec);
                for (t, (table, _)) in self.exclude.iter().enumerate() {
                    let mut all = !table.is_empty();
                    for (j, (k, v)) in table.iter().enumerate() {
                        let hit = has_value(&fields, k, v);
                        key_hits[t][j] |= hit;
                        all &= hit;
                    }
                    if all {
                        table_hits[t] += 1;
                        excluded = true;
                    }
                }
            }
            if excluded {
                continue;
            }
            kept += 1;
            let first = match ids.entry(spec.run_id()) {
                Entry::Vacant(e) => {
                    e.insert(point);
                    continue;
                }
                Entry::Occupied(e) => e,
            };
            let Some(k) =
                (0..axes.len()).find(|&k| (axes[k].index)(first.get()) != (axes[k].index)(&point))
            else {
                continue;
            };
            let ax = &axes[k];
            let (Some(a), Some(b)) = (
                ax.values.get((ax.index)(first.get())),
                ax.values.get((ax.index)(&point)),
            ) else {
                continue;
            };
            if !std::mem::replace(&mut reported[k], true) {
                errs.push((
                    ax.field.to_string(),
                    ax.span.clone(),
                    format!(
                        "{} and {} give the same runs (run id {} for both): they differ only in \
                         how they are written",
                        shown(a),
                        shown(b),
                        first.key()
                    ),
                    Some(format!("keep one of the two {} values", ax.name)),
                ));
            }
        }
        self.check_exclude_effect(&table_hits, &key_hits, total, kept, errs);
        if errs.is_empty() && self.search.strategy != Strategy::Grid {
            self.check_search_draws(errs);
        }
    }

    /// Errors for `[[exclude]]` tables from what each matched: none (a value no run has, or
    /// values no run has together), or all of the grid between them.
    fn check_exclude_effect(
        &self,
        table_hits: &[usize],
        key_hits: &[Vec<bool>],
        total: usize,
        kept: usize,
        errs: &mut Vec<PendingError>,
    ) {
        let axes = self.axes_in_order();
        for (t, (table, span)) in self.exclude.iter().enumerate() {
            if table_hits[t] > 0 || table.is_empty() {
                continue;
            }
            let written = |(k, v): (&String, &toml::Value)| format!("{k} = {v}");
            let missing = table
                .iter()
                .zip(&key_hits[t])
                .find(|(_, hit)| !**hit)
                .map(|(kv, _)| kv);
            let why = match missing {
                Some((k, v)) => match axes.iter().find(|a| a.name == k.as_str()) {
                    Some(a) if a.values.is_empty() => format!(
                        "`{}`: `{k}` is not set, so no run has a value for it",
                        written((k, v))
                    ),
                    Some(a) => format!(
                        "`{}`: the grid's {k} values are {}",
                        written((k, v)),
                        a.values.iter().map(shown).collect::<Vec<_>>().join(", ")
                    ),
                    None => format!("`{}`", written((k, v))),
                },
                None => format!(
                    "no run has `{}` together",
                    table.iter().map(written).collect::<Vec<_>>().join("`, `")
                ),
            };
            errs.push((
                "exclude".into(),
                Some(span.clone()),
                format!("this [[exclude]] table matches no run: {why}"),
                Some("fix the value (a typo?), or remove the table".into()),
            ));
        }
        if total == 0 || kept > 0 {
            return;
        }
        let hint = Some(
            "a sweep with no runs would write nothing: remove a table or name fewer values".into(),
        );
        if let Some(t) = table_hits.iter().position(|&n| n == total) {
            errs.push((
                "exclude".into(),
                Some(self.exclude[t].1.clone()),
                format!("this [[exclude]] table removes every run of the grid ({total})"),
                hint,
            ));
            return;
        }
        let used: Vec<usize> = (0..self.exclude.len())
            .filter(|&t| table_hits[t] > 0)
            .collect();
        let lines: Vec<String> = used
            .iter()
            .map(|&t| line_col(&self.text, self.exclude[t].1.start).0.to_string())
            .collect();
        errs.push((
            "exclude".into(),
            used.first().map(|&t| self.exclude[t].1.clone()),
            format!(
                "the [[exclude]] tables at lines {} remove all {total} runs of the grid",
                lines.join(", ")
            ),
            hint,
        ));
    }

    /// A search that would start the same run twice (a random search whose `lr_range` is too
    /// narrow to draw distinct rates).
    fn check_search_draws(&self, errs: &mut Vec<PendingError>) {
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = self
            .expand()
            .iter()
            .map(RunSpec::run_id)
            .find(|id| !seen.insert(id.clone()))
        {
            errs.push((
                "search".into(),
                self.search_span.clone(),
                format!(
                    "the search would start run {dup} twice (two draws with the same settings)"
                ),
                Some("widen `lr_range`, or draw fewer `samples`".into()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_as_written() {
        let v = |j: &str| serde_json::from_str::<Value>(j).unwrap();
        assert_eq!(shown(&v("\"mlp-small\"")), "mlp-small");
        assert_eq!(shown(&v("0.05")), "0.05");
        assert_eq!(shown(&v("1e300")), "1e300");
        assert_eq!(shown(&v("64")), "64");
        assert_eq!(shown(&v(r#"{"name":"digits","path":null}"#)), "digits");
        assert_eq!(
            shown(&v(r#"{"name":"digits","validation":0.1,"subset":null}"#)),
            "{ name = \"digits\", validation = 0.1 }"
        );
    }
}
