//! The sync protocol between stilt and the helper, shared word for word by both
//! (stilt compiles this file as `stilt::liveupdate::channel::proto`), so the two
//! sides cannot drift apart.
//!
//! Every message is a frame: a little-endian `u32` length (of what follows), a kind
//! byte, then the kind's fields. Strings and byte blobs are a `u32` length and the
//! bytes. The helper speaks first with `Hello { version }`; stilt refuses any other
//! version, so an old helper left in a container is replaced rather than misread.
//!
//! A batch is `Delete`s, then `Mkdir`/`Write`/`Symlink`s, then `Ack`; the helper
//! answers `Ack` with one `Results` frame holding one outcome per operation of the
//! batch, in order. `Bye` ends the session (a Kubernetes exec cannot close stdin).

use std::fmt;
use std::io::{self, Read};

/// Bumped on any change to the frames below.
pub const VERSION: u32 = 1;

/// Larger frames are refused as corrupt (a file above this size goes through the
/// archive path instead).
pub const MAX_FRAME: usize = 1 << 30;

/// Bytes before a frame's body: its length.
const LEN_BYTES: usize = 4;

/// One message, either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Helper -> stilt, first thing on the stream.
    Hello { version: u32 },
    /// Remove a path, recursively; a path that does not exist is not an error.
    Delete { path: String },
    /// Create a directory (and its parents) with this mode.
    Mkdir { path: String, mode: u32 },
    /// Replace a file atomically: written to a temporary name, then renamed.
    Write {
        path: String,
        mode: u32,
        mtime: i64,
        data: Vec<u8>,
    },
    /// Replace a path with a symbolic link.
    Symlink { path: String, target: String },
    /// End of batch: answer with `Results`.
    Ack,
    /// Helper -> stilt: one outcome per operation since the last `Ack`.
    Results { outcomes: Vec<Outcome> },
    /// Helper -> stilt: the stream cannot go on (a frame it could not read).
    Fatal { message: String },
    /// End of session.
    Bye,
}

/// What became of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed(String),
}

/// Why a stream of bytes is not a valid frame sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtoError {
    /// The length prefix is beyond `MAX_FRAME` (or below one byte).
    BadLength(usize),
    UnknownKind(u8),
    /// A field runs past the end of its frame, or bytes are left over.
    Malformed {
        kind: u8,
        what: &'static str,
    },
    /// The other side speaks another protocol version.
    Version {
        ours: u32,
        theirs: u32,
    },
    /// The first frame was not `Hello`.
    NoHello,
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtoError::BadLength(n) => write!(f, "frame length {n} is out of range"),
            ProtoError::UnknownKind(k) => write!(f, "unknown frame kind {k}"),
            ProtoError::Malformed { kind, what } => {
                write!(f, "malformed frame of kind {kind}: {what}")
            }
            ProtoError::Version { ours, theirs } => write!(
                f,
                "sync helper speaks protocol {theirs}, this stilt speaks {ours}"
            ),
            ProtoError::NoHello => write!(f, "the sync helper did not say hello first"),
        }
    }
}

impl std::error::Error for ProtoError {}

const HELLO: u8 = 1;
const DELETE: u8 = 2;
const MKDIR: u8 = 3;
const WRITE: u8 = 4;
const SYMLINK: u8 = 5;
const ACK: u8 = 6;
const RESULTS: u8 = 7;
const FATAL: u8 = 8;
const BYE: u8 = 9;

impl Frame {
    /// Appends this frame's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&[0; LEN_BYTES]);
        match self {
            Frame::Hello { version } => {
                out.push(HELLO);
                put_u32(out, *version);
            }
            Frame::Delete { path } => {
                out.push(DELETE);
                put_bytes(out, path.as_bytes());
            }
            Frame::Mkdir { path, mode } => {
                out.push(MKDIR);
                put_bytes(out, path.as_bytes());
                put_u32(out, *mode);
            }
            Frame::Write {
                path,
                mode,
                mtime,
                data,
            } => {
                out.push(WRITE);
                put_bytes(out, path.as_bytes());
                put_u32(out, *mode);
                out.extend_from_slice(&mtime.to_le_bytes());
                put_bytes(out, data);
            }
            Frame::Symlink { path, target } => {
                out.push(SYMLINK);
                put_bytes(out, path.as_bytes());
                put_bytes(out, target.as_bytes());
            }
            Frame::Ack => out.push(ACK),
            Frame::Results { outcomes } => {
                out.push(RESULTS);
                put_u32(out, len_u32(outcomes.len()));
                for outcome in outcomes {
                    match outcome {
                        Outcome::Done => out.push(0),
                        Outcome::Failed(why) => {
                            out.push(1);
                            put_bytes(out, why.as_bytes());
                        }
                    }
                }
            }
            Frame::Fatal { message } => {
                out.push(FATAL);
                put_bytes(out, message.as_bytes());
            }
            Frame::Bye => out.push(BYE),
        }
        let body = len_u32(out.len() - start - LEN_BYTES).to_le_bytes();
        out[start..start + LEN_BYTES].copy_from_slice(&body);
    }

    /// This frame's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes one frame body (kind byte and fields, without the length).
    pub fn decode(body: &[u8]) -> Result<Frame, ProtoError> {
        let (&kind, rest) = body.split_first().ok_or(ProtoError::BadLength(0))?;
        let mut r = Fields { rest, kind };
        let frame = match kind {
            HELLO => Frame::Hello {
                version: r.u32("version")?,
            },
            DELETE => Frame::Delete {
                path: r.string("path")?,
            },
            MKDIR => Frame::Mkdir {
                path: r.string("path")?,
                mode: r.u32("mode")?,
            },
            WRITE => Frame::Write {
                path: r.string("path")?,
                mode: r.u32("mode")?,
                mtime: r.i64("mtime")?,
                data: r.bytes("data")?.to_vec(),
            },
            SYMLINK => Frame::Symlink {
                path: r.string("path")?,
                target: r.string("target")?,
            },
            ACK => Frame::Ack,
            RESULTS => Frame::Results {
                outcomes: r.outcomes()?,
            },
            FATAL => Frame::Fatal {
                message: r.string("message")?,
            },
            BYE => Frame::Bye,
            other => return Err(ProtoError::UnknownKind(other)),
        };
        if r.rest.is_empty() {
            Ok(frame)
        } else {
            Err(r.malformed("bytes left over"))
        }
    }
}

/// Checks the helper's first frame.
pub fn check_hello(frame: &Frame) -> Result<(), ProtoError> {
    match frame {
        Frame::Hello { version } if *version == VERSION => Ok(()),
        Frame::Hello { version } => Err(ProtoError::Version {
            ours: VERSION,
            theirs: *version,
        }),
        _ => Err(ProtoError::NoHello),
    }
}

/// Reassembles frames from chunks that split them anywhere (an exec stream's chunks
/// follow the transport, not the frames).
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, if one has arrived.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ProtoError> {
        let Some(len) = self.buf.get(..LEN_BYTES) else {
            return Ok(None);
        };
        let len = body_len(len)?;
        if self.buf.len() < LEN_BYTES + len {
            return Ok(None);
        }
        let frame = Frame::decode(&self.buf[LEN_BYTES..LEN_BYTES + len]);
        self.buf.drain(..LEN_BYTES + len);
        frame.map(Some)
    }

    /// Bytes received that do not make a whole frame yet.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Reads one frame from a blocking reader; `Ok(None)` when the stream ends cleanly
/// between frames.
pub fn read_frame(reader: &mut impl Read) -> io::Result<Option<Frame>> {
    let mut len = [0u8; LEN_BYTES];
    let mut got = 0;
    while got < LEN_BYTES {
        match reader.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = body_len(&len).map_err(io::Error::other)?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    Frame::decode(&body).map(Some).map_err(io::Error::other)
}

fn body_len(prefix: &[u8]) -> Result<usize, ProtoError> {
    let mut len = [0u8; LEN_BYTES];
    len.copy_from_slice(prefix);
    let len = u32::from_le_bytes(len) as usize;
    if len == 0 || len > MAX_FRAME {
        Err(ProtoError::BadLength(len))
    } else {
        Ok(len)
    }
}

/// Lengths are checked against `MAX_FRAME` before encoding; saturate rather than wrap.
fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn put_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(out, len_u32(bytes.len()));
    out.extend_from_slice(bytes);
}

/// A cursor over a frame's fields.
struct Fields<'a> {
    rest: &'a [u8],
    kind: u8,
}

impl<'a> Fields<'a> {
    fn malformed(&self, what: &'static str) -> ProtoError {
        ProtoError::Malformed {
            kind: self.kind,
            what,
        }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtoError> {
        if self.rest.len() < n {
            return Err(self.malformed(what));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, ProtoError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4, what)?);
        Ok(u32::from_le_bytes(b))
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, ProtoError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8, what)?);
        Ok(i64::from_le_bytes(b))
    }

    fn bytes(&mut self, what: &'static str) -> Result<&'a [u8], ProtoError> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
    }

    fn string(&mut self, what: &'static str) -> Result<String, ProtoError> {
        let bytes = self.bytes(what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| self.malformed(what))
    }

    fn outcomes(&mut self) -> Result<Vec<Outcome>, ProtoError> {
        let n = self.u32("outcome count")? as usize;
        // Each outcome takes at least one byte: a count beyond that is corrupt.
        if n > self.rest.len() {
            return Err(self.malformed("outcome count"));
        }
        let mut outcomes = Vec::with_capacity(n);
        for _ in 0..n {
            match self.take(1, "outcome")? {
                [0] => outcomes.push(Outcome::Done),
                [1] => outcomes.push(Outcome::Failed(self.string("outcome message")?)),
                _ => return Err(self.malformed("outcome status")),
            }
        }
        Ok(outcomes)
    }
}
