//! What can go wrong while streaming from or into a pod: following its logs,
//! forwarding a port to it, or running a command in it. Each variant names the pod
//! (and the container, port or local address) and what was being done; live update
//! through exec reports `crate::liveupdate::UpdateError`s instead, so a line in
//! a resource's log is enough to act on.

use std::net::SocketAddr;

use crate::model::ResourceName;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum K8sStreamError {
    /// Watching the pod (to learn its containers and whether it still exists).
    #[error("cannot watch pod {namespace}/{pod}: {source}")]
    Pod {
        namespace: String,
        pod: String,
        #[source]
        source: kube::runtime::watcher::Error,
    },
    /// Opening or reading the log stream of one container.
    #[error("cannot follow the logs of container {container} of pod {namespace}/{pod}: {source}")]
    Logs {
        namespace: String,
        pod: String,
        container: String,
        #[source]
        source: LogSource,
    },
    /// A local listener for a port forward could not be bound.
    #[error(
        "port forward of resource {resource}: cannot listen on {addr}{owner}: {source}",
        owner = owner.as_deref().map(|o| format!(" (in use by {o})")).unwrap_or_default()
    )]
    Bind {
        resource: ResourceName,
        addr: String,
        /// The process that holds the port, when it can be found.
        owner: Option<String>,
        #[source]
        source: std::io::Error,
    },
    /// Opening a forwarded connection to the pod, or copying its bytes.
    #[error(
        "port forward of resource {resource}: connection from {peer} to port {port} of pod {namespace}/{pod}: {reason}"
    )]
    Forward {
        resource: ResourceName,
        namespace: String,
        pod: String,
        port: u16,
        peer: SocketAddr,
        reason: String,
    },
}

/// Why a log stream failed: the API refused it, or reading it broke.
#[derive(Debug, thiserror::Error)]
pub enum LogSource {
    #[error(transparent)]
    Api(#[from] kube::Error),
    #[error("reading the stream: {0}")]
    Read(#[from] std::io::Error),
}
