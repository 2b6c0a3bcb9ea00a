//! Figure 6: training energy vs batch size, one line per model (log-2 batch axis).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::scatter::{emit_scatter, Scatter, Series};
use super::{FigureError, FigureInput, FigureOutcome};
use crate::data;
use crate::groups::{Context, Spread};
use crate::AnalysisError;
use greenbench_core::RunRecord;

const MAX_LINES: usize = 20;

/// Marks a line whose learning rate is set per batch size (a scaling rule), in its context.
const LR_PER_BATCH: &str = "per batch size";

/// (model, context without batch size) → batch size → energies. A model's runs under one
/// context but for the learning rate form one line when each batch size ran with one learning
/// rate (a rate scaled with the batch, as in linear scaling); where one batch size ran with
/// several rates, each rate is its own line.
fn batch_lines(input: &FigureInput) -> BTreeMap<(String, Context), BTreeMap<usize, Vec<f64>>> {
    // Each run with its energy, its rate, and its group: (model, context without batch size or
    // rate).
    let runs: Vec<(&RunRecord, f64, String, (String, Context))> = input
        .ctx
        .runs
        .iter()
        .filter_map(|&r| {
            let e = input.ctx.basis.train_j(r).filter(|e| *e > 0.0)?;
            let mut ctx = Context::of(r);
            ctx.batch_size = 0;
            let lr = std::mem::take(&mut ctx.lr);
            Some((r, e, lr, (r.spec.model.clone(), ctx)))
        })
        .collect();
    // The rates each group ran at each batch size.
    let mut rates: BTreeMap<&(String, Context), BTreeMap<usize, BTreeSet<&str>>> = BTreeMap::new();
    for (r, _, lr, group) in &runs {
        rates
            .entry(group)
            .or_default()
            .entry(r.spec.batch_size)
            .or_default()
            .insert(lr);
    }
    // The groups whose rate is set per batch size: one rate at each, not the same at all.
    let scaled: BTreeSet<(String, Context)> = rates
        .into_iter()
        .filter(|(_, by_batch)| {
            let distinct: BTreeSet<&str> = by_batch.values().flatten().copied().collect();
            by_batch.values().all(|lrs| lrs.len() == 1) && distinct.len() > 1
        })
        .map(|(group, _)| group.clone())
        .collect();
    let mut lines: BTreeMap<(String, Context), BTreeMap<usize, Vec<f64>>> = BTreeMap::new();
    for (r, e, lr, group) in runs {
        let lr = if scaled.contains(&group) {
            LR_PER_BATCH.to_string()
        } else {
            lr
        };
        let (model, mut ctx) = group;
        ctx.lr = lr;
        lines
            .entry((model, ctx))
            .or_default()
            .entry(r.spec.batch_size)
            .or_default()
            .push(e);
    }
    lines
}

pub(super) fn prepare(input: &FigureInput) -> Result<Scatter, FigureError> {
    let multi: Vec<_> = batch_lines(input)
        .into_iter()
        .filter(|(_, b)| b.len() >= 2)
        .collect();
    if multi.is_empty() {
        return Err(FigureError::SingleBatchSize);
    }
    let models_with_many_ctx = {
        let mut m: BTreeMap<&str, usize> = BTreeMap::new();
        for ((model, _), _) in &multi {
            *m.entry(model).or_default() += 1;
        }
        m.into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(k, _)| k.to_string())
            .collect::<Vec<_>>()
    };
    let total = multi.len();
    let series = multi
        .iter()
        .take(MAX_LINES)
        .enumerate()
        .map(|(i, ((model, ctx), by_batch))| {
            let label = if models_with_many_ctx.contains(model) {
                format!("{model} (lr {}, {} ep)", ctx.lr, ctx.epochs)
            } else {
                model.clone()
            };
            let spreads: Vec<(f64, Spread)> = by_batch
                .iter()
                .filter_map(|(b, v)| Some((*b as f64, Spread::of(v)?.scaled(data::wh(1.0)))))
                .collect();
            Series {
                line: true,
                y_err: spreads.iter().map(|(_, s)| s.interval()).collect(),
                ..Series::nth(
                    i,
                    label,
                    spreads.iter().map(|(b, s)| (*b, s.mean)).collect(),
                )
            }
        })
        .collect();
    let mut ticks: Vec<f64> = multi
        .iter()
        .flat_map(|(_, b)| b.keys().map(|&k| k as f64))
        .collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    let ticks = spaced_log_ticks(&ticks, 0.1);
    let more = if total > MAX_LINES {
        format!(" (first {MAX_LINES} of {total} lines)")
    } else {
        String::new()
    };
    Ok(Scatter {
        title: format!("Training energy vs batch size{more}"),
        x_label: "batch size [samples] (log scale)".into(),
        y_label: input.energy_label("training"),
        x_log: true,
        y_log: true,
        series,
        x_ticks: Some(ticks),
        ..Default::default()
    })
}

/// The batch sizes to label on the log axis: the first, then each one at least `gap` of the
/// axis's log range after the last one kept, so labels never run together even at a single
/// column's width (the paper's 128, 160, 192, 224, 256 sit within a fifth of the axis).
fn spaced_log_ticks(sorted: &[f64], gap: f64) -> Vec<f64> {
    let (Some(&lo), Some(&hi)) = (sorted.first(), sorted.last()) else {
        return Vec::new();
    };
    let min_step = (hi / lo).ln() * gap;
    let mut kept: Vec<f64> = Vec::new();
    for &t in sorted {
        if kept.last().is_none_or(|&k| (t / k).ln() >= min_step) {
            kept.push(t);
        }
    }
    // The largest batch size is always labelled, in place of a kept one too close to it.
    if kept.last() != Some(&hi) {
        if kept.len() > 1 && kept.last().is_some_and(|&k| (hi / k).ln() < min_step) {
            kept.pop();
        }
        kept.push(hi);
    }
    kept
}

/// Writes `energy_vs_batch_size.png|svg`.
pub(crate) fn write(dir: &Path, input: &FigureInput) -> Result<FigureOutcome, AnalysisError> {
    emit_scatter(
        dir,
        input,
        "energy_vs_batch_size",
        "Energy vs batch size per model",
        (1100, 750),
        prepare(input),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_ticks_keep_room_for_their_labels() {
        let paper = [
            4.0, 8.0, 16.0, 32.0, 64.0, 96.0, 128.0, 160.0, 192.0, 224.0, 256.0,
        ];
        assert_eq!(
            spaced_log_ticks(&paper, 0.06),
            vec![4.0, 8.0, 16.0, 32.0, 64.0, 96.0, 128.0, 192.0, 256.0]
        );
        // What the figure uses: room for the labels at a single column's width too.
        assert_eq!(
            spaced_log_ticks(&paper, 0.1),
            vec![4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0]
        );
        assert_eq!(spaced_log_ticks(&[64.0, 256.0], 0.06), vec![64.0, 256.0]);
        assert!(spaced_log_ticks(&[], 0.06).is_empty());
    }
}
