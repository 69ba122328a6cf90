//! Typed watcher errors. Each variant says what was being done and to which path,
//! because the UI shows these to users who must act on them (raise a kernel
//! limit, fix a pattern) without reading stilt's source.

use std::fmt;
use std::path::PathBuf;

/// Where an ignore pattern came from, so an invalid one can be pointed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreOrigin {
    /// A line of a `.tiltignore` file.
    TiltIgnore { path: PathBuf, line: usize },
    /// `watch_settings(ignore=[...])` in the Tiltfile.
    WatchSettings,
    /// A resource's `ignore=` argument.
    ResourceIgnore,
}

impl fmt::Display for IgnoreOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TiltIgnore { path, line } => write!(f, "{}:{line}", path.display()),
            Self::WatchSettings => f.write_str("watch_settings(ignore=[...])"),
            Self::ResourceIgnore => f.write_str("a resource's ignore="),
        }
    }
}

/// Everything that can go wrong while watching files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The kernel refused another inotify watch. Files below `path` (and any
    /// directory not yet watched) are NOT being watched.
    #[error(
        "cannot watch {path}: reached the inotify watch limit fs.inotify.max_user_watches \
         (currently {current}) while watching {watched} directories. \
         Raise it now with `sudo sysctl fs.inotify.max_user_watches=524288`, and keep it across \
         reboots with `echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/90-stilt-inotify.conf \
         && sudo sysctl --system`; or ignore large directories in .tiltignore / watch_settings(ignore=...)",
        path = path.display(),
        current = limit_text(*.limit)
    )]
    WatchLimit {
        /// The directory that could not be watched.
        path: PathBuf,
        /// `/proc/sys/fs/inotify/max_user_watches`, when readable.
        limit: Option<u64>,
        /// How many directories this watcher had watched when the limit was hit.
        watched: usize,
    },

    /// An ignore pattern does not parse.
    #[error("invalid ignore pattern `{pattern}` in {origin}: {reason}")]
    InvalidIgnorePattern {
        pattern: String,
        origin: IgnoreOrigin,
        reason: String,
    },

    /// An ignore file exists but could not be read.
    #[error("cannot read ignore file {path}: {source}", path = path.display())]
    ReadIgnoreFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The OS watcher itself could not be started (e.g. inotify instance limit).
    #[error("cannot start the file watcher: {source}")]
    Start {
        #[source]
        source: notify::Error,
    },

    /// Adding a watch on a directory failed for a reason other than the limit.
    #[error("cannot watch {path}: {source}", path = path.display())]
    AddWatch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },

    /// The kernel event queue overflowed (fs.inotify.max_queued_events): some
    /// events were lost. The watcher re-scanned and reported every root as changed.
    #[error(
        "file events were dropped (inotify queue overflow, see fs.inotify.max_queued_events); \
         re-scanned and reported all {roots} watched roots as changed"
    )]
    EventsDropped { roots: usize },

    /// The OS watcher reported an error while delivering events.
    #[error("file watcher error: {source}")]
    Backend {
        #[source]
        source: notify::Error,
    },

    /// The background watcher thread is gone (it panicked or was shut down).
    #[error("the file watcher thread has stopped")]
    Stopped,
}

/// Reads the current inotify watch limit, if the kernel exposes it.
pub(crate) fn read_watch_limit() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches")
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn limit_text(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unknown".to_string(), |n| n.to_string())
}

/// True when a notify error means "no more inotify watches" (the kernel says ENOSPC).
pub(crate) fn is_watch_limit(err: &notify::Error) -> bool {
    match &err.kind {
        notify::ErrorKind::MaxFilesWatch => true,
        notify::ErrorKind::Io(io) => io.raw_os_error() == Some(28), // ENOSPC
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_limit_message_names_the_limit_and_the_fix() {
        let err = WatchError::WatchLimit {
            path: PathBuf::from("/p/src"),
            limit: Some(8192),
            watched: 8000,
        };
        let msg = err.to_string();
        assert!(
            msg.contains("fs.inotify.max_user_watches (currently 8192)"),
            "{msg}"
        );
        assert!(msg.contains("while watching 8000 directories"), "{msg}");
        assert!(
            msg.contains("sudo sysctl fs.inotify.max_user_watches=524288"),
            "{msg}"
        );
        assert!(msg.contains("/etc/sysctl.d/"), "{msg}");
    }

    #[test]
    fn invalid_pattern_message_names_pattern_and_origin() {
        let err = WatchError::InvalidIgnorePattern {
            pattern: "a[".into(),
            origin: IgnoreOrigin::TiltIgnore {
                path: PathBuf::from("/p/.tiltignore"),
                line: 4,
            },
            reason: "unclosed character class".into(),
        };
        assert_eq!(
            err.to_string(),
            "invalid ignore pattern `a[` in /p/.tiltignore:4: unclosed character class"
        );
    }

    #[test]
    fn enospc_counts_as_watch_limit() {
        let io = std::io::Error::from_raw_os_error(28);
        assert!(is_watch_limit(&notify::Error::io(io)));
        assert!(is_watch_limit(&notify::Error::new(
            notify::ErrorKind::MaxFilesWatch
        )));
        assert!(!is_watch_limit(&notify::Error::path_not_found()));
    }
}
