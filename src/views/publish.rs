//! The one snapshot publisher: after each engine turn it takes one [`Snapshot`]
//! (wall-clock times, no logs) and the new log lines, and hands them to every
//! subscriber without ever waiting for one. The terminal UI subscribes; the web API
//! will too.
//!
//! Snapshots go through a `watch` channel (a subscriber only ever needs the latest,
//! and an unchanged snapshot is not sent, so an idle engine wakes nobody). Log lines
//! go to each subscriber through its own unbounded channel with a count of lines it
//! has not taken yet: above [`MAX_IN_FLIGHT`] new lines are dropped for that
//! subscriber and counted, and a note says how many, so a slow reader costs bounded
//! memory and never blocks the engine or the other readers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use tokio::sync::{mpsc, watch};

use crate::engine::View;
use crate::engine::schedule::Decision;
use crate::model::Stream;
use crate::store::view::{LogCursor, LogEntry, Now, Snapshot, snapshot};
use crate::store::{EngineState, LogSource};

/// Lines sent to a subscriber and not yet taken, above which new lines are dropped.
pub const MAX_IN_FLIGHT: usize = 50_000;

/// What a subscriber gets.
pub struct Feed {
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// Taken by the reader when it starts.
    pub logs: Option<mpsc::UnboundedReceiver<Vec<LogEntry>>>,
    /// Lines sent and not yet taken: the publisher drops lines above a limit.
    pub in_flight: Arc<AtomicUsize>,
}

struct Subscriber {
    logs: mpsc::UnboundedSender<Vec<LogEntry>>,
    in_flight: Arc<AtomicUsize>,
    /// Lines dropped since the last note about it.
    dropped: usize,
}

/// Subscribes readers, before or while the engine runs (cheap to clone).
#[derive(Clone)]
pub struct Subscriptions {
    snapshots: watch::Sender<Arc<Snapshot>>,
    subscribers: Arc<Mutex<Vec<Subscriber>>>,
}

impl Subscriptions {
    /// A new reader: the latest snapshot at once, log lines from now on.
    pub fn subscribe(&self) -> Feed {
        let (tx, rx) = mpsc::unbounded_channel();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let mut subs = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        subs.push(Subscriber {
            logs: tx,
            in_flight: in_flight.clone(),
            dropped: 0,
        });
        Feed {
            snapshots: self.snapshots.subscribe(),
            logs: Some(rx),
            in_flight,
        }
    }
}

/// The engine-side view that publishes.
pub struct Publisher {
    subs: Subscriptions,
    cursor: LogCursor,
}

impl Publisher {
    pub fn new() -> Publisher {
        let (snapshots, _) = watch::channel(Arc::new(Snapshot::default()));
        Publisher {
            subs: Subscriptions {
                snapshots,
                subscribers: Arc::default(),
            },
            cursor: LogCursor::default(),
        }
    }

    pub fn subscriptions(&self) -> Subscriptions {
        self.subs.clone()
    }

    fn publish(&mut self, state: &EngineState, decision: &Decision, now: Instant) {
        let now = Now {
            mono: now,
            wall: SystemTime::now(),
        };
        // One index per turn: looking each resource's hold up in the list is quadratic.
        let holds: std::collections::HashMap<&str, &crate::engine::schedule::Hold> = decision
            .holds
            .iter()
            .map(|(n, h)| (n.as_str(), h))
            .collect();
        let snap = snapshot(state, |n| holds.get(n).map(ToString::to_string), now);
        self.subs.snapshots.send_if_modified(|old| {
            let changed = **old != snap;
            if changed {
                *old = Arc::new(snap);
            }
            changed
        });
        let lines = self.cursor.new_lines(state);
        if lines.is_empty() {
            return;
        }
        let mut subs = self
            .subs
            .subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // A reader that went away is forgotten.
        subs.retain(|s| !s.logs.is_closed());
        for s in subs.iter_mut() {
            send(s, lines.clone());
        }
    }
}

impl Default for Publisher {
    fn default() -> Self {
        Publisher::new()
    }
}

fn send(s: &mut Subscriber, mut lines: Vec<LogEntry>) {
    let room = MAX_IN_FLIGHT.saturating_sub(s.in_flight.load(Ordering::SeqCst));
    if lines.len() > room {
        s.dropped += lines.len() - room;
        lines.truncate(room);
    } else if s.dropped > 0 {
        lines.insert(0, dropped_note(s.dropped, lines[0].seq));
        s.dropped = 0;
    }
    if lines.is_empty() {
        return;
    }
    s.in_flight.fetch_add(lines.len(), Ordering::SeqCst);
    let _ = s.logs.send(lines);
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

impl View for Publisher {
    fn update(&mut self, state: &EngineState, decision: &Decision, now: Instant) -> Option<i32> {
        self.publish(state, decision, now);
        None
    }

    fn finish(&mut self, state: &EngineState, decision: &Decision) {
        self.publish(state, decision, crate::clock::now());
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::{Action, reduce};

    fn log(state: &mut EngineState, text: &str) {
        reduce(
            state,
            Action::Log {
                resource: None,
                stream: Stream::Stdout,
                text: text.into(),
            },
        );
    }

    fn texts(feed: &mut Feed) -> Vec<String> {
        let rx = feed.logs.as_mut().expect("logs not taken");
        let mut out = Vec::new();
        while let Ok(batch) = rx.try_recv() {
            feed.in_flight.fetch_sub(batch.len(), Ordering::SeqCst);
            out.extend(batch.into_iter().map(|l| l.text));
        }
        out
    }

    #[test]
    fn every_subscriber_gets_the_snapshot_and_each_new_line_once() {
        let mut state = EngineState::new("/p/Tiltfile".into());
        let mut p = Publisher::new();
        let mut early = p.subscriptions().subscribe();
        log(&mut state, "one");
        p.update(&state, &Decision::default(), Instant::now());
        let mut late = p.subscriptions().subscribe();
        log(&mut state, "two");
        state.tiltfile.loading = true;
        p.update(&state, &Decision::default(), Instant::now());
        assert_eq!(texts(&mut early), ["one", "two"]);
        assert_eq!(texts(&mut late), ["two"]);
        assert!(early.snapshots.borrow().tiltfile_loading);
        assert!(late.snapshots.borrow().tiltfile_loading);
    }

    #[test]
    fn a_reader_that_falls_behind_loses_lines_with_a_note_and_slows_nobody() {
        let mut state = EngineState::new("/p/Tiltfile".into());
        let mut p = Publisher::new();
        let mut slow = p.subscriptions().subscribe();
        let mut fast = p.subscriptions().subscribe();
        slow.in_flight.store(MAX_IN_FLIGHT, Ordering::SeqCst);
        log(&mut state, "lost");
        p.update(&state, &Decision::default(), Instant::now());
        assert_eq!(texts(&mut fast), ["lost"]);
        slow.in_flight.store(0, Ordering::SeqCst);
        log(&mut state, "kept");
        p.update(&state, &Decision::default(), Instant::now());
        assert_eq!(
            texts(&mut slow),
            ["1 log lines dropped: the UI could not keep up", "kept"]
        );
        assert_eq!(texts(&mut fast), ["kept"]);
    }

    #[test]
    fn snapshot_times_are_wall_clock_times() {
        let mono = Instant::now();
        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let now = Now { mono, wall };
        let ran = mono.checked_sub(Duration::from_secs(65)).expect("uptime");
        assert_eq!(now.wall_of(ran), wall - Duration::from_secs(65));
    }
}
