//! The kubeconfig's context and namespace, as `k8s_context()` and `k8s_namespace()`
//! report them: read from `$KUBECONFIG` (merged as kubectl does) or `~/.kube/config`,
//! with `--context` and `--namespace` taking precedence. No cluster is contacted.

use kube::config::Kubeconfig;

use crate::model::K8sSettings;

/// The context in use and its namespace (`"default"` when none is set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeContext {
    /// Empty when there is no kubeconfig and no `--context`.
    pub context: String,
    pub namespace: String,
}

pub fn current(settings: &K8sSettings) -> KubeContext {
    resolve(Kubeconfig::read().ok().as_ref(), settings)
}

/// Pure: the context and namespace `settings` and `config` give.
pub fn resolve(config: Option<&Kubeconfig>, settings: &K8sSettings) -> KubeContext {
    let context = settings
        .context
        .clone()
        .or_else(|| config.and_then(|c| c.current_context.clone()))
        .unwrap_or_default();
    let from_config = config
        .and_then(|c| c.contexts.iter().find(|n| n.name == context))
        .and_then(|n| n.context.as_ref())
        .and_then(|c| c.namespace.clone());
    let namespace = settings
        .namespace
        .clone()
        .or(from_config)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into());
    KubeContext { context, namespace }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n- name: dev\n  context:\n    cluster: c\n    user: u\n    namespace: team\n- name: other\n  context:\n    cluster: c\n    user: u\nclusters: []\nusers: []\n";

    #[test]
    fn flags_win_over_the_kubeconfig() {
        let kc = Kubeconfig::from_yaml(CONFIG).expect("kubeconfig");
        let none = K8sSettings::default();
        assert_eq!(
            resolve(Some(&kc), &none),
            KubeContext {
                context: "dev".into(),
                namespace: "team".into()
            }
        );
        let other = K8sSettings {
            context: Some("other".into()),
            ..Default::default()
        };
        assert_eq!(resolve(Some(&kc), &other).namespace, "default");
        let ns = K8sSettings {
            namespace: Some("mine".into()),
            ..Default::default()
        };
        assert_eq!(resolve(Some(&kc), &ns).namespace, "mine");
        assert_eq!(resolve(None, &none).context, "");
    }
}
