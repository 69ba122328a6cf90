//! The UI's own copy of the logs: capped, so a flood of output costs bounded memory.
//!
//! The engine hands each line over once; the UI keeps the newest lines up to a byte
//! cap and answers "which lines does the pane show" for a filter.

use std::collections::VecDeque;

use crate::model::Stream;
use crate::store::LogSource;
use crate::store::view::LogEntry;

/// Bytes of log text the UI keeps (older lines are dropped first).
pub const CAP_BYTES: usize = 4 << 20;

/// Which log lines the pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sources {
    #[default]
    All,
    Build,
    Runtime,
}

impl Sources {
    pub fn next(self) -> Self {
        match self {
            Sources::All => Sources::Build,
            Sources::Build => Sources::Runtime,
            Sources::Runtime => Sources::All,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Sources::All => "build+runtime",
            Sources::Build => "build",
            Sources::Runtime => "runtime",
        }
    }

    fn admits(self, s: LogSource) -> bool {
        match self {
            Sources::All => true,
            Sources::Build => s == LogSource::Build,
            Sources::Runtime => s == LogSource::Runtime,
        }
    }
}

/// Which lines are shown: a resource (or all), a source, a text (case-insensitive).
#[derive(Debug, Clone, Copy)]
pub struct LogFilter<'a> {
    pub resource: Option<&'a str>,
    pub sources: Sources,
    /// Lower-case.
    pub text: &'a str,
}

impl LogFilter<'_> {
    pub fn admits(&self, e: &LogEntry) -> bool {
        if let Some(name) = self.resource
            && e.resource.as_deref() != Some(name)
        {
            return false;
        }
        self.sources.admits(e.source) && (self.text.is_empty() || shown_text_matches(e, self.text))
    }
}

/// The filter matches the line as the pane shows it: stilt's own lines start with `• `.
fn shown_text_matches(e: &LogEntry, lower: &str) -> bool {
    let text = e.text.to_lowercase();
    if e.stream == Stream::System {
        format!("• {text}").contains(lower)
    } else {
        text.contains(lower)
    }
}

#[derive(Debug, Clone)]
pub struct LogStore {
    lines: VecDeque<LogEntry>,
    bytes: usize,
    cap: usize,
    pub dropped: u64,
}

impl Default for LogStore {
    fn default() -> Self {
        Self::with_cap(CAP_BYTES)
    }
}

impl LogStore {
    pub fn with_cap(cap: usize) -> Self {
        Self {
            lines: VecDeque::new(),
            bytes: 0,
            cap,
            dropped: 0,
        }
    }

    pub fn push(&mut self, mut e: LogEntry) {
        // The UI draws text: a program's colour codes would show as garbage.
        if let std::borrow::Cow::Owned(plain) = crate::ansi::strip(&e.text) {
            e.text = plain;
        }
        self.bytes += e.text.len() + 1;
        self.lines.push_back(e);
        while self.bytes > self.cap && self.lines.len() > 1 {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.text.len() + 1;
                self.dropped += 1;
            }
        }
    }

    /// Lines the filter admits, oldest first.
    pub fn matching<'s>(&'s self, f: LogFilter<'s>) -> impl Iterator<Item = &'s LogEntry> + 's {
        self.lines.iter().filter(move |e| f.admits(e))
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}
