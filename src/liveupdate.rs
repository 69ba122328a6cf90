//! Live update: `plan` (pure: spec + changed files -> what to do, or why to fall back
//! to a full rebuild) and the `ContainerUpdater` seam that applies a plan to a running
//! container (`docker.rs` through the Engine API, `fake.rs` for engine tests).

// Submodules (filled in by the live-update work): apply, docker, fake, plan.

use futures_util::future::BoxFuture;

use crate::model::Cmd;
use crate::process::LineSink;

/// A live-update step that could not be done to a container.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("{0}")]
    Other(String),
}

/// A file to put into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFile {
    pub local: std::path::PathBuf,
    /// Absolute path in the container.
    pub remote: String,
}

/// Patches a running container. Every method names the container by id.
pub trait ContainerUpdater: Send + Sync {
    /// Writes files through the Engine's archive API (the image needs no `tar`).
    fn copy<'a>(
        &'a self,
        container: &'a str,
        files: &'a [CopyFile],
    ) -> BoxFuture<'a, Result<(), UpdateError>>;
    /// Removes paths (files or directories) in the container.
    fn delete<'a>(
        &'a self,
        container: &'a str,
        paths: &'a [String],
    ) -> BoxFuture<'a, Result<(), UpdateError>>;
    /// Runs `cmd` in the container from `/`, streaming its output; returns the exit code.
    fn exec<'a>(
        &'a self,
        container: &'a str,
        cmd: &'a Cmd,
        log: LineSink,
    ) -> BoxFuture<'a, Result<i64, UpdateError>>;
    fn restart<'a>(&'a self, container: &'a str) -> BoxFuture<'a, Result<(), UpdateError>>;
}
