//! Which API resource serves a kind, and whether it is namespaced: asked of the
//! cluster once per kind (one discovery request for its group version) and cached
//! for the connection. A kind the cache does not know is always asked again (twice,
//! a second apart), so a CRD applied a moment ago resolves once the API server
//! serves it.

use std::collections::HashMap;
use std::sync::Mutex;

use kube::Client;
use kube::core::GroupVersionKind;
use kube::discovery::{self, ApiCapabilities, ApiResource, Scope};

use super::K8sError;

/// The API resource of a kind and its scope.
#[derive(Debug, Clone)]
pub struct Kind {
    pub resource: ApiResource,
    pub namespaced: bool,
}

/// How long to wait before asking again about a kind the cluster did not know.
const RETRY_UNKNOWN: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Default)]
pub struct Kinds {
    known: Mutex<HashMap<GroupVersionKind, Kind>>,
}

impl Kinds {
    pub async fn resolve(
        &self,
        client: &Client,
        api_version: &str,
        kind: &str,
    ) -> Result<Kind, K8sError> {
        let gvk = gvk(api_version, kind);
        if let Some(k) = self.known.lock().ok().and_then(|m| m.get(&gvk).cloned()) {
            return Ok(k);
        }
        // A kind a CRD applied a moment ago defines is served a little later: ask
        // once more before calling it unknown.
        let found = match discovery::pinned_kind(client, &gvk).await {
            Ok(found) => Ok(found),
            Err(_) => {
                tokio::time::sleep(RETRY_UNKNOWN).await;
                discovery::pinned_kind(client, &gvk).await
            }
        };
        let (resource, caps) = found.map_err(|e| {
            let (api_version, kind) = (api_version.to_owned(), kind.to_owned());
            let message = super::api_message(&e);
            if super::answered(&e) || matches!(e, kube::Error::Discovery(_)) {
                K8sError::UnknownKind {
                    api_version,
                    kind,
                    message,
                }
            } else {
                K8sError::Unreachable {
                    api_version,
                    kind,
                    message,
                }
            }
        })?;
        let found = of(resource, &caps);
        if let Ok(mut m) = self.known.lock() {
            m.insert(gvk, found.clone());
        }
        Ok(found)
    }
}

pub fn of(resource: ApiResource, caps: &ApiCapabilities) -> Kind {
    Kind {
        resource,
        namespaced: caps.scope == Scope::Namespaced,
    }
}

/// `apps/v1` + `Deployment` (or `v1` + `Pod` for the core group).
pub fn gvk(api_version: &str, kind: &str) -> GroupVersionKind {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    GroupVersionKind::gvk(group, version, kind)
}

/// kubectl's name for an object: `deployment.apps/web`, `service/web`.
pub fn display(api_version: &str, kind: &str, name: &str) -> String {
    let kind = kind.to_ascii_lowercase();
    match api_version.rsplit_once('/') {
        Some((group, _)) if !group.is_empty() => format!("{kind}.{group}/{name}"),
        _ => format!("{kind}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_named_as_kubectl_names_them() {
        assert_eq!(
            display("apps/v1", "Deployment", "web"),
            "deployment.apps/web"
        );
        assert_eq!(display("v1", "Service", "web"), "service/web");
        assert_eq!(display("batch/v1", "Job", "j"), "job.batch/j");
    }

    #[test]
    fn the_core_group_is_empty() {
        let core = gvk("v1", "Pod");
        assert_eq!((core.group.as_str(), core.version.as_str()), ("", "v1"));
        let apps = gvk("apps/v1", "Deployment");
        assert_eq!((apps.group.as_str(), apps.version.as_str()), ("apps", "v1"));
    }
}
