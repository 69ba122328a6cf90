//! File watching: turns OS file events into debounced batches of changed paths.
//!
//! The engine sees only the `FileWatch` trait and `WatchEvent`s on a channel, so
//! it can run against `fake::FakeWatch` in tests. The real `NotifyWatch` owns one
//! background thread that holds the inotify watcher, the ignore rules and the
//! debouncer; everything that touches the OS lives there.
//!
//! Shape, and why:
//! - one `NonRecursive` watch per kept directory, from our own walk, so ignored
//!   trees (`node_modules/`, `.git/`) never consume inotify watches;
//! - ignored paths are dropped before debouncing, so they never wake the engine;
//! - a root that is a file is watched through its parent directory and always
//!   reported, even when a `.gitignore` would ignore it (a Tiltfile must reload);
//! - a missing root is watched through its parent directory when that exists (its
//!   creation is reported and, if it is a directory, it is then walked); a root
//!   whose parent is missing too is skipped without error until the next
//!   `configure` with a different config or a rescan;
//! - on queue overflow the watcher re-walks, emits `WatchError::EventsDropped`
//!   AND reports every root as changed, so nothing is silently missed;
//! - a batch containing a `.gitignore` (or the base `.tiltignore`) makes the
//!   watcher re-read its rules and diff its watches when the batch is sent;
//! - hitting the inotify limit is `WatchError::WatchLimit`: returned by
//!   `configure`, or sent as `WatchEvent::Error` for directories created later.
//!
//! Not handled: a watched directory that is deleted and re-created while its
//! parent is not watched (e.g. the parent of a file root) is picked up again
//! only by the next `configure` with a changed config, or a rescan.

pub mod debounce;
mod error;
#[cfg(any(test, feature = "testing"))]
pub mod fake;
pub mod ignore;
mod notify_backend;
mod walk;

#[cfg(test)]
mod integration_tests;

use std::path::PathBuf;
use std::time::Duration;

pub use self::debounce::Debouncer;
pub use self::error::{IgnoreOrigin, WatchError};
pub use self::ignore::{IgnoreRules, PathFilter};
pub use self::notify_backend::NotifyWatch;

/// What to watch and what to ignore. Compared as a whole: an identical config
/// makes `configure` a no-op.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchConfig {
    /// Absolute files or directories to watch; they may not exist yet.
    pub roots: Vec<PathBuf>,
    /// The Tiltfile's directory: `.tiltignore` lives here and `extra_ignores`
    /// are relative to it.
    pub base_dir: PathBuf,
    /// Honour `.gitignore` files (stilt's default; Tilt never does).
    pub use_gitignore: bool,
    /// `watch_settings(ignore=[...])` patterns, gitignore syntax.
    pub extra_ignores: Vec<String>,
    /// Debounce quiet window (stilt default 15 ms).
    pub quiet: Duration,
    /// Cap on how long a steady stream of events may hold a batch back.
    pub max_wait: Duration,
}

/// What the watcher reports to the engine.
#[derive(Debug)]
pub enum WatchEvent {
    /// One debounced batch: absolute paths, deduplicated, sorted.
    Changed(Vec<PathBuf>),
    /// Something the user should know about (watch limit, dropped events...).
    Error(WatchError),
}

/// The seam the engine uses: a real implementation and a hand-written fake.
pub trait FileWatch: Send {
    /// Replace what is watched (at start and after each Tiltfile reload).
    /// Cheap when the config did not change.
    fn configure(&mut self, cfg: WatchConfig) -> Result<(), WatchError>;
}
