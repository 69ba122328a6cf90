//! Problems that reach the store, typed by how much they matter.

use crate::model::ResourceName;

/// How much a problem matters, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth a log line; nothing stopped working (events were dropped and re-scanned).
    Warning,
    /// A system stilt drives failed (the Docker Engine, the compose tool); the
    /// resources that need it show the error.
    Infra,
    /// stilt cannot do what it was asked for the whole session (the inotify watch
    /// limit, a watcher that cannot start): the UI header shows it and `stilt ci` fails.
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// The resource it concerns; `None`: stilt as a whole (logged with the Tiltfile).
    pub resource: Option<ResourceName>,
    pub message: String,
}

impl Problem {
    pub fn new(severity: Severity, message: impl Into<String>) -> Self {
        Problem {
            severity,
            resource: None,
            message: message.into(),
        }
    }
}
