//! One live update as sync frames: the plan's deletes, then every file, directory and
//! link under its copies (read whole, with mode and mtime), then `Ack`. The walk
//! follows `archive.rs` so both paths put the same things in the container: a path
//! that vanished since the plan was made is skipped, sockets and devices too.

use std::fmt;
use std::fs::{self, Metadata};
use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::proto::{Frame, MAX_FRAME};
use crate::liveupdate::{CopyFile, UpdateError};

/// One operation of a batch, for reporting its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Delete(String),
    /// A file, directory or link written at this container path.
    Write(String),
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Delete(path) | Op::Write(path) => f.write_str(path),
        }
    }
}

/// Encoded frames and what they do.
#[derive(Debug, Default)]
pub struct Batch {
    pub ops: Vec<Op>,
    pub bytes: Vec<u8>,
    /// A file too large for one frame: the batch must go through the archive path.
    pub oversized: Option<PathBuf>,
}

impl Batch {
    /// Reads the files and encodes the batch (blocking: call it off the runtime).
    pub fn build(
        container: &str,
        deletes: &[String],
        copies: &[CopyFile],
    ) -> Result<Batch, UpdateError> {
        let mut batch = Batch::default();
        for path in deletes {
            batch.push(
                Op::Delete(path.clone()),
                &Frame::Delete { path: path.clone() },
            );
        }
        let mut walk = Walk { batch, container };
        for copy in copies {
            walk.add(&copy.local, copy.remote.trim_end_matches('/'))?;
            if walk.batch.oversized.is_some() {
                break;
            }
        }
        walk.batch.bytes.extend_from_slice(&Frame::Ack.to_bytes());
        Ok(walk.batch)
    }

    fn push(&mut self, op: Op, frame: &Frame) {
        self.ops.push(op);
        frame.encode(&mut self.bytes);
    }

    /// How long the helper may take: generous for the disk, shorter than forever.
    pub fn timeout(&self) -> Duration {
        let mib = u64::try_from(self.bytes.len() >> 20).unwrap_or(u64::MAX);
        Duration::from_secs(30).saturating_add(Duration::from_millis(mib.saturating_mul(200)))
    }
}

struct Walk<'a> {
    batch: Batch,
    container: &'a str,
}

impl Walk<'_> {
    /// Adds `local` at `remote` (absolute; empty = the container's root).
    fn add(&mut self, local: &Path, remote: &str) -> Result<(), UpdateError> {
        let meta = match fs::symlink_metadata(local) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.read_error(local, e)),
        };
        let kind = meta.file_type();
        if kind.is_dir() {
            self.add_dir(local, remote, &meta)
        } else if kind.is_symlink() {
            self.add_symlink(local, remote)
        } else if kind.is_file() {
            self.add_file(local, remote, &meta)
        } else {
            Ok(())
        }
    }

    fn add_dir(&mut self, local: &Path, remote: &str, meta: &Metadata) -> Result<(), UpdateError> {
        // The root itself is left alone, as the archive path does.
        if !remote.is_empty() {
            let frame = Frame::Mkdir {
                path: remote.to_owned(),
                mode: meta.mode() & 0o7777,
            };
            self.batch.push(Op::Write(remote.to_owned()), &frame);
        }
        let mut children = match fs::read_dir(local) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .map(|e| e.file_name())
                .collect::<Vec<_>>(),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.read_error(local, e)),
        };
        children.sort();
        for child in children {
            let joined = format!("{remote}/{}", child.to_string_lossy());
            self.add(&local.join(&child), &joined)?;
            if self.batch.oversized.is_some() {
                break;
            }
        }
        Ok(())
    }

    fn add_file(&mut self, local: &Path, remote: &str, meta: &Metadata) -> Result<(), UpdateError> {
        // Leave room for the frame's other fields.
        if meta.len() > (MAX_FRAME as u64).saturating_sub(1 << 16) {
            self.batch.oversized = Some(local.to_path_buf());
            return Ok(());
        }
        let data = match fs::read(local) {
            Ok(data) => data,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.read_error(local, e)),
        };
        let frame = Frame::Write {
            path: remote.to_owned(),
            mode: meta.mode() & 0o7777,
            mtime: meta.mtime(),
            data,
        };
        self.batch.push(Op::Write(remote.to_owned()), &frame);
        Ok(())
    }

    fn add_symlink(&mut self, local: &Path, remote: &str) -> Result<(), UpdateError> {
        let target = match fs::read_link(local) {
            Ok(target) => target,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.read_error(local, e)),
        };
        let frame = Frame::Symlink {
            path: remote.to_owned(),
            target: target.to_string_lossy().into_owned(),
        };
        self.batch.push(Op::Write(remote.to_owned()), &frame);
        Ok(())
    }

    fn read_error(&self, path: &Path, source: std::io::Error) -> UpdateError {
        UpdateError::ReadLocal {
            container: self.container.to_owned(),
            path: path.to_path_buf(),
            source,
        }
    }
}
