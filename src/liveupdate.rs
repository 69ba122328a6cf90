//! Live update: `plan` (pure: spec + changed files -> what to do, or why to fall back
//! to a full rebuild), `apply` (runs a plan's steps in order and says whether a failure
//! needs a rebuild) and the `ContainerUpdater` seam it drives (`docker.rs` through the
//! Engine API, `fake.rs` for engine tests).
//!
//! The engine calls `plan` on each batch of changed files, then `apply` with the
//! container's id; the split keeps every Tilt rule testable without Docker.

pub mod apply;
pub mod archive;
pub mod docker;
#[cfg(any(test, feature = "testing"))]
pub mod fake;
pub mod plan;

pub use apply::{ApplyError, ApplyReport, apply};
pub use docker::DockerUpdater;
#[cfg(any(test, feature = "testing"))]
pub use fake::{FakeOp, FakeUpdater, UpdaterCall};
pub use plan::{Change, FallBack, FallBackReason, Plan, UpdatePlan, plan, plan_initial_sync};

use std::path::PathBuf;

use futures_util::future::BoxFuture;

use crate::model::Cmd;
use crate::process::LineSink;

/// A live-update step that could not be done to a container. Each variant names the
/// container (short id) and what was being done; all of them mean "the container could
/// not be patched", so the engine falls back to a full rebuild.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    #[error(
        "cannot {doing} in container {}: no such container",
        short_id(container)
    )]
    NoSuchContainer {
        container: String,
        doing: &'static str,
    },
    #[error(
        "cannot {doing} in container {}: it is not running",
        short_id(container)
    )]
    NotRunning {
        container: String,
        doing: &'static str,
    },
    /// A program a step needs is not in the image (`rm` for deletions, `sh` for
    /// string run steps, or the first word of an argv run step).
    #[error(
        "cannot {doing} in container {}: the image has no `{tool}` ({why})",
        short_id(container)
    )]
    MissingTool {
        container: String,
        doing: &'static str,
        tool: String,
        why: &'static str,
    },
    #[error("cannot read {} to copy it into container {}: {source}", path.display(), short_id(container))]
    ReadLocal {
        container: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "`rm -rf` of {paths} in container {} exited with code {code}: {output}",
        short_id(container)
    )]
    DeleteFailed {
        container: String,
        paths: String,
        code: i64,
        output: String,
    },
    /// The target cannot do this at all (a Kubernetes pod cannot be restarted in
    /// place; exec-based updates are not available): `why` says what to do instead.
    #[error("cannot {doing} in {target}: {why}")]
    Unsupported {
        target: String,
        doing: &'static str,
        why: String,
    },
    /// Unpacking the copied files failed in the container (a Kubernetes pod, where
    /// files go in through `tar`): permission denied, read-only file system, ...
    #[error(
        "`tar -x` of the copied files in container {} exited with code {code}: {output}",
        short_id(container)
    )]
    CopyFailed {
        container: String,
        code: i64,
        output: String,
    },
    /// The cluster's API failed while patching a pod's container.
    #[error("cannot {doing} in container {}: {source}", short_id(container))]
    Cluster {
        container: String,
        doing: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot {doing} in container {}: {source}", short_id(container))]
    Api {
        container: String,
        doing: &'static str,
        #[source]
        source: bollard::errors::Error,
    },
}

/// What a live update patches. Every updater method names its target by this.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UpdateTarget {
    /// A Docker container, by id (a compose service's container).
    Container { id: String },
    /// A container of a Kubernetes pod; `docker_id` is its id in the local Docker
    /// Engine when the cluster runs its pods there (the archive API then works).
    Pod {
        namespace: String,
        pod: String,
        container: String,
        docker_id: Option<String>,
    },
}

impl UpdateTarget {
    pub fn container(id: impl Into<String>) -> Self {
        UpdateTarget::Container { id: id.into() }
    }

    /// The container's id, as the runtime that runs it knows it.
    pub fn container_id(&self) -> &str {
        match self {
            UpdateTarget::Container { id } => id,
            UpdateTarget::Pod {
                docker_id: Some(id),
                ..
            } => id,
            UpdateTarget::Pod { pod, .. } => pod,
        }
    }
}

impl std::fmt::Display for UpdateTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpdateTarget::Container { id } => write!(f, "container {}", short_id(id)),
            UpdateTarget::Pod {
                namespace,
                pod,
                container,
                ..
            } => write!(f, "container {container} of pod {namespace}/{pod}"),
        }
    }
}

/// The 12-character form of a container id that `docker ps` shows; anything that is
/// not a hex id (a pod's container, `web of pod ns/web-1`) is kept whole.
pub fn short_id(container: &str) -> &str {
    if container.bytes().all(|b| b.is_ascii_hexdigit()) {
        container.get(..12).unwrap_or(container)
    } else {
        container
    }
}

/// The static helper binary (TEMPORARY until the sync helper crate lands).
pub fn helper_binary() -> &'static [u8] {
    include_bytes!("/tmp/sup/target/x86_64-unknown-linux-gnu/release/sup")
}

/// A file to put into the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFile {
    pub local: std::path::PathBuf,
    /// Absolute path in the container.
    pub remote: String,
}

/// Patches a running container. Every method names its [`UpdateTarget`].
pub trait ContainerUpdater: Send + Sync {
    /// Writes files through the Engine's archive API (the image needs no `tar`).
    fn copy<'a>(
        &'a self,
        target: &'a UpdateTarget,
        files: &'a [CopyFile],
    ) -> BoxFuture<'a, Result<(), UpdateError>>;
    /// Removes paths (files or directories) in the container.
    fn delete<'a>(
        &'a self,
        target: &'a UpdateTarget,
        paths: &'a [String],
    ) -> BoxFuture<'a, Result<(), UpdateError>>;
    /// Runs `cmd` in the container from `/`, streaming its output; returns the exit code.
    fn exec<'a>(
        &'a self,
        target: &'a UpdateTarget,
        cmd: &'a Cmd,
        log: LineSink,
    ) -> BoxFuture<'a, Result<i64, UpdateError>>;
    fn restart<'a>(&'a self, target: &'a UpdateTarget) -> BoxFuture<'a, Result<(), UpdateError>>;
}

#[cfg(test)]
mod tests {
    use super::short_id;

    #[test]
    fn short_ids_shorten_docker_ids_only() {
        assert_eq!(short_id("0123456789abcdef0123"), "0123456789ab");
        assert_eq!(
            short_id("web of pod default/web-7c9-x"),
            "web of pod default/web-7c9-x"
        );
    }
}
