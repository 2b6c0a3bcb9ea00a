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
    let dims = parse_header(bytes, file)?;
    let header = 4 + 4 * dims.len();
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

/// The dimensions in an IDX header (magic, then one big-endian u32 per dimension); `bytes` holds
/// at least the whole header when this succeeds.
fn parse_header(bytes: &[u8], file: &Path) -> Result<Vec<usize>, DataError> {
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
            "magic 00 00 08 0N (IDX of unsigned bytes, N = 1..4 dimensions)",
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
    Ok(bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect())
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
    /// `images × height × width` bytes.
    pub pixels: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u8>,
    /// Image height.
    pub height: usize,
    /// Image width.
    pub width: usize,
}

/// Reads an IDX file that must have `rank` dimensions (`what`: "image" or "label" file;
/// `expected` says the dimensions in words).
fn read_idx_with_rank(
    path: &Path,
    rank: usize,
    what: &str,
    expected: &str,
) -> Result<Idx, DataError> {
    let idx = read_idx(path)?;
    if idx.dims.len() != rank {
        return Err(DataError::format(
            path,
            format!("not an IDX {what} file"),
            expected,
            format!("{} dimensions", idx.dims.len()),
        ));
    }
    Ok(idx)
}

/// Reads an images file (3 dimensions) and a labels file (1 dimension) with the same count and
/// labels below `classes`.
pub fn read_idx_images(
    images: &Path,
    labels: &Path,
    classes: usize,
) -> Result<IdxImages, DataError> {
    let img = read_idx_with_rank(images, 3, "image", "3 dimensions (count × height × width)")?;
    let lab = read_idx_with_rank(labels, 1, "label", "1 dimension (count)")?;
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
    fn header_dimensions_are_big_endian() {
        let bytes = encode_idx(&[70_000, 28, 1], &[]);
        assert_eq!(
            parse_header(&bytes, Path::new("h")).unwrap(),
            vec![70_000, 28, 1]
        );
        assert!(parse_header(&[0, 0, 8, 5], Path::new("h")).is_err());
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
