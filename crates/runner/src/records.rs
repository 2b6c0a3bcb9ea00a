//! `runs.jsonl`: one whole, flushed and fsynced line per finished run.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use greenbench_core::record::{read_records, RunRecord};

use crate::error::{io, RunnerError};

/// Appends records to a `runs.jsonl` file.
#[derive(Debug)]
pub struct RecordsWriter {
    file: File,
    path: PathBuf,
}

impl RecordsWriter {
    /// Opens (creating if needed) for appending. A trailing partial line left by a crash during
    /// a write is cut off first, so the next record starts on a line of its own.
    pub fn open(path: &Path) -> Result<RecordsWriter, RunnerError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io("opening records file", path))?;
        let len = file
            .metadata()
            .map_err(io("reading records file", path))?
            .len();
        if len > 0 {
            let mut bytes = Vec::with_capacity(len as usize);
            file.read_to_end(&mut bytes)
                .map_err(io("reading records file", path))?;
            if bytes.last() != Some(&b'\n') {
                let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                file.set_len(keep as u64)
                    .map_err(io("truncating partial line of", path))?;
                file.sync_all().map_err(io("syncing records file", path))?;
            }
        }
        file.seek(SeekFrom::End(0))
            .map_err(io("seeking records file", path))?;
        Ok(RecordsWriter {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Writes one record as a single line, then flushes and fsyncs before returning.
    pub fn append(&mut self, rec: &RunRecord) -> Result<(), RunnerError> {
        let mut line = serde_json::to_string(rec)
            .map_err(|e| RunnerError::Protocol(format!("serializing record: {e}")))?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(io("writing record to", &self.path))?;
        self.file.flush().map_err(io("flushing", &self.path))?;
        self.file.sync_data().map_err(io("syncing", &self.path))?;
        Ok(())
    }
}

/// Run ids that already have a terminal record in `path` (none if the file does not exist).
pub fn finished_ids(path: &Path) -> Result<HashSet<String>, RunnerError> {
    if !path.exists() {
        return Ok(HashSet::new());
    }
    Ok(read_records(path)?
        .into_iter()
        .filter(|r| r.status.is_terminal())
        .map(|r| r.run_id)
        .collect())
}
