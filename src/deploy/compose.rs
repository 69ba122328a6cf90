//! Docker Compose through the real compose tool (`docker compose` or `docker-compose`)
//! for up/down, and the Engine API (bollard) for container state, events and logs.
//!
//! `ComposeDeployer` and `ContainerRuntime` are the seams; `fake.rs` has fakes of both.
//! Deploys never write a file: `deploy_model` turns the normalized model into what
//! compose should run (stilt's image tags, no `build:`), and `cli` feeds it on stdin.

pub mod cli;
pub mod deploy_model;
#[cfg(any(test, feature = "testing"))]
pub mod fake;
pub mod runtime;
pub mod target;
pub mod tool;

use std::collections::BTreeMap;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;

use crate::model::{ComposeProject, ContainerStatus};
use crate::process::{LineSink, Stream};

/// A compose command that could not run or did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ComposeError {
    #[error(transparent)]
    NoTool(#[from] tool::NoComposeTool),
    #[error(
        "cannot run {program:?} for compose project {project:?}: it is not installed or not on PATH"
    )]
    ToolNotFound { program: String, project: String },
    #[error("cannot start `{command}` for compose project {project:?}: {source}")]
    Spawn {
        command: String,
        project: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` for compose project {project:?}: {source}")]
    Io {
        command: String,
        project: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "`{command}` failed for {} of compose project {project:?} ({exit}){}",
        target(service.as_deref()),
        last_lines(output)
    )]
    Failed {
        command: String,
        project: String,
        /// `None` for project-wide commands (`down`).
        service: Option<String>,
        exit: String,
        /// The last lines the tool printed (stdout and stderr, interleaved).
        output: Vec<String>,
    },
}

fn target(service: Option<&str>) -> String {
    match service {
        Some(s) => format!("service {s:?}"),
        None => "all services".to_owned(),
    }
}

fn last_lines(output: &[String]) -> String {
    if output.is_empty() {
        return ", no output".to_owned();
    }
    let mut s = String::from(":");
    for line in output {
        s.push_str("\n  ");
        s.push_str(line);
    }
    s
}

/// The Docker Engine could not be reached or did not answer as expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    #[error(
        "listing the containers of service {service:?} in compose project {project:?}: {source}"
    )]
    List {
        project: String,
        service: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("inspecting container {container}: {source}")]
    Inspect {
        container: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("watching Docker events of compose project {project:?}: {source}")]
    Events {
        project: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("following the logs of container {container}: {source}")]
    Logs {
        container: String,
        #[source]
        source: bollard::errors::Error,
    },
}

/// Runs the compose tool.
pub trait ComposeDeployer: Send + Sync {
    /// `up -d --no-deps --no-build <service>` with `images` (service name -> the tagged
    /// image stilt built for it) replacing those services' `image:` and dropping their
    /// `build:` (see [`deploy_model::for_deploy`]). Output lines go to `log`.
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
    /// Container events of a project, until the stream is dropped. A lost connection
    /// is reported as one `Err` item and re-established; the stream goes on.
    fn events(&self, project: &str) -> BoxStream<'static, Result<ContainerEvent, RuntimeError>>;
    /// Follows a container's output (stdout and stderr, one item per line): from its
    /// start when `since_unix` is 0, else from that time (a restarted container's
    /// earlier output was shown already).
    fn logs(
        &self,
        container: &str,
        since_unix: i64,
    ) -> BoxStream<'static, Result<(Stream, String), RuntimeError>>;
}
