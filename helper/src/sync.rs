//! `sync` mode: apply batches of file operations read from stdin, one outcome per
//! operation, answered on each `Ack`.
//!
//! Each file is replaced atomically (written beside its final name, then renamed),
//! so a server reading it sees the old content or the new, never half of either.
//! The helper holds nothing open between batches and exits when its stream ends, so
//! nothing is left running once stilt goes away.

use std::fs::{self, OpenOptions, Permissions};
use std::io::{self, BufReader, ErrorKind, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use crate::proto::{Frame, Outcome, VERSION, read_frame};

pub fn run() -> ExitCode {
    let mut input = BufReader::with_capacity(1 << 20, io::stdin().lock());
    let mut output = io::stdout().lock();
    if send(&mut output, &Frame::Hello { version: VERSION }).is_err() {
        return ExitCode::FAILURE;
    }
    let mut outcomes = Vec::new();
    loop {
        let frame = match read_frame(&mut input) {
            Ok(Some(frame)) => frame,
            Ok(None) => return ExitCode::SUCCESS,
            Err(e) => {
                let message = format!("cannot read a frame: {e}");
                let _ = send(&mut output, &Frame::Fatal { message });
                return ExitCode::FAILURE;
            }
        };
        match frame {
            Frame::Bye => return ExitCode::SUCCESS,
            Frame::Ack => {
                let done = Frame::Results {
                    outcomes: std::mem::take(&mut outcomes),
                };
                if send(&mut output, &done).is_err() {
                    return ExitCode::FAILURE;
                }
            }
            op => outcomes.push(apply(op)),
        }
    }
}

fn send(output: &mut impl Write, frame: &Frame) -> io::Result<()> {
    output.write_all(&frame.to_bytes())?;
    output.flush()
}

fn apply(op: Frame) -> Outcome {
    let result = match &op {
        Frame::Delete { path } => absolute(path).and_then(delete),
        Frame::Mkdir { path, mode } => absolute(path).and_then(|p| mkdir(p, *mode)),
        Frame::Write {
            path,
            mode,
            mtime,
            data,
        } => absolute(path).and_then(|p| write(p, *mode, *mtime, data)),
        Frame::Symlink { path, target } => absolute(path).and_then(|p| symlink(p, target)),
        other => Err(io::Error::other(format!("unexpected frame {other:?}"))),
    };
    match result {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

fn absolute(path: &str) -> io::Result<&Path> {
    let p = Path::new(path);
    if p.is_absolute() && p.parent().is_some() {
        Ok(p)
    } else {
        Err(io::Error::other(format!("{path}: not an absolute path")))
    }
}

/// `rm -rf`: a missing path is already deleted.
fn delete(path: &Path) -> io::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() != ErrorKind::NotFound => Err(context(path, e)),
        _ => Ok(()),
    }
}

fn mkdir(path: &Path, mode: u32) -> io::Result<()> {
    fs::create_dir_all(path).map_err(|e| context(path, e))?;
    fs::set_permissions(path, Permissions::from_mode(mode & 0o7777)).map_err(|e| context(path, e))
}

fn write(path: &Path, mode: u32, mtime: i64, data: &[u8]) -> io::Result<()> {
    let parent = path.parent().unwrap_or(Path::new("/"));
    fs::create_dir_all(parent).map_err(|e| context(parent, e))?;
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let temp = parent.join(format!(".{name}.stilt-sync-{}", std::process::id()));
    let result = write_then_rename(&temp, path, mode, mtime, data);
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map_err(|e| context(path, e))
}

fn write_then_rename(temp: &Path, path: &Path, mode: u32, mtime: i64, data: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(temp)?;
    file.write_all(data)?;
    // Set after creation: the umask would otherwise strip bits the user asked for.
    file.set_permissions(Permissions::from_mode(mode & 0o7777))?;
    if let Ok(secs) = u64::try_from(mtime) {
        let _ = file.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    }
    drop(file);
    fs::rename(temp, path)
}

fn symlink(path: &Path, target: &str) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| context(parent, e))?;
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_dir() => fs::remove_file(path).map_err(|e| context(path, e))?,
        _ => {}
    }
    std::os::unix::fs::symlink(target, path).map_err(|e| context(path, e))
}

fn context(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}
