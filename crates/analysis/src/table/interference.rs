//! The table of runs flagged `interference`: what else the machine did during each (the other
//! processes' share of the machine, hypervisor steal, load average), for report.md and
//! report.html alike.

use greenbench_core::RunRecord;
use greenbench_core::INTERFERENCE_FIELD as INTERFERENCE;

use super::{Cell, Column, ColumnKind, Digits, Table};

/// The records flagged `interference`, in file order.
pub fn flagged(records: &[RunRecord]) -> Vec<&RunRecord> {
    records
        .iter()
        .filter(|r| r.is_flagged(INTERFERENCE))
        .collect()
}

/// One row per flagged run: id, model, batch, repeat, others' share (%), steal (%), load.
pub fn build(runs: &[&RunRecord]) -> Table {
    let num = |h: &str, latex: &str| Column::new(h, latex, ColumnKind::Number);
    let pct = |v: Option<f64>| Cell::number(v.map(|s| s * 100.0), Digits::Decimals(1));
    let columns = vec![
        Column::new("run", "run", ColumnKind::Text),
        Column::new("model", "model", ColumnKind::Text),
        num("batch", "batch"),
        num("repeat", "repeat"),
        num("others' share (%)", "others' share (\\si{\\percent})"),
        num("steal (%)", "steal (\\si{\\percent})"),
        num("load (1 min)", "load (1 min)"),
    ];
    let rows = runs
        .iter()
        .map(|r| {
            let i = r.interference.as_ref();
            vec![
                Cell::text(r.run_id.clone()),
                Cell::text(r.spec.model.clone()),
                Cell::number(Some(r.spec.batch_size as f64), Digits::Exact),
                Cell::number(Some(r.spec.repeat as f64), Digits::Exact),
                pct(i.map(|i| i.others_share)),
                pct(i.and_then(|i| i.steal_share)),
                Cell::number(i.and_then(|i| i.load_avg_1m), Digits::Decimals(2)),
            ]
        })
        .collect();
    Table { columns, rows }
}
