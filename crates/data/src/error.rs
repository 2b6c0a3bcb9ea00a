//! Errors of the data crate: each names the file, what was expected, what was found and what to do.

use std::path::{Path, PathBuf};

/// Hint used by the readers when they do not know which dataset a file belongs to.
pub(crate) const REPLACE_HINT: &str = "the file is damaged or not in this format; replace it";

/// Everything that can go wrong while locating or reading a dataset.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The name is not in the registry.
    #[error("unknown dataset `{name}`; known datasets: {known}")]
    UnknownDataset {
        /// The name asked for.
        name: String,
        /// Comma-separated list of registered names.
        known: String,
    },
    /// A file the dataset needs is not there.
    #[error("dataset `{dataset}`: missing file {file}; {fetch}")]
    Missing {
        /// Registry name.
        dataset: String,
        /// The first missing file.
        file: PathBuf,
        /// What to run or do to get it (e.g. "fetch it with `scripts/fetch-datasets.sh fashion-mnist`").
        fetch: String,
    },
    /// The dataset cannot be fetched and no path was given.
    #[error("dataset `{dataset}` needs a path: {hint}")]
    NeedsPath {
        /// Registry name.
        dataset: String,
        /// Where to get it and how to pass it.
        hint: String,
    },
    /// A file exists but cannot be read.
    #[error("{}: cannot read it: {cause}; {hint}", file.display())]
    Io {
        /// The file that could not be read.
        file: PathBuf,
        /// The OS error. Part of the message (callers print only the message), so it is not
        /// also returned by `Error::source`, which would print it twice in an error chain.
        cause: std::io::Error,
        /// What to do.
        hint: String,
    },
    /// A file was read but its content is not what the format requires.
    #[error("{}: {problem}: expected {expected}, found {found}; {hint}", file.display())]
    Format {
        /// The file whose content is wrong.
        file: PathBuf,
        /// What is wrong (e.g. "wrong magic number", "truncated").
        problem: String,
        /// What the format requires.
        expected: String,
        /// What the file holds.
        found: String,
        /// What to do.
        hint: String,
    },
    /// A request that cannot be satisfied (e.g. `subset = 0`).
    #[error("dataset `{dataset}`: {message}")]
    Invalid {
        /// Registry name.
        dataset: String,
        /// What is wrong and what to do.
        message: String,
    },
}

impl DataError {
    /// A [`DataError::Format`] with the generic "replace it" hint.
    pub(crate) fn format(
        file: &Path,
        problem: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        DataError::Format {
            file: file.to_path_buf(),
            problem: problem.into(),
            expected: expected.into(),
            found: found.into(),
            hint: REPLACE_HINT.into(),
        }
    }

    /// A [`DataError::Io`] with the generic "replace it" hint.
    pub(crate) fn io(file: &Path, cause: std::io::Error) -> Self {
        DataError::Io {
            file: file.to_path_buf(),
            cause,
            hint: REPLACE_HINT.into(),
        }
    }

    /// Replaces the "what to do" part of `Io` and `Format` errors (the registry knows the fetch command).
    pub fn with_hint(self, new_hint: impl Into<String>) -> Self {
        match self {
            DataError::Io { file, cause, .. } => DataError::Io {
                file,
                cause,
                hint: new_hint.into(),
            },
            DataError::Format {
                file,
                problem,
                expected,
                found,
                ..
            } => DataError::Format {
                file,
                problem,
                expected,
                found,
                hint: new_hint.into(),
            },
            other => other,
        }
    }
}

/// Reads a whole file; a missing file is an `Io` error naming it.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::io(path, e))
}

/// Reads a file and gunzips it when it starts with the gzip magic (1f 8b).
pub(crate) fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let raw = read_file(path)?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        use std::io::Read;
        let mut out = Vec::with_capacity(raw.len() * 2);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| {
                DataError::format(
                    path,
                    "truncated or corrupt gzip stream",
                    "a complete gzip file",
                    format!(
                        "{} compressed bytes that fail to decompress ({e})",
                        raw.len()
                    ),
                )
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn io_error_says_file_cause_and_hint_once() {
        let missing = Path::new("/nonexistent/greenbench/file.bin");
        let e = read_file(missing).unwrap_err().with_hint("fetch it again");
        let text = e.to_string();
        assert!(
            text.starts_with("/nonexistent/greenbench/file.bin: cannot read it: ")
                && text.ends_with("; fetch it again"),
            "{text}"
        );
        assert!(e.source().is_none(), "the cause is already in the message");
    }
}
