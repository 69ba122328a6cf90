//! Plain data describing a project: what the Tiltfile declared, with no I/O.
//!
//! `config` produces these values, `store` and `engine` consume them. Nothing here
//! touches tokio, notify or the file system, so the types can be compared, cloned
//! and diffed freely (a reload re-runs only resources whose spec changed).

pub mod graph;
pub mod resource;
pub mod settings;

pub use graph::{GraphError, topo_order};
pub use resource::{
    Cmd, Link, LocalSpec, Probe, ProbeAction, Resource, ResourceKind, ResourceName, TriggerMode,
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
}

impl Project {
    pub fn resource(&self, name: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.name.as_str() == name)
    }
}
