//! `runs.jsonl`: one whole, flushed and fsynced line per finished run, one line per run id.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use greenbench_core::record::{
    one_per_run_id, read_record_lines, read_records, Attempt, RunRecord,
};

use crate::error::{io, RunnerError};

/// Writes text to `path` atomically: a temporary file beside it, fsynced, renamed over `path`,
/// then the folder fsynced, so a crash leaves either the old or the new file, never a mix.
pub fn write_atomic(path: &Path, text: &[u8]) -> Result<(), RunnerError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut f = File::create(&tmp).map_err(io("creating", &tmp))?;
    f.write_all(text).map_err(io("writing", &tmp))?;
    f.sync_all().map_err(io("syncing", &tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io("renaming into", path))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Makes the rename itself durable; a folder that cannot be opened for syncing (some
        // network file systems) still holds the renamed file.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Appends records to a `runs.jsonl` file (opened in append mode: every record is one `write`
/// at the end of the file, whatever else holds it open).
#[derive(Debug)]
pub struct RecordsWriter {
    file: File,
    path: PathBuf,
}

fn open_append(path: &Path) -> Result<File, RunnerError> {
    Ok(OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(io("opening records file", path))?)
}

impl RecordsWriter {
    /// Opens (creating if needed) for appending. A trailing partial line left by a crash during
    /// a write is cut off first, so the next record starts on a line of its own; a whole record
    /// that only lacks its final newline gets the newline instead.
    pub fn open(path: &Path) -> Result<RecordsWriter, RunnerError> {
        let mut file = open_append(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(io("reading records file", path))?;
        if !bytes.is_empty() && bytes.last() != Some(&b'\n') {
            let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let last = String::from_utf8_lossy(&bytes[keep..]);
            if greenbench_core::record::parse_record(&last).is_ok() {
                file.write_all(b"\n")
                    .map_err(io("ending the last line of", path))?;
            } else {
                file.set_len(keep as u64)
                    .map_err(io("truncating partial line of", path))?;
            }
            file.sync_all().map_err(io("syncing records file", path))?;
        }
        Ok(RecordsWriter {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Writes one record as a single line with one `write` call, then fsyncs before returning.
    pub fn append(&mut self, rec: &RunRecord) -> Result<(), RunnerError> {
        let line = record_line(rec)?;
        let n = self
            .file
            .write(line.as_bytes())
            .map_err(io("writing record to", &self.path))?;
        if n != line.len() {
            // A short write (disk full): finish the line so the file stays one record per line,
            // then report it.
            self.file
                .write_all(&line.as_bytes()[n..])
                .map_err(io("writing record to", &self.path))?;
        }
        self.file.sync_data().map_err(io("syncing", &self.path))?;
        Ok(())
    }

    /// Writes `rec` in place of every earlier record of the same run id (a retried run), keeping
    /// the file one line per run id. The file is rewritten atomically.
    pub fn replace(&mut self, rec: &RunRecord) -> Result<(), RunnerError> {
        let mut text = String::new();
        for l in read_record_lines(&self.path)? {
            if l.record.run_id != rec.run_id {
                text.push_str(&l.text);
            }
        }
        text.push_str(&record_line(rec)?);
        write_atomic(&self.path, text.as_bytes())?;
        self.file = open_append(&self.path)?;
        Ok(())
    }
}

fn record_line(rec: &RunRecord) -> Result<String, RunnerError> {
    let mut line = serde_json::to_string(rec)
        .map_err(|e| RunnerError::Protocol(format!("serializing record: {e}")))?;
    line.push('\n');
    Ok(line)
}

/// The record of each run id in `path` (none if the file does not exist); when a run id appears
/// more than once (a folder written by an older greenbench), an `ok` record wins, else the last.
pub fn recorded(path: &Path) -> Result<HashMap<String, RunRecord>, RunnerError> {
    if !path.exists() {
        return Ok(HashMap::new());
    }
    let (records, _) = one_per_run_id(read_records(path)?);
    Ok(records.into_iter().map(|r| (r.run_id.clone(), r)).collect())
}

/// What is kept of an earlier attempt in the record of its retry: its own earlier attempts, then
/// its status and reason.
pub fn attempts_before(old: &RunRecord) -> Vec<Attempt> {
    let mut v = old.attempts.clone();
    v.push(Attempt {
        status: old.status,
        error: old.error.clone(),
        started_at: old.started_at.clone(),
        finished_at: old.finished_at.clone(),
    });
    v
}
