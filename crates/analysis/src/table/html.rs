//! A [`Table`] as an HTML table: a header row and one row per table row, text escaped, marked
//! cells in bold.

use super::{flagged, plain_text, shown, Table};

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

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}
