//! IDX files (the MNIST family format), gzipped or raw.
//!
//! Layout: two zero bytes, a type byte (only 0x08, unsigned byte, is supported), the number of
//! dimensions, then one big-endian u32 per dimension, then the data.

use std::path::Path;

use crate::error::{read_maybe_gz, DataError};

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idx {
    /// Dimensions, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// Row-major data, `dims.iter().product()` bytes.
    pub data: Vec<u8>,
}

/// Reads an IDX file (gunzipped on the fly when it starts with the gzip magic).
pub fn read_idx(path: &Path) -> Result<Idx, DataError> {
    let bytes = read_maybe_gz(path)?;
    parse_idx(&bytes, path)
}

/// Parses IDX bytes; `file` only names the file in errors.
pub fn parse_idx(bytes: &[u8], file: &Path) -> Result<Idx, DataError> {
    let expected_magic = "magic 00 00 08 0N (IDX of unsigned bytes, N = 1..4 dimensions)";
    if bytes.len() < 4 {
        return Err(DataError::format(
            file,
            "truncated IDX header",
            "at least 4 header bytes",
            format!("{} bytes", bytes.len()),
        ));
    }
    let ndims = bytes[3] as usize;
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || !(1..=4).contains(&ndims) {
        return Err(DataError::format(
            file,
            "wrong magic number",
            expected_magic,
            format!(
                "{:02x} {:02x} {:02x} {:02x}",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(DataError::format(
            file,
            "truncated IDX header",
            format!("{header} header bytes for {ndims} dimensions"),
            format!("{} bytes", bytes.len()),
        ));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let shape = dims
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("×");
    let n = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| {
            DataError::format(
                file,
                "impossible IDX dimensions",
                "a size that fits in memory",
                shape.clone(),
            )
        })?;
    let found = bytes.len() - header;
    if found != n {
        let problem = if found < n {
            "truncated IDX data"
        } else {
            "IDX file longer than its header says"
        };
        return Err(DataError::format(
            file,
            problem,
            format!(
                "{n} data bytes for dimensions {shape} ({} bytes in all)",
                header + n
            ),
            format!("{found} data bytes ({} bytes in all)", bytes.len()),
        ));
    }
    Ok(Idx {
        dims,
        data: bytes[header..].to_vec(),
    })
}

/// Encodes an IDX array of unsigned bytes (for tests and tools).
pub fn encode_idx(dims: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for &d in dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Images and labels read from a pair of IDX files, checked against each other.
#[derive(Debug, Clone)]
pub struct IdxImages {
    /// `len × height × width` bytes.
    pub pixels: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u8>,
    /// Number of images.
    pub len: usize,
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
}

/// Reads an images file (3 dimensions) and a labels file (1 dimension) with the same count and
/// labels below `classes`.
pub fn read_idx_images(
    images: &Path,
    labels: &Path,
    classes: usize,
) -> Result<IdxImages, DataError> {
    let img = read_idx(images)?;
    if img.dims.len() != 3 {
        return Err(DataError::format(
            images,
            "not an IDX image file",
            "3 dimensions (count × height × width)",
            format!("{} dimensions", img.dims.len()),
        ));
    }
    let lab = read_idx(labels)?;
    if lab.dims.len() != 1 {
        return Err(DataError::format(
            labels,
            "not an IDX label file",
            "1 dimension (count)",
            format!("{} dimensions", lab.dims.len()),
        ));
    }
    if lab.dims[0] != img.dims[0] {
        return Err(DataError::format(
            labels,
            "label count differs from the image count",
            format!(
                "{} labels (as many as images in {})",
                img.dims[0],
                images.display()
            ),
            format!("{} labels", lab.dims[0]),
        ));
    }
    if let Some((i, &l)) = lab
        .data
        .iter()
        .enumerate()
        .find(|(_, &l)| l as usize >= classes)
    {
        return Err(DataError::format(
            labels,
            format!("label {i} out of range"),
            format!("labels 0..{}", classes - 1),
            l.to_string(),
        ));
    }
    Ok(IdxImages {
        pixels: img.data,
        labels: lab.data,
        len: img.dims[0],
        height: img.dims[1],
        width: img.dims[2],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let bytes = encode_idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        let idx = parse_idx(&bytes, Path::new("x")).unwrap();
        assert_eq!(idx.dims, vec![2, 3]);
        assert_eq!(idx.data, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn wrong_magic_and_truncation() {
        let mut bytes = encode_idx(&[2, 3], &[1, 2, 3, 4, 5, 6]);
        bytes[2] = 0x0d; // float type
        let e = parse_idx(&bytes, Path::new("f.idx"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("wrong magic") && e.contains("00 00 0d 02"),
            "{e}"
        );
        let bytes = encode_idx(&[2, 3], &[1, 2, 3]);
        let e = parse_idx(&bytes, Path::new("f.idx"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("truncated") && e.contains("expected 6 data bytes") && e.contains("found 3"),
            "{e}"
        );
        let e = parse_idx(&[0, 0], Path::new("f.idx"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("truncated IDX header"), "{e}");
        let e = parse_idx(&[0, 0, 8, 3, 0, 0], Path::new("f.idx"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("16 header bytes"), "{e}");
    }

    #[test]
    fn overflowing_dims_do_not_panic() {
        let bytes = encode_idx(
            &[u32::MAX as usize, u32::MAX as usize, u32::MAX as usize],
            &[],
        );
        assert!(parse_idx(&bytes, Path::new("f.idx")).is_err());
    }
}
