//! A [`Table`] as an HTML table: a header row and one row per table row, text escaped, marked
//! cells in bold.

use super::{flagged, plain_text, shown, Table};
use crate::export::html::escape;

/// The table element with id `id`; it ends in a newline.
pub fn render(t: &Table, id: &str) -> String {
    let cols: Vec<usize> = shown(t, false).map(|(j, _)| j).collect();
    let mut s = format!("<table id={id}><thead><tr>");
    for &j in &cols {
        s.push_str(&format!("<th>{}</th>", escape(&t.columns[j].header)));
    }
    s.push_str("</tr></thead><tbody>\n");
    for row in &t.rows {
        s.push_str("<tr>");
        for &j in &cols {
            let text = escape(&plain_text(&row[j]));
            if flagged(&row[j]) {
                s.push_str(&format!("<td><b>{text}</b></td>"));
            } else {
                s.push_str(&format!("<td>{text}</td>"));
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>\n");
    s
}
