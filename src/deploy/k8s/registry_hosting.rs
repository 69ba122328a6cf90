//! The cluster's own registry, as KEP-1755 publishes it: ConfigMap
//! `local-registry-hosting` in `kube-public`, key `localRegistryHosting.v1`, a YAML
//! document with `host` (where tools outside the cluster push),
//! `hostFromContainerRuntime` (how the nodes' runtime pulls), `hostFromClusterNetwork`
//! (how pods reach it) and `help`. kind, k3d, minikube and MicroK8s setups write it.
//!
//! Used only when the Tiltfile names no `default_registry`. The pulled name is what
//! the container runtime sees, so `hostFromContainerRuntime` wins over
//! `hostFromClusterNetwork` (the KEP: pods, not the runtime, use the latter), and
//! `host` is the fallback for both.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, Client};
use serde::Deserialize;

use super::K8sError;
use super::placement::{Placement, force_push_from_env, route};
use crate::build::registry::ImageRoute;
use crate::model::RegistrySpec;

pub const NAMESPACE: &str = "kube-public";
pub const NAME: &str = "local-registry-hosting";
pub const KEY: &str = "localRegistryHosting.v1";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HostingV1 {
    #[serde(default)]
    host: String,
    #[serde(default)]
    host_from_container_runtime: Option<String>,
    #[serde(default)]
    host_from_cluster_network: Option<String>,
}

/// The registry a `localRegistryHosting.v1` document describes; `Ok(None)` when it
/// names no `host`.
pub fn parse(document: &str) -> Result<Option<RegistrySpec>, String> {
    let v: HostingV1 = serde_saphyr::from_str(document).map_err(|e| e.to_string())?;
    let host = v.host.trim();
    if host.is_empty() {
        return Ok(None);
    }
    let from_cluster = [v.host_from_container_runtime, v.host_from_cluster_network]
        .into_iter()
        .flatten()
        .map(|h| h.trim().to_owned())
        .find(|h| !h.is_empty() && h != host);
    Ok(Some(RegistrySpec {
        host: host.to_owned(),
        host_from_cluster: from_cluster,
        single_name: None,
    }))
}

/// Why the ConfigMap could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HostingError {
    #[error("cannot read ConfigMap {namespace}/{NAME}: {message}")]
    Read { namespace: String, message: String },
    #[error("ConfigMap {namespace}/{NAME}, key {KEY}: {message}")]
    Parse { namespace: String, message: String },
}

/// Reads the ConfigMap from `namespace` ([`NAMESPACE`] outside tests). Absent, or not
/// readable by this user: no registry.
pub async fn read(client: &Client, namespace: &str) -> Result<Option<RegistrySpec>, HostingError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let cm = match api.get_opt(NAME).await {
        Ok(cm) => cm,
        Err(kube::Error::Api(s)) if s.code == 403 => None,
        Err(e) => {
            return Err(HostingError::Read {
                namespace: namespace.to_owned(),
                message: super::api_message(&e),
            });
        }
    };
    let Some(document) = cm.and_then(|c| c.data).and_then(|d| d.get(KEY).cloned()) else {
        return Ok(None);
    };
    parse(&document).map_err(|message| HostingError::Parse {
        namespace: namespace.to_owned(),
        message,
    })
}

/// How `resource`'s image `image` reaches a cluster placed as `placement`: the
/// ConfigMap is read only when it can matter (a push, and no `configured` registry).
pub async fn image_route(
    client: &Client,
    placement: &Placement,
    resource: &str,
    image: &str,
    configured: Option<&RegistrySpec>,
) -> Result<ImageRoute, K8sError> {
    let force = force_push_from_env();
    let hosting = match (configured, placement) {
        (None, Placement::Elsewhere { .. }) => read(client, NAMESPACE).await?,
        (None, Placement::LocalEngine) if force => read(client, NAMESPACE).await?,
        _ => None,
    };
    route(placement, configured, hosting.as_ref(), force).map_err(|why| K8sError::NeedsRegistry {
        resource: resource.to_owned(),
        image: image.to_owned(),
        why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_host_is_what_the_cluster_pulls_from() {
        let doc = "host: \"localhost:5001\"\nhostFromContainerRuntime: \"kind-registry:5000\"\n\
                   hostFromClusterNetwork: \"kind-registry.ns:5000\"\nhelp: \"https://kind.sigs.k8s.io\"\n";
        let r = parse(doc).expect("parses").expect("a registry");
        assert_eq!(r.host, "localhost:5001");
        assert_eq!(r.host_from_cluster.as_deref(), Some("kind-registry:5000"));
    }

    #[test]
    fn the_cluster_network_host_is_the_fallback_and_host_the_last_resort() {
        let doc = "host: localhost:5000\nhostFromClusterNetwork: registry:5000\n";
        let r = parse(doc).expect("parses").expect("a registry");
        assert_eq!(r.host_from_cluster.as_deref(), Some("registry:5000"));
        let only_host = parse("host: localhost:5000\n")
            .expect("parses")
            .expect("a registry");
        assert_eq!(only_host.host_from_cluster, None);
    }

    #[test]
    fn no_host_is_no_registry_and_garbage_is_an_error() {
        assert_eq!(parse("help: https://example.com\n"), Ok(None));
        assert!(parse("host: [unclosed").is_err());
    }
}
