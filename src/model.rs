//! Plain data describing a project: what the Tiltfile declared, with no I/O.
//!
//! `config` produces these values, `store` and `engine` consume them. Nothing here
//! touches tokio, notify or the file system, so the types can be compared, cloned
//! and diffed freely (a reload re-runs only resources whose spec changed).

pub mod compose;
pub mod container;
pub mod graph;
pub mod image;
pub mod k8s;
pub mod live_update;
pub mod output;
pub mod resource;
pub mod settings;

pub use compose::{ComposeProject, ComposeService};
pub use container::{ContainerState, ContainerStatus, FAILING_WAIT_REASONS, Health};
pub use graph::{GraphError, topo_order};
pub use image::{CustomBuild, DockerBuild, Dockerfile, ImageBuild, ImageSpec};
pub use k8s::{
    CustomCmd, CustomDeploy, DiscoveryStrategy, ImageSlot, K8S_TARGET, K8sObject, K8sSettings,
    K8sSpec, PodReadiness, PortForward, RegistrySpec, UNCATEGORIZED,
};
pub use live_update::{ExitPolicy, LiveUpdateSpec, ProcessRestart, RunStep, SyncStep};
pub use output::{Exit, Stream};
pub use resource::{
    COMPOSE_TARGET, Cmd, Link, LocalSpec, Probe, ProbeAction, Resource, ResourceKind, ResourceName,
    TargetResource, TriggerMode,
};
pub use settings::Settings;

use std::path::PathBuf;

/// Everything one evaluation of a Tiltfile declared.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Project {
    /// Absolute path of the main Tiltfile.
    pub tiltfile: PathBuf,
    /// Resources in declaration order.
    pub resources: Vec<Resource>,
    pub settings: Settings,
    /// Only these resources (and their deps) run; `None` = all. From `-- names`
    /// without `config.parse()`, or `config.set_enabled_resources`.
    pub enabled: Option<Vec<ResourceName>>,
    /// Images declared by `docker_build` / `custom_build` (and compose `build:` sections),
    /// in declaration order; resources refer to them by `image_ref`.
    pub images: Vec<ImageSpec>,
}

impl Project {
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name.as_str() == name)
    }
    pub fn image(&self, image_ref: &str) -> Option<&ImageSpec> {
        self.images.iter().find(|i| i.image_ref == image_ref)
    }
}
