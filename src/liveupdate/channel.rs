//! The persistent sync channel: a small static helper (`helper/`, embedded at build
//! time) runs inside the container under one long-lived exec, and each live update
//! is one batch of framed operations over that exec's stdin/stdout. That skips the
//! container runtime's per-call cost (about 60 ms per archive upload or exec on
//! Engine 20.10), leaving the file system as the limit.
//!
//! This module is the transport-free half: the protocol (shared source with the
//! helper), turning a plan's deletes and copies into frames (`batch.rs`), and a
//! [`Session`] over any byte stream. How a session is opened is the runtime's
//! business (`docker/channel.rs` for the Docker Engine).

pub mod batch;
#[path = "../../helper/src/proto.rs"]
pub mod proto;

use std::io;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::io::{AsyncWrite, AsyncWriteExt};

pub use batch::Batch;
use proto::{Decoder, Frame, Outcome, ProtoError};

/// The helper, built from `helper/` by build.rs for stilt's own target.
pub static HELPER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/stilt-sync-helper"));

/// Where the helper is put in a container (versioned, so a helper of another
/// protocol version in the same container is never run by mistake).
pub const HELPER_PATH: &str = "/.stilt/sync-helper-v1";

/// How long the helper may take to say hello once its exec started.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a session failed: every variant means the channel is unusable from now on.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error("the sync stream broke: {0}")]
    Io(#[from] io::Error),
    #[error("the sync stream ended{}", stderr_suffix(.stderr))]
    Closed { stderr: String },
    #[error("the sync helper sent a bad frame: {0}")]
    Proto(#[from] ProtoError),
    #[error("the sync helper gave up: {0}")]
    Fatal(String),
    #[error("the sync helper did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the sync helper answered {got} outcomes for {sent} operations")]
    Count { sent: usize, got: usize },
}

fn stderr_suffix(stderr: &str) -> String {
    let text = stderr.trim();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// The helper's output, split by the transport: protocol bytes (its stdout) and
/// diagnostic text (its stderr, or the runtime's own messages).
#[derive(Debug)]
pub enum Chunk {
    Data(Bytes),
    Text(Bytes),
}

/// An open channel to one helper.
pub struct Session {
    input: Pin<Box<dyn AsyncWrite + Send>>,
    output: BoxStream<'static, io::Result<Chunk>>,
    decoder: Decoder,
    stderr: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("pending", &self.decoder.pending())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Wraps a started helper and waits for its hello.
    pub async fn start(
        input: Pin<Box<dyn AsyncWrite + Send>>,
        output: BoxStream<'static, io::Result<Chunk>>,
    ) -> Result<Session, ChannelError> {
        let mut session = Session {
            input,
            output,
            decoder: Decoder::default(),
            stderr: String::new(),
        };
        let hello = session.next_frame(HELLO_TIMEOUT).await?;
        proto::check_hello(&hello)?;
        Ok(session)
    }

    /// Sends a batch and returns one outcome per operation.
    pub async fn send(&mut self, batch: &Batch) -> Result<Vec<Outcome>, ChannelError> {
        self.input.write_all(&batch.bytes).await?;
        self.input.flush().await?;
        match self.next_frame(batch.timeout()).await? {
            Frame::Results { outcomes } if outcomes.len() == batch.ops.len() => Ok(outcomes),
            Frame::Results { outcomes } => Err(ChannelError::Count {
                sent: batch.ops.len(),
                got: outcomes.len(),
            }),
            Frame::Fatal { message } => Err(ChannelError::Fatal(message)),
            other => Err(ChannelError::Proto(ProtoError::Malformed {
                kind: 0,
                what: unexpected(&other),
            })),
        }
    }

    /// Ends the session politely (the helper exits at once).
    pub async fn bye(mut self) {
        let _ = self.input.write_all(&Frame::Bye.to_bytes()).await;
        let _ = self.input.flush().await;
    }

    async fn next_frame(&mut self, limit: Duration) -> Result<Frame, ChannelError> {
        match tokio::time::timeout(limit, self.read_frame()).await {
            Ok(result) => result,
            Err(_) => Err(ChannelError::Timeout(limit)),
        }
    }

    async fn read_frame(&mut self) -> Result<Frame, ChannelError> {
        loop {
            if let Some(frame) = self.decoder.next_frame()? {
                return Ok(frame);
            }
            match self.output.next().await {
                Some(Ok(Chunk::Data(bytes))) => self.decoder.push(&bytes),
                Some(Ok(Chunk::Text(text))) => {
                    self.stderr.push_str(&String::from_utf8_lossy(&text))
                }
                Some(Err(e)) => return Err(ChannelError::Io(e)),
                None => {
                    return Err(ChannelError::Closed {
                        stderr: std::mem::take(&mut self.stderr),
                    });
                }
            }
        }
    }
}

fn unexpected(frame: &Frame) -> &'static str {
    match frame {
        Frame::Hello { .. } => "a second hello",
        _ => "a request frame where results were expected",
    }
}

/// The operations of a batch that failed, as "path: error" lines; `None` when all
/// were applied.
pub fn failures(batch: &Batch, outcomes: &[Outcome]) -> Option<String> {
    let lines: Vec<String> = batch
        .ops
        .iter()
        .zip(outcomes)
        .filter_map(|(op, outcome)| match outcome {
            Outcome::Done => None,
            Outcome::Failed(why) => Some(format!("{} {op}: {why}", op_verb(op))),
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("; "))
}

fn op_verb(op: &batch::Op) -> &'static str {
    match op {
        batch::Op::Delete(_) => "delete",
        batch::Op::Write(_) => "write",
    }
}

#[cfg(test)]
mod tests;
