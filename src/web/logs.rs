//! The log history the API serves (`/api/logs`), fed by the publisher's log lines.
//!
//! The publisher only hands out new lines, so the server keeps its own bounded copy
//! (oldest lines go first) to answer "the last 100 lines of web" or "everything after
//! seq 420". Each line is stamped with the wall-clock time it reached the server.

use std::collections::VecDeque;
use std::time::SystemTime;

use super::api::{LogLineJson, LogsJson};
use super::time::rfc3339;
use crate::model::Stream;
use crate::store::LogSource;
use crate::store::view::LogEntry;

/// Lines kept for `/api/logs`; older ones are only in the engine's own buffers.
pub const KEPT_LINES: usize = 20_000;

/// A line as the API serves it.
pub fn log_json(e: &LogEntry, at: SystemTime) -> LogLineJson {
    LogLineJson {
        seq: e.seq,
        resource: e.resource.clone(),
        source: match (&e.resource, e.source) {
            (None, _) => "tiltfile",
            (Some(_), LogSource::Build) => "build",
            (Some(_), LogSource::Runtime) => "runtime",
        }
        .to_owned(),
        level: level(e.stream, &e.text).to_owned(),
        time: rfc3339(at),
        text: e.text.clone(),
    }
}

/// stilt's own lines say when something failed or warns; program output is "info"
/// (a program's stderr is not an error by itself).
pub fn level(stream: Stream, text: &str) -> &'static str {
    let t = text.trim_start().to_ascii_lowercase();
    let system = matches!(stream, Stream::System) || t.starts_with("tiltfile error");
    if t.starts_with("warning") {
        "warn"
    } else if system
        && (t.starts_with("error") || t.contains("failed") || t.starts_with("tiltfile error"))
    {
        "error"
    } else {
        "info"
    }
}

/// A query of the history: `/api/logs?resource=..&since_seq=..&tail=..`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct LogQuery {
    pub resource: Option<String>,
    pub since_seq: Option<u64>,
    pub tail: Option<usize>,
}

#[derive(Debug, Default)]
pub struct LogHistory {
    lines: VecDeque<LogLineJson>,
    last_seq: u64,
}

impl LogHistory {
    pub fn push(&mut self, line: LogLineJson) {
        self.last_seq = self.last_seq.max(line.seq);
        self.lines.push_back(line);
        while self.lines.len() > KEPT_LINES {
            self.lines.pop_front();
        }
    }

    /// Matching lines, oldest first; `nextSeq` is what to pass as `since_seq` next.
    pub fn query(&self, q: &LogQuery) -> LogsJson {
        let since = q.since_seq.unwrap_or(0);
        let matches = |l: &&LogLineJson| {
            l.seq > since
                && q.resource.as_deref().is_none_or(|r| {
                    l.resource.as_deref() == Some(r) || (r == "(Tiltfile)" && l.resource.is_none())
                })
        };
        let mut lines: Vec<LogLineJson> = self.lines.iter().filter(matches).cloned().collect();
        if let Some(tail) = q.tail {
            let skip = lines.len().saturating_sub(tail);
            lines.drain(..skip);
        }
        LogsJson {
            lines,
            next_seq: Some(self.last_seq.max(since)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: u64, resource: Option<&str>) -> LogLineJson {
        LogLineJson {
            seq,
            resource: resource.map(str::to_owned),
            source: "build".into(),
            level: "info".into(),
            time: "1970-01-01T00:00:00Z".into(),
            text: format!("line {seq}"),
        }
    }

    fn seqs(j: &LogsJson) -> Vec<u64> {
        j.lines.iter().map(|l| l.seq).collect()
    }

    #[test]
    fn queries_filter_by_resource_seq_and_tail() {
        let mut h = LogHistory::default();
        for i in 1..=6 {
            h.push(line(i, if i % 2 == 0 { Some("web") } else { None }));
        }
        let q = |resource: Option<&str>, since_seq, tail| LogQuery {
            resource: resource.map(str::to_owned),
            since_seq,
            tail,
        };
        assert_eq!(seqs(&h.query(&q(Some("web"), None, None))), [2, 4, 6]);
        assert_eq!(seqs(&h.query(&q(None, Some(4), None))), [5, 6]);
        assert_eq!(seqs(&h.query(&q(None, None, Some(2)))), [5, 6]);
        assert_eq!(
            seqs(&h.query(&q(Some("(Tiltfile)"), None, None))),
            [1, 3, 5]
        );
        assert_eq!(h.query(&q(None, Some(6), None)).next_seq, Some(6));
    }

    #[test]
    fn the_history_keeps_only_the_newest_lines() {
        let mut h = LogHistory::default();
        for i in 1..=(KEPT_LINES as u64 + 5) {
            h.push(line(i, None));
        }
        let all = h.query(&LogQuery::default());
        assert_eq!(all.lines.len(), KEPT_LINES);
        assert_eq!(all.lines[0].seq, 6);
    }

    #[test]
    fn stilt_failures_are_errors_and_program_stderr_is_not() {
        assert_eq!(level(Stream::System, "Build failed: exit 1"), "error");
        assert_eq!(level(Stream::Stderr, "error: something"), "info");
        assert_eq!(level(Stream::Stderr, "WARNING: x"), "warn");
    }
}
