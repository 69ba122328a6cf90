//! Where a running instance's API is, so client verbs run in the project find it.
//!
//! Beside the project's instance lock (see [`crate::instance`]) the instance writes
//! `web.json` (pid, host, port, Tiltfile) and `web.token` (mode 0600: only the user
//! can read it). A record whose pid no longer runs is stale: readers remove it. The
//! instance removes its own when it stops.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    #[error("cannot write the API record {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the API token {path}: {source}")]
    Token {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub pid: u32,
    pub host: String,
    pub port: u16,
    pub tiltfile: String,
}

fn record_path(dir: &Path) -> PathBuf {
    dir.join("web.json")
}

fn token_path(dir: &Path) -> PathBuf {
    dir.join("web.token")
}

/// A fresh random token (128 bits from the kernel, as hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if read.is_err() {
        // No /dev/urandom: fall back to what differs between instances.
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        bytes.copy_from_slice(&blake3::hash(seed.as_bytes()).as_bytes()[..16]);
    }
    hex::encode(bytes)
}

/// Writes the record and the token (0600) into `dir`.
pub fn write(dir: &Path, record: &Record, token: &str) -> Result<(), RecordError> {
    std::fs::create_dir_all(dir).map_err(|source| RecordError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let tpath = token_path(dir);
    let _ = std::fs::remove_file(&tpath);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tpath)
        .and_then(|mut f| f.write_all(token.as_bytes()))
        .map_err(|source| RecordError::Write {
            path: tpath.clone(),
            source,
        })?;
    let rpath = record_path(dir);
    let json = serde_json::to_string(record).unwrap_or_default();
    std::fs::write(&rpath, json).map_err(|source| RecordError::Write {
        path: rpath.clone(),
        source,
    })
}

/// Removes this process's record (another instance's is left alone).
pub fn remove(dir: &Path) {
    if read_raw(dir).is_some_and(|r| r.pid == std::process::id()) {
        let _ = std::fs::remove_file(record_path(dir));
        let _ = std::fs::remove_file(token_path(dir));
    }
}

fn read_raw(dir: &Path) -> Option<Record> {
    let text = std::fs::read_to_string(record_path(dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The live instance recorded in `dir`; a record of a dead process is removed.
pub fn read(dir: &Path) -> Option<Record> {
    let r = read_raw(dir)?;
    if alive(r.pid) {
        Some(r)
    } else {
        let _ = std::fs::remove_file(record_path(dir));
        let _ = std::fs::remove_file(token_path(dir));
        None
    }
}

pub fn read_token(dir: &Path) -> Result<String, RecordError> {
    let path = token_path(dir);
    std::fs::read_to_string(&path)
        .map(|t| t.trim().to_owned())
        .map_err(|source| RecordError::Token { path, source })
}

fn alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        // It runs, under another user.
        Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_record_round_trips_and_its_token_is_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let rec = Record {
            pid: std::process::id(),
            host: "127.0.0.1".into(),
            port: 10350,
            tiltfile: "/p/Tiltfile".into(),
        };
        write(dir.path(), &rec, "t0k").expect("write");
        assert_eq!(read(dir.path()), Some(rec));
        assert_eq!(read_token(dir.path()).expect("token"), "t0k");
        let mode = std::fs::metadata(dir.path().join("web.token"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        remove(dir.path());
        assert_eq!(read(dir.path()), None);
    }

    #[test]
    fn a_record_of_a_dead_process_is_stale_and_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        let rec = Record {
            pid,
            host: "127.0.0.1".into(),
            port: 1,
            tiltfile: "/p/Tiltfile".into(),
        };
        write(dir.path(), &rec, "t").expect("write");
        assert_eq!(read(dir.path()), None);
        assert!(!dir.path().join("web.json").exists());
        assert!(!dir.path().join("web.token").exists());
    }
}
