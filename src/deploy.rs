//! Deploy targets: what turns a resource's spec and the images stilt built into
//! running containers, reports what runs, streams its output and tears it down.
//!
//! The engine drives every target through [`DeployTarget`] and knows none of them by
//! name: the composition root (`cli/`) registers each one in [`Backends`] under the
//! name a resource's spec gives ([`crate::model::Resource::deploy_target`]). Docker
//! Compose is the first target (`compose/`); `fake.rs` is a target for engine tests.
//! Local processes are not a target: the engine runs them itself.

pub mod compose;
#[cfg(any(test, feature = "testing"))]
pub mod fake;
pub mod k8s;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;

use crate::build::ImageBuilder;
use crate::liveupdate::{ContainerUpdater, UpdateTarget};
use crate::model::{ContainerStatus, Resource, ResourceName, Stream};
use crate::process::LineSink;

/// A target could not do what was asked. The message names the resource or the
/// object and what was being done; `source` keeps the target's own typed error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// The resource's spec is not one this target deploys (a registration mistake).
    #[error("resource {resource} is not a {target} resource")]
    WrongKind {
        resource: ResourceName,
        target: &'static str,
    },
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

impl TargetError {
    pub fn failed(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        TargetError::Failed(Box::new(e))
    }
}

/// One report from a target's watch: a resource's container may have changed (the
/// engine re-reads its status), or the watch hit a problem and goes on.
#[derive(Debug)]
pub enum Change {
    Resource(ResourceName),
    Error(TargetError),
}

/// A place resources run: Docker Compose today, Kubernetes next.
pub trait DeployTarget: Send + Sync {
    /// Deploys `resource` with `images` (`image_ref` -> the tagged reference stilt
    /// built for it), replacing what ran before. Output lines go to `log`.
    fn deploy<'a>(
        &'a self,
        resource: &'a Resource,
        images: &'a BTreeMap<String, String>,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), TargetError>>;

    /// How `resource`'s built images reach this target: used where they were built
    /// (the default), or pushed to a registry (`configured` is `default_registry`).
    /// An error when they cannot reach it (a remote cluster and no registry).
    fn image_route<'a>(
        &'a self,
        resource: &'a Resource,
        configured: Option<&'a crate::model::RegistrySpec>,
    ) -> BoxFuture<'a, Result<crate::build::registry::ImageRoute, TargetError>> {
        let _ = (resource, configured);
        Box::pin(async { Ok(crate::build::registry::ImageRoute::Local) })
    }

    /// What runs for `resource` now (`None`: nothing).
    fn status<'a>(
        &'a self,
        resource: &'a Resource,
    ) -> BoxFuture<'a, Result<Option<ContainerStatus>, TargetError>>;

    /// Changes to what runs for any of `resources` (all of this target's), until the
    /// stream is dropped.
    fn watch(&self, resources: &[Resource]) -> BoxStream<'static, Change>;

    /// Follows a running container's output, one item per line: from its start when
    /// `since_unix` is 0, else from that time.
    fn logs(
        &self,
        container: &UpdateTarget,
        since_unix: i64,
    ) -> BoxStream<'static, Result<(Stream, String), TargetError>>;

    /// Stops and removes what runs for `resource` (it was disabled).
    fn remove<'a>(
        &'a self,
        resource: &'a Resource,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), TargetError>>;

    /// Patches what this target runs in place (live update).
    fn updater(&self) -> Arc<dyn ContainerUpdater>;

    /// The live-update target of a running container it reported, by the
    /// [`ContainerStatus::id`] it gave. It is also what [`DeployTarget::logs`] follows.
    fn update_target(&self, id: &str) -> UpdateTarget {
        UpdateTarget::container(id)
    }

    /// Whether [`DeployTarget::logs`] of one reported id follows every restart of
    /// its containers by itself (Kubernetes pods), so the engine starts following as
    /// soon as the id is reported, in any state, and never restarts the follower for
    /// the same id. `false`: one follower per container start (Docker).
    fn logs_follow_restarts(&self) -> bool {
        false
    }
}

/// The image builder and every registered deploy target, by name.
#[derive(Clone)]
pub struct Backends {
    pub builder: Arc<dyn ImageBuilder>,
    targets: BTreeMap<String, Arc<dyn DeployTarget>>,
    /// Targets that could not be set up, with why (the compose tool is missing,
    /// there is no kubeconfig): an error on the resources that need them only.
    unavailable: BTreeMap<String, String>,
}

impl Backends {
    pub fn new(builder: Arc<dyn ImageBuilder>) -> Self {
        Backends {
            builder,
            targets: BTreeMap::new(),
            unavailable: BTreeMap::new(),
        }
    }

    /// Records that the target `name` cannot be used, and why.
    pub fn with_unavailable(mut self, name: &str, why: impl Into<String>) -> Self {
        self.unavailable.insert(name.to_owned(), why.into());
        self
    }

    /// Registers `target` for resources whose spec names `name`.
    pub fn with_target(mut self, name: &str, target: Arc<dyn DeployTarget>) -> Self {
        self.targets.insert(name.to_owned(), target);
        self
    }

    pub fn target(&self, name: &str) -> Option<&Arc<dyn DeployTarget>> {
        self.targets.get(name)
    }

    /// The target that runs `resource`, or why there is none.
    pub fn target_of(&self, resource: &Resource) -> Result<Arc<dyn DeployTarget>, String> {
        let name = resource
            .deploy_target()
            .ok_or_else(|| format!("resource {} is not deployed by a target", resource.name))?;
        if let Some(t) = self.targets.get(name) {
            return Ok(t.clone());
        }
        Err(match self.unavailable.get(name) {
            Some(why) => format!("resource {}: {why}", resource.name),
            None => format!(
                "resource {}: no deploy target {name:?} is available in this build",
                resource.name
            ),
        })
    }
}

/// Connects to the backends when a resource first needs them (retried after a
/// failure), so a project with only local resources never talks to Docker and an
/// Engine that is down is an error on the resources that need it.
pub type Connect = Arc<dyn Fn() -> Result<Backends, String> + Send + Sync>;
