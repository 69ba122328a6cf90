//! The engine side of the terminal UI: a [`View`] that hands snapshots and new log
//! lines to the UI task without ever waiting for it.
//!
//! Snapshots go through a `watch` channel (the UI only ever needs the latest, and an
//! unchanged snapshot is not sent, so an idle engine never wakes the UI). Log lines
//! go through an unbounded channel with a count of lines the UI has not taken yet:
//! above [`MAX_IN_FLIGHT`] new lines are dropped and counted, and a note says how
//! many, so a flood of output costs bounded memory and never blocks the engine.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tokio::sync::{mpsc, watch};

use crate::engine::View;
use crate::engine::schedule::Decision;
use crate::process::Stream;
use crate::store::view::{LogCursor, LogEntry, Snapshot, snapshot};
use crate::store::{EngineState, LogSource};
use crate::tui::Feed;

/// Lines sent to the UI and not yet taken, above which new lines are dropped.
pub const MAX_IN_FLIGHT: usize = 50_000;

pub struct TuiView {
    snapshots: watch::Sender<Arc<Snapshot>>,
    logs: mpsc::UnboundedSender<Vec<LogEntry>>,
    in_flight: Arc<AtomicUsize>,
    cursor: LogCursor,
    /// Lines dropped since the last note about it.
    dropped: usize,
}

impl TuiView {
    /// The view and the feed for the UI task.
    pub fn new() -> (TuiView, Feed) {
        let (snapshots, srx) = watch::channel(Arc::new(Snapshot::default()));
        let (logs, lrx) = mpsc::unbounded_channel();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let feed = Feed {
            snapshots: srx,
            logs: Some(lrx),
            in_flight: in_flight.clone(),
        };
        let view = TuiView {
            snapshots,
            logs,
            in_flight,
            cursor: LogCursor::default(),
            dropped: 0,
        };
        (view, feed)
    }

    fn publish(&mut self, state: &EngineState, decision: &Decision) {
        let snap = snapshot(state, |n| decision.hold_of(n).map(ToString::to_string));
        self.snapshots.send_if_modified(|old| {
            let changed = **old != snap;
            if changed {
                *old = Arc::new(snap);
            }
            changed
        });
        let mut lines = self.cursor.new_lines(state);
        if lines.is_empty() {
            return;
        }
        let room = MAX_IN_FLIGHT.saturating_sub(self.in_flight.load(Ordering::SeqCst));
        if lines.len() > room {
            self.dropped += lines.len() - room;
            lines.truncate(room);
        } else if self.dropped > 0 {
            lines.insert(0, dropped_note(self.dropped, lines[0].seq));
            self.dropped = 0;
        }
        if lines.is_empty() {
            return;
        }
        self.in_flight.fetch_add(lines.len(), Ordering::SeqCst);
        let _ = self.logs.send(lines);
    }
}

fn dropped_note(count: usize, seq: u64) -> LogEntry {
    LogEntry {
        seq,
        resource: None,
        stream: Stream::System,
        source: LogSource::Build,
        text: format!("{count} log lines dropped: the UI could not keep up"),
    }
}

impl View for TuiView {
    fn update(&mut self, state: &EngineState, decision: &Decision, _now: Instant) -> Option<i32> {
        self.publish(state, decision);
        None
    }

    fn finish(&mut self, state: &EngineState, decision: &Decision) {
        self.publish(state, decision);
    }
}
