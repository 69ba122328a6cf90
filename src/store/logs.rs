//! Per-resource log buffer with a byte cap: the oldest lines go first.

use std::collections::VecDeque;

use crate::model::Stream;

/// Which log a line belongs to: what a run printed (build), or what the resource's
/// server or container printed while it ran (runtime). UIs switch between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogSource {
    #[default]
    Build,
    Runtime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Global order of arrival across all resources (views print lines after the last seen).
    pub seq: u64,
    pub stream: Stream,
    pub text: String,
    pub source: LogSource,
}

#[derive(Debug, Clone, Default)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    bytes: usize,
    /// Lines dropped to stay under the cap.
    pub dropped: u64,
}

impl LogBuffer {
    pub fn push(&mut self, line: LogLine, cap_bytes: usize) {
        self.bytes += line.text.len() + 1;
        self.lines.push_back(line);
        while self.bytes > cap_bytes && self.lines.len() > 1 {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.text.len() + 1;
                self.dropped += 1;
            }
        }
    }

    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &LogLine> + ExactSizeIterator {
        self.lines.iter()
    }

    /// Lines that arrived after `seq`, oldest first.
    pub fn since(&self, seq: u64) -> impl Iterator<Item = &LogLine> {
        let start = self.lines.partition_point(|l| l.seq <= seq);
        self.lines.range(start..)
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(seq: u64, text: &str) -> LogLine {
        LogLine {
            seq,
            stream: Stream::Stdout,
            text: text.into(),
            source: LogSource::Build,
        }
    }

    #[test]
    fn the_cap_drops_oldest_lines_first() {
        let mut b = LogBuffer::default();
        for i in 0..10 {
            b.push(line(i, "0123456789"), 35);
        }
        let kept: Vec<u64> = b.lines().map(|l| l.seq).collect();
        assert_eq!(kept, [7, 8, 9]);
        assert_eq!(b.dropped, 7);
        assert!(b.bytes() <= 35);
    }

    #[test]
    fn since_returns_only_newer_lines() {
        let mut b = LogBuffer::default();
        for i in 1..=5 {
            b.push(line(i, "x"), 1000);
        }
        let newer: Vec<u64> = b.since(3).map(|l| l.seq).collect();
        assert_eq!(newer, [4, 5]);
    }
}
