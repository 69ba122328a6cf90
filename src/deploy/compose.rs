//! Docker Compose through the real compose tool (`docker compose` or `docker-compose`)
//! for up/down, and the Engine API (bollard) for container state, events and logs.
//!
//! `ComposeDeployer` and `ContainerRuntime` are the seams; `fake.rs` has fakes of both.

// Submodules (filled in by the compose work): cli, deploy_model, fake, runtime.
pub mod tool;

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;

use crate::model::{ComposeProject, ContainerStatus};
use crate::process::{LineSink, Stream};

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("{0}")]
    Other(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{0}")]
    Other(String),
}

/// Runs the compose tool.
pub trait ComposeDeployer: Send + Sync {
    /// `up -d --no-deps --no-build <service>` with `images` (image_ref -> tagged ref)
    /// replacing the services' images. Output lines go to `log`.
    fn up<'a>(
        &'a self,
        project: &'a ComposeProject,
        service: &'a str,
        images: &'a BTreeMap<String, String>,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), ComposeError>>;
    /// Stops and removes one service's containers (a disabled resource).
    fn rm<'a>(
        &'a self,
        project: &'a ComposeProject,
        service: &'a str,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), ComposeError>>;
    /// `down`: removes the project's containers and networks, and volumes if asked.
    fn down<'a>(
        &'a self,
        project: &'a ComposeProject,
        volumes: bool,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), ComposeError>>;
}

/// Something happened to one of a project's containers; re-read its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEvent {
    pub service: String,
}

/// Reads container state from the Engine.
pub trait ContainerRuntime: Send + Sync {
    /// The service's current container (the newest one if several), or `None`.
    fn status<'a>(
        &'a self,
        project: &'a str,
        service: &'a str,
    ) -> BoxFuture<'a, Result<Option<ContainerStatus>, RuntimeError>>;
    /// Container events of a project, until the stream is dropped.
    fn events(&self, project: &str) -> BoxStream<'static, Result<ContainerEvent, RuntimeError>>;
    /// Follows a container's output from its start (stdout and stderr, one item per line).
    fn logs(&self, container: &str) -> BoxStream<'static, Result<(Stream, String), RuntimeError>>;
}
