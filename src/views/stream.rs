//! Streaming output: every new log line, prefixed with its resource, plus hold changes.

use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

use crate::engine::View;
use crate::engine::schedule::Decision;
use crate::process::Stream;
use crate::store::{EngineState, LogLine};

const TILTFILE: &str = "(Tiltfile)";

pub struct StreamView<W: Write + Send> {
    out: W,
    last_seq: u64,
    holds: HashMap<String, String>,
    width: usize,
}

impl<W: Write + Send> StreamView<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            last_seq: 0,
            holds: HashMap::new(),
            width: TILTFILE.len(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    pub fn out_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Prints what is new since the last call.
    pub fn print_new(&mut self, state: &EngineState, decision: &Decision) {
        self.width = state
            .order
            .iter()
            .map(|n| n.as_str().len())
            .chain([self.width])
            .max()
            .unwrap_or(10)
            .min(32);
        let mut lines: Vec<(&str, &LogLine)> = state
            .tiltfile
            .logs
            .since(self.last_seq)
            .map(|l| (TILTFILE, l))
            .collect();
        for r in state.ordered() {
            lines.extend(r.logs.since(self.last_seq).map(|l| (r.name().as_str(), l)));
        }
        lines.sort_by_key(|(_, l)| l.seq);
        for (name, line) in &lines {
            let mark = match line.stream {
                Stream::System => "• ",
                Stream::Stderr | Stream::Stdout => "",
            };
            let _ = writeln!(self.out, "{name:>w$} │ {mark}{}", line.text, w = self.width);
        }
        self.last_seq = self.last_seq.max(lines.last().map_or(0, |(_, l)| l.seq));
        self.print_holds(state, decision);
        let _ = self.out.flush();
    }

    /// Holds are printed when they change, so "waiting on db" shows once.
    fn print_holds(&mut self, state: &EngineState, decision: &Decision) {
        for r in state.ordered() {
            let name = r.name().as_str();
            let now = decision
                .hold_of(name)
                .map(|h| h.to_string())
                .unwrap_or_default();
            let before = self
                .holds
                .insert(name.to_owned(), now.clone())
                .unwrap_or_default();
            if now != before && !now.is_empty() {
                let _ = writeln!(self.out, "{name:>w$} │ • {now}", w = self.width);
            }
        }
    }
}

impl<W: Write + Send> View for StreamView<W> {
    fn update(&mut self, state: &EngineState, decision: &Decision, _now: Instant) -> Option<i32> {
        self.print_new(state, decision);
        None
    }

    fn finish(&mut self, state: &EngineState, decision: &Decision) {
        self.print_new(state, decision);
    }
}
