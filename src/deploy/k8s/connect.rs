//! From the kubeconfig to a client, without contacting the cluster.
//!
//! The kubeconfig is `$KUBECONFIG` (a list of files, merged) or `~/.kube/config`;
//! `--context` picks another context than the current one and `--namespace` replaces
//! the context's namespace (else `default`), as with kubectl.

use futures_util::FutureExt;
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};

use super::K8sError;
use crate::model::K8sSettings;

/// A client, and the context and default namespace it was made for.
pub struct Connection {
    pub client: Client,
    pub context: String,
    pub namespace: String,
}

/// Reads the kubeconfig from the usual places and builds a client for `settings`.
pub fn connect(settings: &K8sSettings) -> Result<Connection, K8sError> {
    let kubeconfig = Kubeconfig::read().map_err(|source| K8sError::Kubeconfig {
        context: settings.context.clone(),
        source: Box::new(source),
    })?;
    connect_with(kubeconfig, settings)
}

/// Builds a client for `settings` from a kubeconfig already read.
pub fn connect_with(
    kubeconfig: Kubeconfig,
    settings: &K8sSettings,
) -> Result<Connection, K8sError> {
    let context = settings
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .filter(|c| !c.is_empty())
        .ok_or(K8sError::NoContext)?;
    let options = KubeConfigOptions {
        context: Some(context.clone()),
        ..KubeConfigOptions::default()
    };
    let kubeconfig_error = |source: KubeconfigError| K8sError::Kubeconfig {
        context: Some(context.clone()),
        source: Box::new(source),
    };
    // Loading is async in kube's API but does no I/O that waits (no exec plugin runs
    // until the first request): it completes on first poll.
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .now_or_never()
        .ok_or_else(|| K8sError::Client {
            context: context.clone(),
            message: "loading the kubeconfig did not complete at once".into(),
        })?
        .map_err(kubeconfig_error)?;
    if let Some(ns) = settings.namespace.as_ref().filter(|n| !n.is_empty()) {
        config.default_namespace = ns.clone();
    }
    let namespace = config.default_namespace.clone();
    let client = Client::try_from(config).map_err(|e| K8sError::Client {
        context: context.clone(),
        message: e.to_string(),
    })?;
    Ok(Connection {
        client,
        context,
        namespace,
    })
}

#[cfg(test)]
mod tests;
