//! A [`Table`] as a Markdown (GitHub) table: a header row, a divider that right-aligns number
//! columns, and one row per table row; marked cells in bold.

use super::{flagged, plain_text, shown, ColumnKind, Table};

/// The table's lines (header, divider, rows), each ending in a newline.
pub fn render(t: &Table) -> String {
    let cols: Vec<usize> = shown(t, false).map(|(j, _)| j).collect();
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut s = line(cols.iter().map(|&j| t.columns[j].header.clone()).collect());
    let divider: Vec<&str> = cols
        .iter()
        .map(|&j| match t.columns[j].kind {
            ColumnKind::Number => "---:",
            ColumnKind::Text | ColumnKind::Estimate => "---",
        })
        .collect();
    s.push_str(&format!("|{}|\n", divider.join("|")));
    for row in &t.rows {
        s.push_str(&line(
            cols.iter()
                .map(|&j| {
                    let text = plain_text(&row[j]);
                    if flagged(&row[j]) {
                        format!("**{text}**")
                    } else {
                        text
                    }
                })
                .collect(),
        ));
    }
    s
}
