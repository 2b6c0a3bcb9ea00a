//! A small PDF reader for tests: page size, embedded fonts, and the text drawn with text
//! operators (decoded through the fonts' ToUnicode maps), enough to check that a figure's text is
//! searchable text and not outlines.

use std::collections::HashMap;
use std::io::Read;

/// What a test needs to know about a PDF.
pub struct PdfFacts {
    /// `/MediaBox` width and height in points (first page).
    pub page_pt: (f64, f64),
    /// Embedded TrueType font programs (`/FontFile2`).
    pub font_files: usize,
    /// Text shown by `Tj`/`TJ`, decoded through ToUnicode, all content streams joined.
    pub text: String,
    /// Smallest text size in points.
    pub min_font_pt: Option<f64>,
}

/// Every stream's bytes, inflated when `/FlateDecode`.
fn streams(b: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(p) = find(&b[i..], b"stream") {
        let start = i + p;
        // Skip "endstream" and make sure this is a stream keyword after a dictionary.
        if start >= 3 && &b[start - 3..start] == b"end" {
            i = start + 6;
            continue;
        }
        let dict_start = rfind(&b[..start], b"<<").unwrap_or(0);
        let dict = &b[dict_start..start];
        let mut data_start = start + 6;
        if b.get(data_start) == Some(&b'\r') {
            data_start += 1;
        }
        if b.get(data_start) == Some(&b'\n') {
            data_start += 1;
        }
        let Some(end) = find(&b[data_start..], b"endstream") else {
            break;
        };
        let raw = &b[data_start..data_start + end];
        let data = if find(dict, b"/FlateDecode").is_some() {
            let mut d = Vec::new();
            let _ = flate2::read::ZlibDecoder::new(raw).read_to_end(&mut d);
            d
        } else {
            raw.to_vec()
        };
        out.push(data);
        i = data_start + end + 9;
    }
    out
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

fn rfind(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).rposition(|w| w == n)
}

fn hex(s: &str) -> Option<u32> {
    u32::from_str_radix(s, 16).ok()
}

/// Glyph code → text from every ToUnicode CMap (bfchar and bfrange entries).
fn to_unicode(streams: &[Vec<u8>]) -> HashMap<u32, String> {
    let mut map = HashMap::new();
    for s in streams {
        let t = String::from_utf8_lossy(s);
        if !t.contains("begincmap") {
            continue;
        }
        for block in t.split("beginbfchar").skip(1) {
            let body = block.split("endbfchar").next().unwrap_or("");
            let toks: Vec<&str> = body
                .split(['<', '>'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect();
            for pair in toks.chunks(2) {
                if let [code, uni] = pair {
                    if let (Some(c), Some(u)) = (hex(code), decode_utf16_hex(uni)) {
                        map.insert(c, u);
                    }
                }
            }
        }
        for block in t.split("beginbfrange").skip(1) {
            let body = block.split("endbfrange").next().unwrap_or("");
            let toks: Vec<&str> = body
                .split(['<', '>'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect();
            for tri in toks.chunks(3) {
                if let [lo, hi, start] = tri {
                    if let (Some(lo), Some(hi), Some(st)) = (hex(lo), hex(hi), hex(start)) {
                        for c in lo..=hi {
                            if let Some(ch) = char::from_u32(st + c - lo) {
                                map.insert(c, ch.to_string());
                            }
                        }
                    }
                }
            }
        }
    }
    map
}

fn decode_utf16_hex(s: &str) -> Option<String> {
    let units: Vec<u16> = (0..s.len() / 4)
        .filter_map(|i| u16::from_str_radix(&s[i * 4..i * 4 + 4], 16).ok())
        .collect();
    String::from_utf16(&units).ok()
}

/// The bytes of the strings in a text-showing line: literal `(…)` (with backslash escapes) and
/// hex `<…>` strings.
fn string_bytes(line: &str) -> Vec<u8> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'(' => {
                i += 1;
                while i < b.len() && b[i] != b')' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                        match b[i] {
                            b'n' => out.push(b'\n'),
                            b'r' => out.push(b'\r'),
                            b't' => out.push(b'\t'),
                            b'b' => out.push(8),
                            b'f' => out.push(12),
                            d @ b'0'..=b'7' => {
                                let mut v = (d - b'0') as u32;
                                let mut k = 1;
                                while k < 3 && i + 1 < b.len() && (b'0'..=b'7').contains(&b[i + 1])
                                {
                                    i += 1;
                                    v = v * 8 + (b[i] - b'0') as u32;
                                    k += 1;
                                }
                                out.push(v as u8);
                            }
                            c => out.push(c),
                        }
                    } else {
                        out.push(b[i]);
                    }
                    i += 1;
                }
            }
            b'<' => {
                let end = line[i..].find('>').map_or(b.len(), |e| i + e);
                let h = &line[i + 1..end];
                for k in 0..h.len() / 2 {
                    if let Ok(v) = u8::from_str_radix(&h[k * 2..k * 2 + 2], 16) {
                        out.push(v);
                    }
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Text shown by `Tj`/`TJ` in a content stream, decoded with `map` (2-byte codes, as
/// Identity-H fonts use).
fn shown_text(content: &str, map: &HashMap<u32, String>) -> String {
    let mut out = String::new();
    for line in content.lines() {
        let line = line.trim();
        if !(line.ends_with("Tj") || line.ends_with("TJ")) {
            continue;
        }
        let bytes = string_bytes(line);
        for pair in bytes.chunks(2) {
            if let [hi, lo] = pair {
                let code = (*hi as u32) << 8 | *lo as u32;
                out.push_str(map.get(&code).map_or("?", |s| s.as_str()));
            }
        }
    }
    out
}

/// Smallest font size in points: each `Tf` size times the scale of the page's first `cm`
/// (svg2pdf draws everything under one scaling matrix from pixels to points).
fn min_font_pt(content: &str) -> Option<f64> {
    let scale: f64 = content
        .lines()
        .find(|l| l.trim_end().ends_with(" cm"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())?;
    content
        .lines()
        .filter(|l| l.trim_end().ends_with(" Tf"))
        .filter_map(|l| l.split_whitespace().rev().nth(1))
        .filter_map(|v| v.parse::<f64>().ok())
        .map(|v| v * scale)
        .reduce(f64::min)
}

/// Reads the facts of a PDF file's bytes.
pub fn read(b: &[u8]) -> PdfFacts {
    assert!(b.starts_with(b"%PDF-"), "not a PDF");
    let text_all = String::from_utf8_lossy(b);
    let mb = text_all
        .split("/MediaBox")
        .nth(1)
        .and_then(|s| s.split('[').nth(1))
        .and_then(|s| s.split(']').next())
        .expect("no /MediaBox");
    let v: Vec<f64> = mb
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    assert_eq!(v.len(), 4, "MediaBox {mb}");
    let s = streams(b);
    let map = to_unicode(&s);
    let mut text = String::new();
    let mut min_pt: Option<f64> = None;
    for st in &s {
        let t = String::from_utf8_lossy(st);
        if t.contains("BT") && (t.contains("Tj") || t.contains("TJ")) {
            text.push_str(&shown_text(&t, &map));
            if let Some(m) = min_font_pt(&t) {
                min_pt = Some(min_pt.map_or(m, |x| x.min(m)));
            }
        }
    }
    PdfFacts {
        page_pt: (v[2] - v[0], v[3] - v[1]),
        font_files: text_all.matches("/FontFile2").count(),
        text,
        min_font_pt: min_pt,
    }
}
