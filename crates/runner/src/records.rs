//! `runs.jsonl`: one whole, flushed and fsynced line per finished run, one line per run id.
//!
//! The file is never a symbolic link: an atomic rewrite (`--retry-failed`, merge, the manifest)
//! renames a new file over the path, which would replace the link and leave its target with the
//! old contents, while appends would have gone to the target. Both are refused with a message.
//!
//! A writer keeps the lines it wrote. Before each append or rewrite it checks that the path still
//! names the file it holds open (same device and inode); when a copy was moved over it (an
//! editor, rsync, a checkout) or it was removed, the writer re-opens the path and writes back the
//! records of its own that the path lacks, so a sweep never reports runs the folder does not hold.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use greenbench_core::{
    one_per_run_id, read_record_lines, read_records, Attempt, RunRecord, INTERFERENCE_FIELD,
};

use crate::error::{io, RunnerError};

/// Refuses a `path` that is a symbolic link, naming it, its target and what to do.
pub fn refuse_symlink(path: &Path) -> Result<(), RunnerError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(()); // absent: nothing to refuse
    };
    if !meta.file_type().is_symlink() {
        return Ok(());
    }
    let target = std::fs::read_link(path)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "?".into());
    Err(RunnerError::OutputFolder(format!(
        "{} is a symbolic link (to {target}); greenbench replaces this file atomically (--retry-failed, \
         merge, manifest updates), which would replace the link and leave its target behind. Put the \
         file itself in its place (mv {target} {}), or link the whole sweep folder instead",
        path.display(),
        path.display()
    )))
}

/// Writes text to `path` atomically: a temporary file beside it, fsynced, renamed over `path`,
/// then the folder fsynced, so a crash leaves either the old or the new file, never a mix.
/// A `path` that is a symbolic link is refused (the rename would replace the link).
pub fn write_atomic(path: &Path, text: &[u8]) -> Result<(), RunnerError> {
    refuse_symlink(path)?;
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
/// at the end of the file, whatever else holds it open). Dropping it checks the path once more
/// (see [`RecordsWriter::follow_path`]); an error there can only be printed.
#[derive(Debug)]
pub struct RecordsWriter {
    file: File,
    path: PathBuf,
    /// (device, inode) of `file`.
    id: (u64, u64),
    /// Run id and line (newline included) of each record this writer wrote, the latest per run
    /// id, in the order first written.
    written: Vec<(String, String)>,
    /// Run id → its index in `written`.
    slot: HashMap<String, usize>,
}

fn open_append(path: &Path) -> Result<File, RunnerError> {
    refuse_symlink(path)?;
    Ok(OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(io("opening records file", path))?)
}

/// (device, inode) of an open file.
fn file_id(file: &File, path: &Path) -> Result<(u64, u64), RunnerError> {
    let m = file
        .metadata()
        .map_err(io("reading the metadata of records file", path))?;
    Ok((m.dev(), m.ino()))
}

/// Cuts a trailing partial line left by a crash during a write, so the next record starts on a
/// line of its own; a whole record that only lacks its final newline gets the newline instead.
fn end_cleanly(file: &mut File, path: &Path) -> Result<(), RunnerError> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(io("reading records file", path))?;
    if !bytes.is_empty() && bytes.last() != Some(&b'\n') {
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let last = String::from_utf8_lossy(&bytes[keep..]);
        if greenbench_core::parse_record(&last).is_ok() {
            file.write_all(b"\n")
                .map_err(io("ending the last line of", path))?;
        } else {
            file.set_len(keep as u64)
                .map_err(io("truncating partial line of", path))?;
        }
        file.sync_all().map_err(io("syncing records file", path))?;
    }
    Ok(())
}

impl RecordsWriter {
    /// Opens (creating if needed) for appending. A trailing partial line left by a crash during
    /// a write is cut off first, so the next record starts on a line of its own; a whole record
    /// that only lacks its final newline gets the newline instead. A symbolic link is refused.
    pub fn open(path: &Path) -> Result<RecordsWriter, RunnerError> {
        let mut file = open_append(path)?;
        end_cleanly(&mut file, path)?;
        Ok(RecordsWriter {
            id: file_id(&file, path)?,
            file,
            path: path.to_path_buf(),
            written: Vec::new(),
            slot: HashMap::new(),
        })
    }

    /// Writes one record as a single line with one `write` call, then fsyncs before returning.
    pub fn append(&mut self, rec: &RunRecord) -> Result<(), RunnerError> {
        self.follow_path()?;
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
        self.remember(&rec.run_id, line);
        Ok(())
    }

    /// Writes `rec` in place of every earlier record of the same run id (a retried run), keeping
    /// the file one line per run id. The file is rewritten atomically.
    pub fn replace(&mut self, rec: &RunRecord) -> Result<(), RunnerError> {
        self.follow_path()?;
        let mut text = String::new();
        for l in read_record_lines(&self.path)? {
            if l.record.run_id != rec.run_id {
                text.push_str(&l.text);
                if !l.text.ends_with('\n') {
                    text.push('\n');
                }
            }
        }
        let line = record_line(rec)?;
        text.push_str(&line);
        write_atomic(&self.path, text.as_bytes())?;
        self.file = open_append(&self.path)?;
        self.id = file_id(&self.file, &self.path)?;
        self.remember(&rec.run_id, line);
        Ok(())
    }

    /// Makes sure the path still names the file this writer appends to. When a copy was moved
    /// over it or it was removed, re-opens (or recreates) it and writes back each record of this
    /// writer that it lacks or holds in another version (appended when it lacks them only, else
    /// the file is rewritten atomically), saying so on stderr. Called before every append and
    /// rewrite, and when the writer is dropped.
    pub fn follow_path(&mut self) -> Result<(), RunnerError> {
        refuse_symlink(&self.path)?;
        let now = match std::fs::metadata(&self.path) {
            Ok(m) => Some((m.dev(), m.ino())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io("checking records file", &self.path)(e).into()),
        };
        if now == Some(self.id) {
            return Ok(());
        }
        let mut file = open_append(&self.path)?;
        end_cleanly(&mut file, &self.path)?;
        let held = read_record_lines(&self.path)?;
        let mut held_lines: HashMap<&str, Vec<&str>> = HashMap::new();
        for l in &held {
            held_lines
                .entry(l.record.run_id.as_str())
                .or_default()
                .push(l.text.trim_end());
        }
        let (mut lacking, mut differing) = (Vec::new(), Vec::new());
        for (id, line) in &self.written {
            match held_lines.get(id.as_str()) {
                None => lacking.push(line.as_str()),
                Some(v) if v.as_slice() == [line.trim_end()] => {}
                Some(_) => differing.push(id.as_str()),
            }
        }
        let what = if now.is_some() {
            "was replaced by another file (a copy moved over it?)"
        } else {
            "was removed"
        };
        if differing.is_empty() {
            let text: String = lacking.concat();
            file.write_all(text.as_bytes())
                .map_err(io("writing records back to", &self.path))?;
            file.sync_data().map_err(io("syncing", &self.path))?;
            self.file = file;
        } else {
            // The path holds another version of a run this writer wrote (an older copy): the
            // writer's, the newer, takes its place.
            let mut text = String::new();
            for l in &held {
                if !self.slot.contains_key(&l.record.run_id) {
                    text.push_str(l.text.trim_end());
                    text.push('\n');
                }
            }
            for (_, line) in &self.written {
                text.push_str(line);
            }
            drop(file);
            write_atomic(&self.path, text.as_bytes())?;
            self.file = open_append(&self.path)?;
        }
        self.id = file_id(&self.file, &self.path)?;
        let mut back = Vec::new();
        if !lacking.is_empty() {
            back.push(format!("{} record(s) it lacked", lacking.len()));
        }
        if !differing.is_empty() {
            back.push(format!("{} it held in an older version", differing.len()));
        }
        if !back.is_empty() {
            eprintln!(
                "warning: {} {what} while this sweep was writing it; wrote back this sweep's {}",
                self.path.display(),
                back.join(" and ")
            );
        }
        Ok(())
    }

    /// Keeps `line` as the latest record of `run_id` this writer wrote.
    fn remember(&mut self, run_id: &str, line: String) {
        match self.slot.get(run_id) {
            Some(&i) => self.written[i].1 = line,
            None => {
                self.slot.insert(run_id.to_string(), self.written.len());
                self.written.push((run_id.to_string(), line));
            }
        }
    }
}

impl Drop for RecordsWriter {
    fn drop(&mut self) {
        if let Err(e) = self.follow_path() {
            eprintln!(
                "error: {} may lack records of this sweep: {e}",
                self.path.display()
            );
        }
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
/// its status and reason (for an `ok` run measured again, its `interference` flag's reason).
pub fn attempts_before(old: &RunRecord) -> Vec<Attempt> {
    let mut v = old.attempts.clone();
    let interference = || {
        old.flag(INTERFERENCE_FIELD)
            .map(|f| format!("{INTERFERENCE_FIELD}: {}", f.reason))
    };
    v.push(Attempt {
        status: old.status,
        error: old.error.clone().or_else(interference),
        started_at: old.started_at.clone(),
        finished_at: old.finished_at.clone(),
    });
    v
}
