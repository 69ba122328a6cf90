//! The cache key of a render: a hash of everything its output depends on.
//!
//! Reading every input file costs far less than running `helm template` (tens of
//! milliseconds per chart here), and content, not modification times, decides: a
//! `git checkout` that rewrites a file with the same bytes does not re-render.

use std::path::Path;

use super::{RenderError, RenderSpec};

/// Hex blake3 of the spec: program (its path, size and modification time stand for
/// its version), arguments, directory, environment, and the path and content of
/// every input file (directories walked in name order; a missing input hashes as
/// missing, so the render runs and reports it).
pub fn key(spec: &RenderSpec) -> Result<String, RenderError> {
    let mut h = blake3::Hasher::new();
    field(&mut h, spec.program.as_os_str().as_encoded_bytes());
    if let Ok(meta) = std::fs::metadata(&spec.program) {
        field(&mut h, &meta.len().to_le_bytes());
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        field(&mut h, &mtime.to_le_bytes());
    }
    for a in &spec.args {
        field(&mut h, a.as_bytes());
    }
    field(&mut h, b"\0dir");
    field(&mut h, spec.dir.as_os_str().as_encoded_bytes());
    for (k, v) in &spec.env {
        field(&mut h, k.as_bytes());
        field(&mut h, v.as_bytes());
    }
    field(&mut h, b"\0inputs");
    for input in &spec.inputs {
        hash_path(&mut h, input)?;
    }
    Ok(h.finalize().to_hex().to_string())
}

/// Length-prefixed, so `["ab", "c"]` and `["a", "bc"]` differ.
fn field(h: &mut blake3::Hasher, bytes: &[u8]) {
    h.update(&(bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn hash_path(h: &mut blake3::Hasher, path: &Path) -> Result<(), RenderError> {
    field(h, path.as_os_str().as_encoded_bytes());
    let Ok(meta) = std::fs::metadata(path) else {
        field(h, b"\0missing");
        return Ok(());
    };
    // A symlink to a directory is not followed (it could loop back up the tree).
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if link && meta.is_dir() {
        let target = std::fs::read_link(path).unwrap_or_default();
        field(h, b"\0link");
        field(h, target.as_os_str().as_encoded_bytes());
        return Ok(());
    }
    if meta.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| RenderError::input(path.to_path_buf(), e))?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        field(h, b"\0dir");
        for e in entries {
            hash_path(h, &e)?;
        }
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(|e| RenderError::input(path.to_path_buf(), e))?;
    field(h, b"\0file");
    field(h, &bytes);
    Ok(())
}
