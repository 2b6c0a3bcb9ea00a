//! The scikit-learn digits CSV (`digits.csv.gz`): per row 64 pixel values 0..16 (8×8) and a label 0..9.

use std::path::Path;

use crate::error::{read_maybe_gz, DataError};

/// Pixels per image (8 × 8).
pub const PIXELS: usize = 64;
/// Largest pixel value.
pub const MAX_VALUE: u8 = 16;

/// Images and labels of the digits CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitsCsv {
    /// `len × 64` values 0..16.
    pub pixels: Vec<u8>,
    /// One label 0..9 per image.
    pub labels: Vec<u8>,
    /// Number of images.
    pub len: usize,
}

/// Reads `digits.csv.gz` (or an uncompressed CSV).
pub fn read_digits_csv(path: &Path) -> Result<DigitsCsv, DataError> {
    let bytes = read_maybe_gz(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| {
        DataError::format(
            path,
            "not text",
            "a UTF-8 CSV",
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    parse_digits_csv(text, path)
}

/// Parses CSV text; `file` only names the file in errors. Values may be written `3` or `3.0`.
pub fn parse_digits_csv(text: &str, file: &Path) -> Result<DigitsCsv, DataError> {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let row = i + 1;
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != PIXELS + 1 {
            return Err(DataError::format(
                file,
                format!("line {row} has the wrong number of fields"),
                format!("{} comma-separated values (64 pixels + label)", PIXELS + 1),
                fields.len().to_string(),
            ));
        }
        for (j, f) in fields.iter().enumerate() {
            let max = if j == PIXELS { 9 } else { MAX_VALUE };
            let what = if j == PIXELS { "label" } else { "pixel" };
            let v = f
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= max as f64);
            match v {
                Some(v) if j == PIXELS => labels.push(v as u8),
                Some(v) => pixels.push(v as u8),
                None => {
                    return Err(DataError::format(
                        file,
                        format!("line {row}, field {}: bad {what}", j + 1),
                        format!("an integer 0..{max}"),
                        format!("`{f}`"),
                    ))
                }
            }
        }
    }
    if labels.is_empty() {
        return Err(DataError::format(
            file,
            "no data",
            "at least one row",
            "an empty file",
        ));
    }
    Ok(DigitsCsv {
        len: labels.len(),
        pixels,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: u8, label: u8) -> String {
        let mut s: Vec<String> = (0..PIXELS).map(|_| v.to_string()).collect();
        s.push(format!("{label}.0"));
        s.join(",")
    }

    #[test]
    fn parses_and_rejects() {
        let text = format!("{}\n{}\n", row(16, 3), row(0, 9));
        let d = parse_digits_csv(&text, Path::new("d.csv")).unwrap();
        assert_eq!(
            (d.len, d.labels.clone(), d.pixels[0], d.pixels[64]),
            (2, vec![3, 9], 16, 0)
        );
        let e = parse_digits_csv(&row(17, 1), Path::new("d.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1, field 1") && e.contains("0..16") && e.contains("`17`"),
            "{e}"
        );
        let e = parse_digits_csv("1,2,3", Path::new("d.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("65 comma-separated") && e.contains("found 3"),
            "{e}"
        );
        assert!(parse_digits_csv("", Path::new("d.csv")).is_err());
    }
}
