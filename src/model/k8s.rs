//! Kubernetes resources as the Tiltfile declares them (`k8s_yaml` + `k8s_resource`):
//! plain data that `config` produces and the Kubernetes deploy target consumes.
//!
//! The grouping of objects into resources and the places where built images go are
//! decided at load time (pure, in `config`), so a deploy only fills in tags.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::Cmd;

/// The name the Kubernetes deploy target is registered under.
pub const K8S_TARGET: &str = "k8s";

/// The name of the resource that holds objects no workload claims (Tilt's).
pub const UNCATEGORIZED: &str = "uncategorized";

/// One Kubernetes object from the Tiltfile's YAML.
#[derive(Debug, Clone, PartialEq)]
pub struct K8sObject {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// As the YAML gives it; `None` means the default namespace at deploy time.
    pub namespace: Option<String>,
    /// The whole object, as parsed (images not yet replaced).
    pub body: serde_json::Value,
}

impl K8sObject {
    /// `name:kind` (lower-case kind), or `name:kind:namespace`: Tilt's selector form.
    pub fn selector(&self, with_namespace: bool) -> String {
        let kind = self.kind.to_ascii_lowercase();
        match (&self.namespace, with_namespace) {
            (Some(ns), true) => format!("{}:{kind}:{ns}", self.name),
            _ => format!("{}:{kind}", self.name),
        }
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map(|(g, _)| g)
            .unwrap_or("")
    }
}

/// Where a built image goes in an object: a JSON pointer to the `image` field of a
/// container (or initContainer), and the `image_ref` it is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSlot {
    /// Index into [`K8sSpec::objects`].
    pub object: usize,
    /// JSON pointer (RFC 6901) to the container's `image` string.
    pub pointer: String,
    /// JSON pointer to the container object itself (its `imagePullPolicy` is set so
    /// the cluster uses the local image); `None` for images outside a container.
    pub container: Option<String>,
    /// `k8s_kind(image_object=)`: the image is split in two fields, `pointer` gets
    /// the repository and this one the tag.
    pub tag_pointer: Option<String>,
    pub image_ref: String,
}

/// `port_forward(local_port, container_port, name, link_path, host)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortForward {
    pub local_port: u16,
    /// `None`: the same as `local_port`.
    pub container_port: Option<u16>,
    pub name: Option<String>,
    pub link_path: Option<String>,
    /// The local address to listen on (default 127.0.0.1).
    pub host: Option<String>,
}

impl PortForward {
    pub fn container_port(&self) -> u16 {
        self.container_port.unwrap_or(self.local_port)
    }
    pub fn host(&self) -> &str {
        self.host.as_deref().unwrap_or("127.0.0.1")
    }
    /// The link shown for it: `http://host:port/path`.
    pub fn url(&self) -> String {
        let host = match self.host() {
            "0.0.0.0" | "127.0.0.1" => "localhost",
            h => h,
        };
        let path = self.link_path.as_deref().unwrap_or("");
        let path = path.strip_prefix('/').unwrap_or(path);
        format!("http://{host}:{}/{path}", self.local_port)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PodReadiness {
    /// Ready when the pod's containers are ready (or its Job completed).
    #[default]
    Wait,
    /// Ready once applied.
    Ignore,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiscoveryStrategy {
    /// The pods of the workload, plus `extra_pod_selectors`.
    #[default]
    Default,
    /// Only the pods `extra_pod_selectors` match.
    SelectorsOnly,
}

/// A Kubernetes resource: the objects applied together, and how to find its pods.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct K8sSpec {
    /// In apply order.
    pub objects: Vec<K8sObject>,
    /// Index into `objects` of the workload whose pods the resource follows
    /// (`None`: objects only, such as `uncategorized`).
    pub workload: Option<usize>,
    /// The `image_ref`s deployed (in slot order, without repeats).
    pub images: Vec<String>,
    pub image_slots: Vec<ImageSlot>,
    pub port_forwards: Vec<PortForward>,
    /// Label selectors (all labels must match) whose pods also belong to it.
    pub extra_pod_selectors: Vec<BTreeMap<String, String>>,
    pub pod_readiness: PodReadiness,
    pub discovery: DiscoveryStrategy,
    /// `k8s_custom_deploy`: commands apply and delete the objects (then `objects` is
    /// empty: they are known only from what the apply command prints).
    pub custom: Option<CustomDeploy>,
}

/// One command of a custom deploy, with where and how it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomCmd {
    pub cmd: Cmd,
    /// Absolute.
    pub dir: PathBuf,
    pub env: BTreeMap<String, String>,
}

/// `k8s_custom_deploy(...)`: what stilt runs instead of applying objects itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomDeploy {
    /// Prints the YAML of the objects it applied.
    pub apply: CustomCmd,
    /// Run by `stilt down`.
    pub delete: CustomCmd,
    /// Absolute paths whose changes re-run `apply`.
    pub deps: Vec<PathBuf>,
    /// The `image_ref`s built before `apply` runs (passed as `TILT_IMAGE_i`).
    pub image_deps: Vec<String>,
    /// `image_selector`: the image whose container live updates go to.
    pub image_selector: Option<String>,
    /// `container_selector`: the container (by name) live updates go to.
    pub container_selector: Option<String>,
}

impl K8sSpec {
    /// Whether the resource has pods to wait for.
    pub fn has_pods(&self) -> bool {
        if self.custom.is_some() {
            return self.discovery == DiscoveryStrategy::Default
                || !self.extra_pod_selectors.is_empty();
        }
        match self.discovery {
            DiscoveryStrategy::Default => {
                self.workload.is_some() || !self.extra_pod_selectors.is_empty()
            }
            DiscoveryStrategy::SelectorsOnly => !self.extra_pod_selectors.is_empty(),
        }
    }

    /// Whether readiness waits for pods.
    pub fn waits_for_pods(&self) -> bool {
        self.pod_readiness == PodReadiness::Wait && self.has_pods()
    }
}

/// Project-wide Kubernetes settings from the Tiltfile and the command line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct K8sSettings {
    /// `allow_k8s_contexts(...)`: contexts deploys may go to besides local clusters.
    pub allowed_contexts: Vec<String>,
    /// `--context`: the kubeconfig context to use instead of the current one.
    pub context: Option<String>,
    /// `--namespace`: where objects without a namespace go.
    pub namespace: Option<String>,
    /// `ci_settings(k8s_grace_period=)`: how long `ci` tolerates a pod error.
    pub grace_period: Option<Duration>,
    /// `default_registry(...)`: where images go when the cluster cannot use the
    /// local Engine's images.
    pub registry: Option<RegistrySpec>,
}

/// An image registry: `default_registry(host, host_from_cluster=, single_name=)` or
/// the cluster's `local-registry-hosting` ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistrySpec {
    /// Where stilt pushes (`localhost:5000`, `gcr.io/project`).
    pub host: String,
    /// The same registry as the cluster's nodes reach it, written into the YAML
    /// (`None`: `host`).
    pub host_from_cluster: Option<String>,
    /// Push every image to this one repository, the image's name moving into the tag.
    pub single_name: Option<String>,
}
