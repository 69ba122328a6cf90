//! Tilt's guard against deploying to a cluster that may not be local: pure.

/// Whether a context name is one of the local clusters Tilt knows (plus the test
/// cluster's `stilt-test`).
pub fn is_local(context: &str) -> bool {
    const EXACT: &[&str] = &[
        "minikube",
        "docker-desktop",
        "docker-for-desktop",
        "microk8s",
        "crc-admin",
        "crc-developer",
        "rancher-desktop",
        "colima",
        "orbstack",
        "stilt-test",
    ];
    const PREFIXES: &[&str] = &["kind-", "k3d-", "krucible-", "colima-"];
    EXACT.contains(&context) || PREFIXES.iter().any(|p| context.starts_with(p))
}

/// `Err` with Tilt's advice when the project deploys to `context` and neither is it
/// local nor does `allow_k8s_contexts` name it.
pub fn check(context: &str, allowed: &[String]) -> Result<(), String> {
    if context.is_empty() {
        return Err(
            "this Tiltfile deploys to Kubernetes, but no kubeconfig context is selected \
             (set KUBECONFIG, run `kubectl config use-context`, or pass --context)"
                .into(),
        );
    }
    if is_local(context) || allowed.iter().any(|a| a == context) {
        return Ok(());
    }
    Err(format!(
        "Stop! {context} might be production.\nIf you're sure you want to deploy there, \
         add:\n\tallow_k8s_contexts('{context}')\nto your Tiltfile. Otherwise, switch \
         k8s contexts and restart stilt."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_clusters_pass_and_others_need_allowing() {
        for ok in [
            "minikube",
            "kind-dev",
            "k3d-x",
            "docker-desktop",
            "stilt-test",
        ] {
            assert_eq!(check(ok, &[]), Ok(()), "{ok}");
        }
        let e = check("prod-east", &[]).expect_err("not local");
        assert!(e.contains("allow_k8s_contexts('prod-east')"), "{e}");
        assert_eq!(check("prod-east", &["prod-east".into()]), Ok(()));
        assert!(check("", &[]).is_err());
    }
}
