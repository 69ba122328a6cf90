//! The production guard Tilt runs at load time: a project with Kubernetes resources
//! may only deploy to a context that is a known local cluster or that the Tiltfile
//! names in `allow_k8s_contexts`. It is checked for every subcommand (`down`
//! deletes, which is no safer than applying), as Tilt does.

/// Contexts of local clusters (Tilt's list in `clusterid/product.go`), plus
/// `stilt-test`, the cluster of stilt's own tests.
const LOCAL_CONTEXTS: &[&str] = &[
    "minikube",
    "docker-desktop",
    "docker-for-desktop",
    "microk8s",
    "crc",
    "rancher-desktop",
    "colima",
    "orbstack",
    "stilt-test",
];

/// Prefixes of local clusters' context names (`kind-<cluster>`, ...).
const LOCAL_PREFIXES: &[&str] = &["kind-", "k3d-", "krucible-", "colima-"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GuardError {
    #[error(
        "Stop! {context} might be production. If you're sure you want to deploy there, add:\n\
         \tallow_k8s_contexts('{context}')\n\
         to your Tiltfile. Otherwise, switch k8s contexts and restart stilt."
    )]
    MightBeProduction { context: String },
    #[error(
        "the Tiltfile declares Kubernetes resources but there is no Kubernetes context: \
         the kubeconfig ($KUBECONFIG, else ~/.kube/config) sets no current-context; \
         pass --context or run `kubectl config use-context`"
    )]
    NoContext,
}

/// Whether `context` names a known local cluster.
pub fn is_local(context: &str) -> bool {
    LOCAL_CONTEXTS.contains(&context) || LOCAL_PREFIXES.iter().any(|p| context.starts_with(p))
}

/// The guard's decision for a project (`has_k8s`: it declares Kubernetes resources).
pub fn check(context: &str, allowed: &[String], has_k8s: bool) -> Result<(), GuardError> {
    if !has_k8s {
        return Ok(());
    }
    if context.is_empty() {
        return Err(GuardError::NoContext);
    }
    if is_local(context) || allowed.iter().any(|a| a == context) {
        return Ok(());
    }
    Err(GuardError::MightBeProduction {
        context: context.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_clusters_pass_without_being_allowed() {
        for ctx in [
            "minikube",
            "docker-desktop",
            "kind-kind",
            "k3d-dev",
            "colima",
            "colima-x",
            "orbstack",
            "stilt-test",
        ] {
            assert_eq!(check(ctx, &[], true), Ok(()), "{ctx}");
        }
    }

    #[test]
    fn other_contexts_need_allow_k8s_contexts() {
        let e = check("gke_prod", &[], true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Stop! gke_prod might be production. If you're sure you want to deploy there, \
             add:\n\tallow_k8s_contexts('gke_prod')\nto your Tiltfile. Otherwise, switch k8s \
             contexts and restart stilt."
        );
        assert_eq!(check("gke_prod", &["gke_prod".into()], true), Ok(()));
        assert!(check("kind", &[], true).is_err(), "only kind-* is kind's");
    }

    #[test]
    fn projects_without_k8s_resources_are_never_stopped() {
        assert_eq!(check("gke_prod", &[], false), Ok(()));
        assert_eq!(check("", &[], false), Ok(()));
        assert_eq!(check("", &[], true), Err(GuardError::NoContext));
    }
}
