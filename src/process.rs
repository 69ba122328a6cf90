//! Local processes: spawned in their own process group, stopped with TERM then KILL.
//!
//! The engine only sees the [`Spawner`] and [`Child`] traits, so engine tests run on
//! the scripted `fake::FakeSpawner` while integration tests use [`real::RealSpawner`].
//! A whole process group is signalled, never just the leader, so `sh -c "a | b"` or a
//! server that forks workers leaves nothing behind; dropping a [`real`] child that is
//! still running kills its group, so even an early return cannot leak processes.

#[cfg(any(test, feature = "testing"))]
pub mod fake;
pub mod group;
pub mod lines;
pub mod real;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::mpsc;

pub use crate::model::{Exit, Stream};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcSpec {
    pub argv: Vec<String>,
    pub dir: PathBuf,
    /// Added to (and overriding) the inherited environment.
    pub env: BTreeMap<String, String>,
}

/// One line of output (without its newline; invalid UTF-8 replaced).
pub type OutputLine = (Stream, String);

/// Where workers that talk to Docker or the compose tool send their output lines
/// (the engine turns them into `Action::Log` for the resource).
pub type LineSink = std::sync::Arc<dyn Fn(Stream, String) + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    #[error("command not found: {program:?} (is it installed and on PATH?)")]
    NotFound { program: String },
    #[error("working directory {dir} does not exist")]
    NoDir { dir: PathBuf },
    #[error("cannot start {program:?}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("empty command")]
    Empty,
    #[error("waiting for process {pid}: {source}")]
    Wait {
        pid: u32,
        #[source]
        source: std::io::Error,
    },
}

/// Starts processes. Implementations: [`real::RealSpawner`], `fake::FakeSpawner` (tests).
pub trait Spawner: Send + Sync + 'static {
    /// Starts `spec`; its output lines go to `out` until it exits.
    fn spawn(
        &self,
        spec: &ProcSpec,
        out: mpsc::UnboundedSender<OutputLine>,
    ) -> Result<Box<dyn Child>, ProcessError>;
}

/// Where [`real::RealSpawner`] reports the process groups it starts and ends, so that a
/// stilt killed with SIGKILL can have its leftovers ended by the next one
/// (`crate::instance::GroupRecord`).
pub trait GroupLog: Send + Sync + 'static {
    /// A group led by `pgid` was started.
    fn started(&self, pgid: u32);
    /// The group led by `pgid` was killed and its leader reaped.
    fn ended(&self, pgid: u32);
}

/// A started process group.
pub trait Child: Send {
    fn pid(&self) -> Option<u32>;
    /// Waits for the leader to exit (output may still be draining).
    fn wait(&mut self) -> BoxFuture<'_, Result<Exit, ProcessError>>;
    /// TERM to the group, then KILL after `grace`; returns how the leader ended.
    fn stop(&mut self, grace: Duration) -> BoxFuture<'_, Exit>;
}
