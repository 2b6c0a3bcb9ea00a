//! Fake powercap trees and small helpers shared by the behaviour tests.
#![allow(dead_code)]

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use greenbench_meter::{FileReader, FsReader};

/// A fake `/sys/class/powercap` in a temp dir.
pub struct FakePowercap {
    pub dir: tempfile::TempDir,
}

impl FakePowercap {
    pub fn new() -> Self {
        FakePowercap {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    pub fn root(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
    /// Adds a domain directory (e.g. "intel-rapl:0", name "package-0").
    pub fn domain(&self, entry: &str, name: &str, energy_uj: u64, max: Option<u64>) -> &Self {
        let p = self.dir.path().join(entry);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("name"), format!("{name}\n")).unwrap();
        std::fs::write(p.join("energy_uj"), format!("{energy_uj}\n")).unwrap();
        if let Some(m) = max {
            std::fs::write(p.join("max_energy_range_uj"), format!("{m}\n")).unwrap();
        }
        self
    }
    /// Sets a domain's counter atomically (write + rename), as sysfs reads are atomic.
    pub fn set(&self, entry: &str, energy_uj: u64) {
        let d = self.dir.path().join(entry);
        std::fs::write(d.join("energy_uj.tmp"), format!("{energy_uj}\n")).unwrap();
        std::fs::rename(d.join("energy_uj.tmp"), d.join("energy_uj")).unwrap();
    }
}

/// A reader that answers EACCES for `energy_uj` while `deny` is set (tests run as root, so
/// `chmod` cannot produce EACCES).
#[derive(Default)]
pub struct DenyingReader {
    pub deny: AtomicBool,
}

impl FileReader for DenyingReader {
    fn read(&self, path: &Path, buf: &mut [u8]) -> io::Result<usize> {
        if self.deny.load(Ordering::SeqCst) && path.ends_with("energy_uj") {
            return Err(io::Error::from_raw_os_error(libc_eacces()));
        }
        FsReader.read(path, buf)
    }
}

fn libc_eacces() -> i32 {
    13 // EACCES on Linux
}

pub fn denying(deny: bool) -> Arc<DenyingReader> {
    Arc::new(DenyingReader {
        deny: AtomicBool::new(deny),
    })
}

pub fn approx(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}
