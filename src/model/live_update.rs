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
}

impl LiveUpdateSpec {
    pub fn is_empty(&self) -> bool {
        self.syncs.is_empty()
            && self.runs.is_empty()
            && !self.restart
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
