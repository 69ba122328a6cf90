//! `NotifyWatch`: the real `FileWatch`, backed by notify (inotify on Linux).
//!
//! One std thread owns all watcher state (`state::State`) and is driven by one
//! channel: notify's callback, `configure`, and shutdown all send it messages.
//! It blocks on the channel while idle, and uses a receive timeout only while a
//! debounced batch is pending, so an idle watcher costs no CPU. A std thread
//! (not a tokio task) because walking directories and adding watches are
//! blocking syscalls; tokio's `UnboundedSender::send` works from any thread.
//! Dropping `NotifyWatch` stops and joins the thread, which drops the notify
//! watcher (and with it notify's own event-loop thread).

mod state;

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::thread::JoinHandle;
use std::time::Instant;

use tokio::sync::mpsc::UnboundedSender;

use self::state::State;
use super::{FileWatch, WatchConfig, WatchError, WatchEvent};

/// Messages to the watcher thread.
enum Msg {
    Notify(notify::Result<notify::Event>),
    Configure(WatchConfig, SyncSender<Result<(), WatchError>>),
    WatchedDirs(SyncSender<Vec<PathBuf>>),
    Shutdown,
}

/// Watches directories with one non-recursive inotify watch each.
pub struct NotifyWatch {
    tx: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
    /// The last config applied successfully, for the no-op check.
    current: Option<WatchConfig>,
}

impl NotifyWatch {
    /// Starts the watcher thread; nothing is watched until `configure`.
    /// If the OS cannot start a thread, `configure` reports `WatchError::Stopped`.
    pub fn new(out: UnboundedSender<WatchEvent>) -> Self {
        let (tx, rx) = mpsc::channel();
        let handler_tx = tx.clone();
        let thread = std::thread::Builder::new()
            .name("stilt-watch".into())
            .spawn(move || run(rx, handler_tx, out))
            .ok();
        Self {
            tx,
            thread,
            current: None,
        }
    }

    /// Directories that currently hold an inotify watch, sorted (for `stilt
    /// doctor`-style reporting and tests).
    pub fn watched_dirs(&self) -> Vec<PathBuf> {
        let (reply, answer) = mpsc::sync_channel(1);
        if self.tx.send(Msg::WatchedDirs(reply)).is_err() {
            return Vec::new();
        }
        answer.recv().unwrap_or_default()
    }
}

impl FileWatch for NotifyWatch {
    /// Blocks while the new roots are walked and watches are diffed; call it
    /// from `spawn_blocking` if the tree is large.
    fn configure(&mut self, cfg: WatchConfig) -> Result<(), WatchError> {
        if self.current.as_ref() == Some(&cfg) {
            return Ok(());
        }
        let (reply, answer) = mpsc::sync_channel(1);
        self.tx
            .send(Msg::Configure(cfg.clone(), reply))
            .map_err(|_| WatchError::Stopped)?;
        answer.recv().map_err(|_| WatchError::Stopped)??;
        self.current = Some(cfg);
        Ok(())
    }
}

impl Drop for NotifyWatch {
    fn drop(&mut self) {
        let _already_stopped = self.tx.send(Msg::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _panicked = thread.join();
        }
    }
}

/// The watcher thread: waits for messages, or for the pending batch's deadline.
fn run(rx: Receiver<Msg>, handler_tx: Sender<Msg>, out: UnboundedSender<WatchEvent>) {
    let mut state = State::new(out);
    loop {
        let msg = match state.deadline() {
            None => match rx.recv() {
                Ok(msg) => msg,
                Err(_) => return,
            },
            Some(deadline) => {
                let wait = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(wait) {
                    Ok(msg) => msg,
                    Err(RecvTimeoutError::Timeout) => {
                        state.flush(Instant::now());
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
        };
        match msg {
            Msg::Shutdown => return,
            Msg::Configure(cfg, reply) => {
                let _caller_gone = reply.send(state.configure(cfg, &handler_tx));
            }
            Msg::WatchedDirs(reply) => {
                let _caller_gone = reply.send(state.watched_dirs());
            }
            Msg::Notify(event) => state.on_notify(event, Instant::now()),
        }
        // Also flush here: under a steady stream the timeout never fires.
        state.flush(Instant::now());
    }
}

/// notify's callback: forwards to the watcher thread (runs on notify's thread).
fn forward(tx: Sender<Msg>) -> impl FnMut(notify::Result<notify::Event>) + Send + 'static {
    move |event| {
        let _thread_stopped = tx.send(Msg::Notify(event));
    }
}
