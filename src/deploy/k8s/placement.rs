//! Where built images go: does the cluster run its pods on this machine's Docker
//! Engine (then an image stilt built is usable at once, with no push)?
//!
//! Decided from what the cluster reports about its nodes (container runtime, name,
//! addresses, machine id) against facts about this machine, never from the context
//! name: a context called `minikube` may run its own Engine inside a VM, and the
//! project's test cluster has a name no list knows. The decision is pure; the facts
//! are gathered once per connection.

use std::net::IpAddr;

use bollard::Docker;
use k8s_openapi::api::core::v1::Node;

use crate::build::registry::ImageRoute;
use crate::model::RegistrySpec;

/// What a node says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeFacts {
    pub name: String,
    /// `status.addresses[*].address` (IPs and host names).
    pub addresses: Vec<String>,
    /// `status.nodeInfo.containerRuntimeVersion`, e.g. `docker://20.10.24`.
    pub runtime: String,
    pub machine_id: String,
}

impl NodeFacts {
    pub fn of(node: &Node) -> NodeFacts {
        let status = node.status.as_ref();
        let info = status.and_then(|s| s.node_info.as_ref());
        NodeFacts {
            name: node.metadata.name.clone().unwrap_or_default(),
            addresses: status
                .and_then(|s| s.addresses.as_ref())
                .map(|a| a.iter().map(|a| a.address.clone()).collect())
                .unwrap_or_default(),
            runtime: info
                .map(|i| i.container_runtime_version.clone())
                .unwrap_or_default(),
            machine_id: info.map(|i| i.machine_id.clone()).unwrap_or_default(),
        }
    }
}

/// What identifies this machine and its Engine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalFacts {
    /// `docker info`'s `Name` (`None`: no Engine connection).
    pub engine_name: Option<String>,
    pub hostname: Option<String>,
    /// The addresses of this machine's interfaces.
    pub addresses: Vec<IpAddr>,
    /// `/etc/machine-id`.
    pub machine_id: Option<String>,
}

/// Where pods run, as far as images are concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Every node runs its pods on the local Docker Engine.
    LocalEngine,
    /// Images must come from a registry; why the local Engine is not the cluster's.
    Elsewhere { why: String },
}

impl Placement {
    pub fn is_local(&self) -> bool {
        matches!(self, Placement::LocalEngine)
    }
}

/// Docker Desktop's node: its VM's Engine is the one `docker` talks to.
const DOCKER_DESKTOP: &str = "docker-desktop";

/// The cluster runs on the local Engine when there is one and every node is a
/// Docker-runtime node that is this machine (or Docker Desktop's).
pub fn decide(nodes: &[NodeFacts], local: &LocalFacts) -> Placement {
    if local.engine_name.is_none() {
        return Placement::Elsewhere {
            why: "stilt has no connection to a local Docker Engine".into(),
        };
    }
    if nodes.is_empty() {
        return Placement::Elsewhere {
            why: "the cluster has no nodes".into(),
        };
    }
    for node in nodes {
        if !node.runtime.starts_with("docker://") {
            return Placement::Elsewhere {
                why: format!(
                    "node {} runs containers with {:?}, not the local Docker Engine",
                    node.name, node.runtime
                ),
            };
        }
        if !is_this_machine(node, local) {
            return Placement::Elsewhere {
                why: format!("node {} is not this machine", node.name),
            };
        }
    }
    Placement::LocalEngine
}

/// How built images reach the cluster. `configured` is `default_registry(...)`,
/// `hosting` the cluster's `local-registry-hosting` ConfigMap (used only without
/// `configured`); `force_push` pushes even to a cluster on the local Engine (for
/// tests and for clusters that only look local). `Err` says why the cluster cannot
/// get the images: it is elsewhere and there is no registry.
pub fn route(
    placement: &Placement,
    configured: Option<&RegistrySpec>,
    hosting: Option<&RegistrySpec>,
    force_push: bool,
) -> Result<ImageRoute, String> {
    let registry = configured.or(hosting).filter(|r| !r.host.is_empty());
    match (placement, registry) {
        (Placement::LocalEngine, Some(r)) if force_push => Ok(ImageRoute::Push(r.clone())),
        (Placement::LocalEngine, _) => Ok(ImageRoute::Local),
        (Placement::Elsewhere { .. }, Some(r)) => Ok(ImageRoute::Push(r.clone())),
        (Placement::Elsewhere { why }, None) => Err(why.clone()),
    }
}

/// `STILT_FORCE_PUSH=1`: push to the registry even when the cluster runs on the
/// local Engine.
pub fn force_push_from_env() -> bool {
    std::env::var("STILT_FORCE_PUSH").is_ok_and(|v| v == "1" || v == "true")
}

fn is_this_machine(node: &NodeFacts, local: &LocalFacts) -> bool {
    let names = [local.engine_name.as_deref(), local.hostname.as_deref()];
    let named = |n: &str| n == DOCKER_DESKTOP || names.contains(&Some(n));
    named(&node.name)
        || node.addresses.iter().any(|a| {
            named(a)
                || a.parse::<IpAddr>()
                    .is_ok_and(|ip| local.addresses.contains(&ip))
        })
        || (!node.machine_id.is_empty()
            && local.machine_id.as_deref() == Some(node.machine_id.as_str()))
}

/// Gathers this machine's facts: the Engine's name (when connected), the host name,
/// the interface addresses and the machine id. Missing facts are left out.
pub async fn local_facts(docker: Option<&Docker>) -> LocalFacts {
    let engine_name = match docker {
        Some(d) => d.info().await.ok().map(|i| i.name.unwrap_or_default()),
        None => None,
    };
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    LocalFacts {
        engine_name,
        hostname: read("/proc/sys/kernel/hostname"),
        addresses: interface_addresses(),
        machine_id: read("/etc/machine-id"),
    }
}

fn interface_addresses() -> Vec<IpAddr> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    addrs
        .filter_map(|a| {
            let addr = a.address?;
            if let Some(v4) = addr.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                addr.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
