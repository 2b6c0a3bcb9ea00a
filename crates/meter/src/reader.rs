//! Reading small kernel files (sysfs, procfs) without allocating, behind a trait so tests can
//! inject errors (tests run as root, and root reads any file, so EACCES cannot be produced with
//! `chmod`).

use std::io::Read;
use std::path::Path;

/// Reads a small file into a caller-provided buffer.
pub trait FileReader: Send + Sync {
    /// Reads at most `buf.len()` bytes of `path` from its start; returns the count.
    fn read(&self, path: &Path, buf: &mut [u8]) -> std::io::Result<usize>;
}

/// The real file system. `File::open` of a short path does not allocate.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsReader;

impl FileReader for FsReader {
    fn read(&self, path: &Path, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut f = std::fs::File::open(path)?;
        let mut n = 0;
        while n < buf.len() {
            let k = f.read(&mut buf[n..])?;
            if k == 0 {
                break;
            }
            n += k;
        }
        Ok(n)
    }
}

/// Parses the first whitespace-delimited token of `bytes` as a `u64`.
pub fn parse_u64(bytes: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(bytes).ok()?;
    s.split_ascii_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sysfs_numbers() {
        assert_eq!(parse_u64(b"123456\n"), Some(123456));
        assert_eq!(parse_u64(b"  7 8"), Some(7));
        assert_eq!(parse_u64(b"-1\n"), None);
        assert_eq!(parse_u64(b""), None);
    }
}
