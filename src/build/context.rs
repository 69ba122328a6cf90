//! The build context as a tar **streamed** from disk: a blocking thread writes the
//! archive into a bounded channel in 64 KiB chunks, so memory stays flat however big
//! the context is, and the upload starts before the walk of the disk has finished
//! reading files.
//!
//! Only what `Inputs` says is in the context goes in (the same matcher the content
//! hash and the watcher use). The Dockerfile travels under a generated name when it
//! is not a context file as such (`dockerfile_contents=`, a path outside the
//! context, or one the `.dockerignore` excludes): Docker needs it either way.

use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use tokio::sync::mpsc;

use super::BuildError;
use super::inputs::{Entry, Inputs};
use crate::model::{DockerBuild, Dockerfile};

/// Chunk size of the streamed tar; the channel holds at most `CHANNEL_CHUNKS` of them.
const CHUNK: usize = 64 * 1024;
const CHANNEL_CHUNKS: usize = 8;

/// Fixed mtime for every entry: the content hash, not the clock, decides rebuilds,
/// and the Engine's layer cache then depends on content alone.
const MTIME: u64 = 0;

/// A context ready to stream: the walked entries and the Dockerfile to inject.
#[derive(Debug)]
pub struct BuildContext {
    entries: Vec<Entry>,
    /// The name to pass as the build's `dockerfile` parameter.
    pub dockerfile: String,
    /// Dockerfile text added to the archive as `dockerfile`, when it is not a context file.
    injected: Option<Vec<u8>>,
}

impl BuildContext {
    /// Walks the context of `build` (blocking: run it on a blocking thread).
    pub fn prepare(build: &DockerBuild, inputs: &Inputs) -> Result<BuildContext, BuildError> {
        if !build.context.is_dir() {
            return Err(BuildError::NoContext {
                path: build.context.clone(),
            });
        }
        let entries: Vec<Entry> = inputs
            .entries()?
            .into_iter()
            .filter(|e| inputs.in_context(&e.path))
            .collect();
        let (dockerfile, injected) = match &build.dockerfile {
            Dockerfile::Path(p) if inputs.in_context(p) => {
                let rel = p.strip_prefix(&build.context).unwrap_or(p);
                (rel.to_string_lossy().into_owned(), None)
            }
            Dockerfile::Path(p) => {
                let text = std::fs::read(p).map_err(|source| BuildError::ReadDockerfile {
                    path: p.clone(),
                    source,
                })?;
                (injected_name(&text), Some(text))
            }
            Dockerfile::Contents(c) => (injected_name(c.as_bytes()), Some(c.clone().into_bytes())),
        };
        Ok(BuildContext {
            entries,
            dockerfile,
            injected,
        })
    }

    /// Number of entries (files, links, directories) in the archive, injected Dockerfile aside.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.injected.is_none()
    }

    /// Writes the whole archive to `w` (blocking).
    pub fn write_tar(&self, w: impl Write) -> io::Result<()> {
        let mut tar = tar::Builder::new(w);
        tar.mode(tar::HeaderMode::Deterministic);
        tar.follow_symlinks(false);
        for e in &self.entries {
            append_entry(&mut tar, e)?;
        }
        if let Some(text) = &self.injected {
            let mut h = header(tar::EntryType::Regular, 0o644, text.len() as u64);
            tar.append_data(&mut h, &self.dockerfile, text.as_slice())?;
        }
        tar.into_inner()?.flush()
    }

    /// The archive as a stream of chunks, produced on a blocking thread. A read error
    /// (a file vanished mid-build) ends the stream with that error and is also kept
    /// in `ContextStream::failure`, so the build can report it rather than the
    /// connection error the aborted upload causes.
    pub fn into_stream(self) -> ContextStream {
        let (tx, mut rx) = mpsc::channel::<Result<Bytes, io::Error>>(CHANNEL_CHUNKS);
        let failure = Arc::new(Mutex::new(None));
        let slot = failure.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = ChannelWriter {
                tx: tx.clone(),
                buf: Vec::with_capacity(CHUNK),
            };
            if let Err(e) = self.write_tar(&mut w) {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return; // the upload was stopped: nobody is listening
                }
                if let Ok(mut s) = slot.lock() {
                    *s = Some(e.to_string());
                }
                let _ = tx.blocking_send(Err(e));
            }
        });
        ContextStream {
            body: Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))),
            failure,
        }
    }
}

/// The streamed archive and, once it failed, why.
pub struct ContextStream {
    pub body: BoxStream<'static, Result<Bytes, io::Error>>,
    pub failure: Arc<Mutex<Option<String>>>,
}

impl ContextStream {
    /// Why writing the archive failed, if it did.
    pub fn failure(failure: &Mutex<Option<String>>) -> Option<String> {
        failure.lock().ok().and_then(|f| f.clone())
    }
}

/// `Dockerfile.stilt-<8 hex>`: unlikely to collide with a context file, stable per text.
fn injected_name(text: &[u8]) -> String {
    let hex = blake3::hash(text).to_hex();
    format!("Dockerfile.stilt-{}", &hex[..8])
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(MTIME);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn append_entry<W: Write>(tar: &mut tar::Builder<W>, e: &Entry) -> io::Result<()> {
    let ft = e.meta.file_type();
    let mode = e.meta.mode() & 0o7777;
    let with_path =
        |err: io::Error| io::Error::new(err.kind(), format!("{}: {err}", e.path.display()));
    if ft.is_dir() {
        let mut h = header(tar::EntryType::Directory, mode, 0);
        tar.append_data(&mut h, &e.rel, io::empty())
            .map_err(with_path)
    } else if ft.is_symlink() {
        let target = std::fs::read_link(&e.path).map_err(with_path)?;
        let mut h = header(tar::EntryType::Symlink, 0o777, 0);
        tar.append_link(&mut h, &e.rel, target).map_err(with_path)
    } else if ft.is_file() {
        let f = std::fs::File::open(&e.path).map_err(with_path)?;
        // The size of the open file, not of the earlier stat: the header must match
        // what follows, and `take` keeps a growing file from overrunning it.
        let size = f.metadata().map_err(with_path)?.len();
        let mut h = header(tar::EntryType::Regular, mode, size);
        tar.append_data(&mut h, &e.rel, io::Read::take(f, size))
            .map_err(with_path)
    } else {
        // Sockets, fifos and devices cannot be sent to the Engine meaningfully.
        Ok(())
    }
}

/// Buffers writes into `CHUNK`-sized `Bytes` and sends them, blocking when the
/// channel is full (that is the back-pressure that keeps memory flat).
struct ChannelWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "build context upload stopped"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= CHUNK {
            self.send_buf()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buf()
    }
}
