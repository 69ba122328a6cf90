//! The in-memory tar a live update copies into a container: the Docker updater
//! uploads it through the Engine's archive API, which unpacks it inside the container
//! without running anything there (so images without `tar`, such as distroless or
//! `scratch` ones, can be live-updated); a Kubernetes updater streams the same tar.
//!
//! Entries are named relative to `/` and carry the local mode and mtime (owner root).
//! Only the copied paths and what lies below copied directories get entries: the
//! Engine creates missing parent directories itself, and an entry for an existing
//! parent would reset its mode and owner (a `tmp/` entry turns `/tmp` from 1777 into
//! 0755). A path that vanished since the plan was made is skipped: its deletion is
//! the next batch's business.

use std::fs::{self, Metadata};
use std::io::{self, ErrorKind};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use tar::{Builder, EntryType, Header};

use crate::liveupdate::{CopyFile, UpdateError};

/// Builds the tar for `files` (blocking file reads: call it off the async runtime).
pub fn build(container: &str, files: &[CopyFile]) -> Result<Vec<u8>, UpdateError> {
    let mut tar = Tar {
        builder: Builder::new(Vec::new()),
        container,
    };
    for file in files {
        tar.add(&file.local, file.remote.trim_start_matches('/'))?;
    }
    let Tar { builder, container } = tar;
    builder
        .into_inner()
        .map_err(|source| UpdateError::ReadLocal {
            container: container.to_owned(),
            path: "(the tar being built)".into(),
            source,
        })
}

struct Tar<'a> {
    builder: Builder<Vec<u8>>,
    container: &'a str,
}

impl Tar<'_> {
    /// Adds `local` as `name` (no leading `/`; empty = the container's root),
    /// recursing into directories.
    fn add(&mut self, local: &Path, name: &str) -> Result<(), UpdateError> {
        let meta = match fs::symlink_metadata(local) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.read_error(local, e)),
        };
        let kind = meta.file_type();
        if kind.is_dir() {
            self.add_dir(local, name, &meta)
        } else if kind.is_symlink() {
            self.add_symlink(local, name, &meta)
        } else if kind.is_file() {
            self.add_file(local, name, &meta)
        } else {
            // Sockets, fifos and devices have no meaning inside another machine.
            Ok(())
        }
    }

    fn add_dir(&mut self, local: &Path, name: &str, meta: &Metadata) -> Result<(), UpdateError> {
        // The root itself gets no entry: that would reset `/`'s mode.
        if !name.is_empty() {
            let mut header = header(meta, EntryType::Directory, 0);
            let result = self
                .builder
                .append_data(&mut header, format!("{name}/"), io::empty());
            result.map_err(|e| self.read_error(local, e))?;
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
            let child_name = child.to_string_lossy();
            let joined = if name.is_empty() {
                child_name.into_owned()
            } else {
                format!("{name}/{child_name}")
            };
            self.add(&local.join(&child), &joined)?;
        }
        Ok(())
    }

    fn add_file(&mut self, local: &Path, name: &str, meta: &Metadata) -> Result<(), UpdateError> {
        // Read whole, so the size in the header is the size of what is written even
        // if an editor rewrites the file meanwhile.
        let data = match fs::read(local) {
            Ok(data) => data,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.read_error(local, e)),
        };
        let mut header = header(meta, EntryType::Regular, data.len() as u64);
        let result = self.builder.append_data(&mut header, name, data.as_slice());
        result.map_err(|e| self.read_error(local, e))
    }

    fn add_symlink(
        &mut self,
        local: &Path,
        name: &str,
        meta: &Metadata,
    ) -> Result<(), UpdateError> {
        let target = match fs::read_link(local) {
            Ok(target) => target,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(self.read_error(local, e)),
        };
        let mut header = header(meta, EntryType::Symlink, 0);
        let result = self.builder.append_link(&mut header, name, target);
        result.map_err(|e| self.read_error(local, e))
    }

    fn read_error(&self, path: &Path, source: io::Error) -> UpdateError {
        UpdateError::ReadLocal {
            container: self.container.to_owned(),
            path: path.to_path_buf(),
            source,
        }
    }
}

/// A header with the local mode and mtime, owned by root (the Engine chowns to the
/// container's root anyway unless asked to copy ids).
fn header(meta: &Metadata, kind: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(meta.mode() & 0o7777);
    header.set_mtime(u64::try_from(meta.mtime()).unwrap_or(0));
    header.set_uid(0);
    header.set_gid(0);
    header
}
