//! Writing `manifest.json` (the type is core's [`Manifest`]): atomically, as every file a sweep
//! rewrites.

use std::path::Path;

use greenbench_core::Manifest;

use crate::error::RunnerError;

/// Writes `manifest` to `path` atomically (temp file + rename).
pub fn write_manifest(manifest: &Manifest, path: &Path) -> Result<(), RunnerError> {
    let text = serde_json::to_string_pretty(manifest)
        .map_err(|e| RunnerError::Protocol(format!("serializing manifest: {e}")))?;
    crate::records::write_atomic(path, (text + "\n").as_bytes())
}
