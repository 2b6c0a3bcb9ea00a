//! CIFAR-10 binary batches: records of 1 label byte + 3 072 pixel bytes (R, G, B planes of 32×32).

use std::path::Path;

use crate::error::{read_file, DataError};

/// Image side.
pub const SIDE: usize = 32;
/// Pixel bytes per image (3 × 32 × 32).
pub const PIXELS: usize = 3 * SIDE * SIDE;
/// Bytes per record (label + pixels).
pub const RECORD: usize = 1 + PIXELS;
/// Every batch file a CIFAR-10 folder must hold: the five training batches, then the test batch.
pub const FILES: [&str; 6] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
    "test_batch.bin",
];
/// The five training batch file names.
pub const TRAIN_FILES: [&str; 5] = [FILES[0], FILES[1], FILES[2], FILES[3], FILES[4]];
/// The test batch file name.
pub const TEST_FILE: &str = FILES[5];

/// Images and labels of one or more batches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CifarImages {
    /// `len × 3072` bytes, channel-major per image.
    pub pixels: Vec<u8>,
    /// One label (0..9) per image.
    pub labels: Vec<u8>,
    /// Number of images.
    pub len: usize,
}

/// Reads one batch file.
pub fn read_cifar_batch(path: &Path) -> Result<CifarImages, DataError> {
    let bytes = read_file(path)?;
    parse_cifar_batch(&bytes, path)
}

/// Parses batch bytes; `file` only names the file in errors.
pub fn parse_cifar_batch(bytes: &[u8], file: &Path) -> Result<CifarImages, DataError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(RECORD) {
        return Err(DataError::format(
            file,
            if bytes.len() > RECORD { "truncated or padded CIFAR-10 batch" } else { "truncated CIFAR-10 batch" },
            format!(
                "a multiple of {RECORD} bytes (1 label + {PIXELS} pixels per image; a standard batch of 10000 images is {} bytes)",
                RECORD * 10_000
            ),
            format!("{} bytes ({} whole records + {} bytes)", bytes.len(), bytes.len() / RECORD, bytes.len() % RECORD),
        ));
    }
    let len = bytes.len() / RECORD;
    let mut pixels = Vec::with_capacity(len * PIXELS);
    let mut labels = Vec::with_capacity(len);
    for (i, rec) in bytes.chunks_exact(RECORD).enumerate() {
        if rec[0] > 9 {
            return Err(DataError::format(
                file,
                format!("bad label byte in record {i} (byte offset {})", i * RECORD),
                "a label 0..9 (is this the CIFAR-100 or the Python version?)",
                rec[0].to_string(),
            ));
        }
        labels.push(rec[0]);
        pixels.extend_from_slice(&rec[1..]);
    }
    Ok(CifarImages {
        pixels,
        labels,
        len,
    })
}

/// Reads several batch files and concatenates them.
pub fn read_cifar_batches(paths: &[&Path]) -> Result<CifarImages, DataError> {
    let mut all = CifarImages::default();
    for p in paths {
        let b = read_cifar_batch(p)?;
        all.pixels.extend_from_slice(&b.pixels);
        all.labels.extend_from_slice(&b.labels);
        all.len += b.len;
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records_and_rejects_bad_sizes_and_labels() {
        let mut bytes = vec![3u8];
        bytes.extend((0..PIXELS).map(|i| (i % 251) as u8));
        bytes.push(7);
        bytes.extend(std::iter::repeat_n(9u8, PIXELS));
        let c = parse_cifar_batch(&bytes, Path::new("b.bin")).unwrap();
        assert_eq!((c.len, c.labels.clone()), (2, vec![3, 7]));
        assert_eq!(c.pixels[1], 1);
        assert_eq!(c.pixels[PIXELS], 9);

        let e = parse_cifar_batch(&bytes[..RECORD + 10], Path::new("b.bin"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("b.bin") && e.contains("multiple of 3073") && e.contains("3083 bytes"),
            "{e}"
        );
        bytes[RECORD] = 42;
        let e = parse_cifar_batch(&bytes, Path::new("b.bin"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("record 1") && e.contains("found 42"), "{e}");
        assert!(parse_cifar_batch(&[], Path::new("b.bin")).is_err());
    }
}
