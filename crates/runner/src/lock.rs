//! One writer per sweep folder: an exclusive `flock` on `DIR/.greenbench.lock`, held for the whole
//! sweep, resume or merge. A second writer fails at once with the holder's pid, host and command
//! instead of interleaving `runs.jsonl`. The lock goes with the process (also after `kill -9`), so a
//! stale lock file never blocks anything: only a live holder does.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::{io, RunnerError};

/// Name of the lock file inside a sweep folder.
pub const LOCK_FILE: &str = ".greenbench.lock";

/// An exclusive lock on a sweep folder; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct FolderLock {
    dir: PathBuf,
    _file: File,
}

impl FolderLock {
    /// Takes the lock of `dir` (which must exist) for `what` (e.g. `sweep`, `merge`), or fails at
    /// once with [`RunnerError::Locked`] naming the process that holds it.
    pub fn acquire(dir: &Path, what: &str) -> Result<FolderLock, RunnerError> {
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io("opening the lock file", &path))?;
        // SAFETY: flock on a file descriptor this function owns; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::WouldBlock {
                return Err(RunnerError::Io(greenbench_core::IoError {
                    what: "locking",
                    path,
                    source: err,
                }));
            }
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(RunnerError::Locked {
                dir: dir.to_path_buf(),
                holder: if holder.is_empty() {
                    "another greenbench process (it has not written its pid yet)".into()
                } else {
                    holder.to_string()
                },
            });
        }
        let host = crate::host::hostname();
        let me = format!(
            "greenbench {what} (pid {} on host {host}, since {})\n",
            std::process::id(),
            chrono::Utc::now().to_rfc3339()
        );
        file.set_len(0)
            .map_err(io("writing the lock file", &path))?;
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(me.as_bytes()))
            .map_err(io("writing the lock file", &path))?;
        Ok(FolderLock {
            dir: dir.to_path_buf(),
            _file: file,
        })
    }

    /// The locked folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Who holds the lock of `dir` now, as its lock file says ("greenbench sweep (pid … on host …,
/// since …)"), or `None` when nobody does. Read-only: it looks the lock file's inode up in
/// `/proc/locks` instead of trying the lock (which could make a sweep starting at that moment fail).
pub fn current_holder(dir: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let path = dir.join(LOCK_FILE);
    let inode = std::fs::metadata(&path).ok()?.ino();
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    if !held_in(&locks, inode) {
        return None;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    Some(match text.trim() {
        "" => "a greenbench process (no pid written yet)".into(),
        held => held.to_string(),
    })
}

/// Whether `/proc/locks` text holds a `flock` on inode `inode` (lines such as
/// `1: FLOCK  ADVISORY  WRITE 28758 fe:00:5439497 0 EOF`).
fn held_in(locks: &str, inode: u64) -> bool {
    locks.lines().any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.get(1) == Some(&"FLOCK")
            && f.get(5)
                .and_then(|dev_ino| dev_ino.rsplit(':').next())
                .and_then(|i| i.parse::<u64>().ok())
                == Some(inode)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_locks_lines_are_matched_by_inode() {
        let text = "1: FLOCK  ADVISORY  WRITE 28758 fe:00:5439497 0 EOF\n2: POSIX  ADVISORY  WRITE 9 fe:00:77 0 EOF\n";
        assert!(held_in(text, 5439497));
        assert!(!held_in(text, 77), "only flock locks count");
        assert!(!held_in(text, 543949));
    }

    #[test]
    fn the_holder_is_seen_while_held_and_not_after() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(current_holder(dir.path()), None, "no lock file");
        let lock = FolderLock::acquire(dir.path(), "sweep").unwrap();
        let holder = current_holder(dir.path()).unwrap();
        assert!(holder.starts_with("greenbench sweep (pid "), "{holder}");
        drop(lock);
        assert_eq!(
            current_holder(dir.path()),
            None,
            "released, file still there"
        );
    }

    #[test]
    fn a_second_lock_fails_naming_the_holder_and_a_dropped_lock_frees_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let first = FolderLock::acquire(dir.path(), "sweep").unwrap();
        let err = FolderLock::acquire(dir.path(), "merge")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        assert!(err.contains("greenbench sweep"), "{err}");
        drop(first);
        let again = FolderLock::acquire(dir.path(), "merge").unwrap();
        assert_eq!(again.dir(), dir.path());
    }
}
