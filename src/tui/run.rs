//! The UI task: waits for input, a new snapshot, new log lines or (only while
//! something is busy) a spinner tick, and redraws after each. Nothing else wakes it,
//! so an idle UI uses no CPU.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::app::App;
use super::input::{intent, mouse_intent};
use super::terminal::Tui;
use crate::store::Intent as EngineIntent;
use crate::store::view::{LogEntry, Snapshot};
use crate::views::publish::Feed;

const SPINNER_PERIOD: Duration = Duration::from_millis(120);

/// Runs until the engine side closes the feed (after it stopped everything). If the
/// terminal fails, the engine is asked to stop: nobody could see or quit it.
pub async fn run(
    tui: Tui,
    feed: Feed,
    actions: mpsc::UnboundedSender<EngineIntent>,
) -> io::Result<()> {
    let result = ui_loop(tui, feed, &actions).await;
    if result.is_err() {
        let _ = actions.send(EngineIntent::Quit);
    }
    result
}

async fn ui_loop(
    mut tui: Tui,
    mut feed: Feed,
    actions: &mpsc::UnboundedSender<EngineIntent>,
) -> io::Result<()> {
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut app = App::new(SystemTime::now(), color);
    let mut snap = feed.snapshots.borrow().clone();
    let mut events = Some(EventStream::new());
    let mut logs = feed.logs.take();
    let mut dirty = true;
    loop {
        if dirty {
            redraw(&mut tui, &mut app, &snap)?;
        }
        let busy = snap.busy() || app.quitting;
        dirty = tokio::select! {
            ev = next_event(&mut events) => match ev {
                Some(ev) => on_event(ev, &mut app, &snap, actions),
                None => {
                    // The terminal went away: stop everything, then exit.
                    events = None;
                    let _ = actions.send(EngineIntent::Quit);
                    false
                }
            },
            changed = feed.snapshots.changed() => match changed {
                Ok(()) => {
                    snap = feed.snapshots.borrow_and_update().clone();
                    true
                }
                Err(_) => return Ok(()),
            },
            batch = next_batch(&mut logs) => on_logs(batch, &mut logs, &mut app, &snap, &feed),
            _ = tokio::time::sleep(SPINNER_PERIOD), if busy => {
                app.tick = app.tick.wrapping_add(1);
                true
            }
        };
    }
}

fn redraw(tui: &mut Tui, app: &mut App, snap: &Snapshot) -> io::Result<()> {
    app.now = SystemTime::now();
    let size = tui.terminal.size()?;
    app.page = super::log_page(size.height);
    tui.terminal.draw(|f| super::draw(f, app, snap))?;
    Ok(())
}

/// Takes a batch and whatever else is queued; a closed channel is no longer polled.
fn on_logs(
    batch: Option<Vec<LogEntry>>,
    logs: &mut Option<mpsc::UnboundedReceiver<Vec<LogEntry>>>,
    app: &mut App,
    snap: &Snapshot,
    feed: &Feed,
) -> bool {
    let Some(batch) = batch else {
        *logs = None;
        return false;
    };
    take_logs(batch, app, snap, &feed.in_flight);
    if let Some(rx) = logs.as_mut() {
        while let Ok(more) = rx.try_recv() {
            take_logs(more, app, snap, &feed.in_flight);
        }
    }
    true
}

fn take_logs(batch: Vec<LogEntry>, app: &mut App, snap: &Snapshot, in_flight: &AtomicUsize) {
    in_flight.fetch_sub(batch.len(), Ordering::SeqCst);
    app.push_logs(batch, snap);
}

/// Handles one terminal event; returns whether the screen needs a redraw.
fn on_event(
    ev: Event,
    app: &mut App,
    snap: &Snapshot,
    actions: &mpsc::UnboundedSender<EngineIntent>,
) -> bool {
    let wanted = match ev {
        Event::Key(key) => intent(key, app.mode),
        Event::Mouse(m) => mouse_intent(m),
        Event::Resize(..) => return true,
        _ => None,
    };
    let Some(wanted) = wanted else {
        return false;
    };
    app.now = SystemTime::now();
    if let Some(action) = app.apply(wanted, snap) {
        let _ = actions.send(action);
    }
    true
}

async fn next_event(events: &mut Option<EventStream>) -> Option<Event> {
    match events {
        Some(s) => match s.next().await {
            Some(Ok(ev)) => Some(ev),
            Some(Err(_)) | None => None,
        },
        None => std::future::pending().await,
    }
}

async fn next_batch(
    logs: &mut Option<mpsc::UnboundedReceiver<Vec<LogEntry>>>,
) -> Option<Vec<LogEntry>> {
    match logs {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
