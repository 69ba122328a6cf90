//! A resource: one unit the engine updates and reports on.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::compose::ComposeService;
use super::k8s::{K8S_TARGET, K8sSpec};

/// The name a resource is known by in the Tiltfile, the UI and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceName(pub String);

impl ResourceName {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for ResourceName {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for ResourceName {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TriggerMode {
    /// File changes start an update.
    #[default]
    Auto,
    /// File changes are noted; only an explicit trigger starts an update.
    Manual,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub url: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub name: ResourceName,
    pub labels: Vec<String>,
    pub links: Vec<Link>,
    pub resource_deps: Vec<ResourceName>,
    pub trigger_mode: TriggerMode,
    pub auto_init: bool,
    pub kind: ResourceKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResourceKind {
    Local(LocalSpec),
    /// A Docker Compose service (`docker_compose` + `dc_resource`).
    Compose(ComposeService),
    /// Kubernetes objects applied together (`k8s_yaml` + `k8s_resource`).
    K8s(K8sSpec),
    /// A resource of a deploy target that is registered with the engine by name
    /// instead of being modelled here: the fake target of the engine tests, or a
    /// target under development before it gets its own variant.
    Target(TargetResource),
}

/// A resource deployed by the target registered as `target`, from `images`.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetResource {
    pub target: String,
    /// The `image_ref`s of the images it deploys (built before each deploy).
    pub images: Vec<String>,
    /// What the target needs to know; opaque to everything else.
    pub spec: serde_json::Value,
}

/// The name a Docker Compose resource's deploy target is registered under.
pub const COMPOSE_TARGET: &str = "compose";

impl Resource {
    pub fn kind_label(&self) -> &str {
        match &self.kind {
            ResourceKind::Local(_) => "local",
            ResourceKind::Compose(_) => COMPOSE_TARGET,
            ResourceKind::K8s(_) => K8S_TARGET,
            ResourceKind::Target(t) => &t.target,
        }
    }
    /// The deploy target that runs this resource (`None`: a local resource).
    pub fn deploy_target(&self) -> Option<&str> {
        match &self.kind {
            ResourceKind::Local(_) => None,
            ResourceKind::Compose(_) => Some(COMPOSE_TARGET),
            ResourceKind::K8s(_) => Some(K8S_TARGET),
            ResourceKind::Target(t) => Some(&t.target),
        }
    }
    /// The `image_ref`s of the images this resource deploys, in order.
    pub fn images(&self) -> Vec<&str> {
        match &self.kind {
            ResourceKind::Local(_) => vec![],
            ResourceKind::Compose(c) => c.image.iter().map(String::as_str).collect(),
            ResourceKind::K8s(k) => k.images.iter().map(String::as_str).collect(),
            ResourceKind::Target(t) => t.images.iter().map(String::as_str).collect(),
        }
    }
    pub fn local(&self) -> Option<&LocalSpec> {
        match &self.kind {
            ResourceKind::Local(l) => Some(l),
            _ => None,
        }
    }
    pub fn k8s(&self) -> Option<&K8sSpec> {
        match &self.kind {
            ResourceKind::K8s(k) => Some(k),
            _ => None,
        }
    }
    pub fn compose(&self) -> Option<&ComposeService> {
        match &self.kind {
            ResourceKind::Compose(c) => Some(c),
            _ => None,
        }
    }
}

/// A command: a string run by `sh -c`, or an argv list run directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cmd {
    Shell(String),
    Argv(Vec<String>),
}

impl Cmd {
    /// The program and arguments to execute.
    pub fn argv(&self) -> Vec<String> {
        match self {
            Cmd::Shell(s) => vec!["sh".into(), "-c".into(), s.clone()],
            Cmd::Argv(v) => v.clone(),
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cmd::Shell(s) => f.write_str(s),
            Cmd::Argv(v) => f.write_str(&v.join(" ")),
        }
    }
}

/// `local_resource`: a command run on each update and/or a long-running server.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LocalSpec {
    pub cmd: Option<Cmd>,
    pub serve_cmd: Option<Cmd>,
    /// Absolute paths (files or directories) whose changes update the resource.
    pub deps: Vec<PathBuf>,
    /// Patterns (gitignore syntax, relative to the Tiltfile dir) excluded from `deps`.
    pub ignore: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub serve_env: BTreeMap<String, String>,
    pub dir: PathBuf,
    pub serve_dir: PathBuf,
    pub readiness_probe: Option<Probe>,
    pub allow_parallel: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub initial_delay: Duration,
    pub timeout: Duration,
    pub period: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
    pub action: ProbeAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeAction {
    Exec {
        command: Vec<String>,
    },
    HttpGet {
        host: String,
        port: u16,
        path: String,
        scheme: String,
    },
    TcpSocket {
        host: String,
        port: u16,
    },
}
