//! `live_update=[...]`: how a running container is patched on save instead of rebuilt.

use std::path::PathBuf;

use super::resource::Cmd;

/// The steps of one image's live update, validated at load (order, paths inside the context).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LiveUpdateSpec {
    /// `initial_sync()`: upload every sync path when a container starts.
    pub initial_sync: bool,
    /// Absolute paths (files or directories) whose change forces a full rebuild.
    pub fall_back_on: Vec<PathBuf>,
    pub syncs: Vec<SyncStep>,
    pub runs: Vec<RunStep>,
    /// `restart_container()`: restart after syncing and running.
    pub restart: bool,
    /// `docker_build_with_restart` / `custom_build_with_restart` (Tilt's
    /// `restart_process` extension): the image runs its entrypoint under stilt's
    /// supervisor, which runs it again after each live update.
    pub restart_process: Option<ProcessRestart>,
}

impl LiveUpdateSpec {
    pub fn is_empty(&self) -> bool {
        self.syncs.is_empty()
            && self.runs.is_empty()
            && !self.restart
            && self.restart_process.is_none()
            && self.fall_back_on.is_empty()
    }
}

/// `sync(local, remote)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStep {
    /// Absolute local path (file or directory).
    pub local: PathBuf,
    /// Absolute path inside the container.
    pub remote: String,
}

/// `run(cmd, trigger=[...])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunStep {
    pub cmd: Cmd,
    /// Absolute local paths; empty = runs on every live update.
    pub triggers: Vec<PathBuf>,
    pub echo_off: bool,
}

/// How the process of a `restart_process` image is restarted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRestart {
    /// The command the supervisor runs (the extension's `entrypoint`; a string is run
    /// with `sh -c`).
    pub entrypoint: Vec<String>,
    /// Absolute path in the container that stilt writes to ask for a restart.
    pub restart_file: String,
    /// Absolute local paths; non-empty: only a change to one of them restarts.
    pub triggers: Vec<PathBuf>,
    pub exit_policy: ExitPolicy,
}

/// What the supervisor does when the process exits on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitPolicy {
    /// The container exits with the process's code (its restart policy applies).
    Restart,
    /// The container keeps running; the next live update starts the process again.
    Continue,
}

impl ExitPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ExitPolicy::Restart => "restart",
            ExitPolicy::Continue => "continue",
        }
    }
}
