//! Reading a child's output line by line: newline and carriage return stripped, each
//! line capped (a runaway line cannot exhaust memory), invalid UTF-8 replaced.
//!
//! [`pump`] is the shape every command stilt runs for the user's project (a
//! `custom_build`, the compose tool) shares: each line goes to the resource's log
//! as it comes, and the last few are kept in a [`Tail`] for the error if it fails.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use super::{LineSink, Stream};

/// Longest line kept; the rest of it is dropped.
pub const MAX_LINE: usize = 64 * 1024;

/// Calls `f` with each line of `r` until EOF or a read error; stops early when `f`
/// returns `false`.
pub async fn for_each_line(r: impl AsyncRead + Unpin, mut f: impl FnMut(String) -> bool) {
    let mut reader = BufReader::new(r);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                while matches!(buf.last(), Some(b'\n' | b'\r')) {
                    buf.pop();
                }
                buf.truncate(MAX_LINE);
                if !f(String::from_utf8_lossy(&buf).into_owned()) {
                    return;
                }
            }
        }
    }
}

/// The last lines of a command's output (stdout and stderr interleaved as they
/// arrived), kept for the error that reports its failure.
#[derive(Debug)]
pub struct Tail {
    lines: Mutex<VecDeque<String>>,
    keep: usize,
}

impl Tail {
    /// Keeps at most `keep` lines.
    pub fn new(keep: usize) -> Self {
        Tail {
            lines: Mutex::new(VecDeque::with_capacity(keep)),
            keep,
        }
    }

    fn push(&self, line: &str) {
        // A panic elsewhere cannot leave the ring half-updated: keep using it.
        let mut lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == self.keep {
            lines.pop_front();
        }
        lines.push_back(line.to_owned());
    }

    /// The kept lines, oldest first.
    pub fn lines(&self) -> Vec<String> {
        let lines = self.lines.lock().unwrap_or_else(PoisonError::into_inner);
        lines.iter().cloned().collect()
    }
}

/// Sends each line of `r` (if the pipe is there) to `log` as `stream`, keeping the
/// last ones in `tail`.
pub async fn pump(r: Option<impl AsyncRead + Unpin>, stream: Stream, log: &LineSink, tail: &Tail) {
    let Some(r) = r else { return };
    for_each_line(r, |line| {
        tail.push(&line);
        log(stream, line);
        true
    })
    .await;
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn pump_logs_every_line_and_keeps_the_last_ones() {
        let logged = Arc::new(Mutex::new(Vec::new()));
        let sink = logged.clone();
        let log: LineSink = Arc::new(move |s, l| sink.lock().unwrap().push((s, l)));
        let tail = Tail::new(2);
        let input: &[u8] = b"one\r\ntwo\nthree";
        pump(Some(input), Stream::Stderr, &log, &tail).await;
        assert_eq!(tail.lines(), ["two", "three"]);
        assert_eq!(logged.lock().unwrap().len(), 3);
        assert_eq!(
            logged.lock().unwrap()[0],
            (Stream::Stderr, "one".to_owned())
        );
    }
}
