//! One local listener of a port forward: binds (retrying while the port is taken),
//! accepts, and copies each connection to the pod its route names at that moment.

use std::net::SocketAddr;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::ListenKey;
use super::owner::port_owner;
use crate::deploy::k8s::stream_error::K8sStreamError;
use crate::model::{ResourceName, Stream};
use crate::process::LineSink;

/// How long a taken port waits before the next try.
const BIND_RETRY: Duration = Duration::from_secs(3);

/// Where connections go: a port of a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub namespace: String,
    pub pod: String,
    pub container_port: u16,
}

pub(super) struct Spec {
    pub client: Client,
    pub resource: ResourceName,
    pub key: ListenKey,
    pub route: watch::Receiver<Option<Route>>,
    pub log: LineSink,
}

impl Spec {
    fn error(&self, error: K8sStreamError) {
        (self.log)(Stream::System, error.to_string());
    }
}

/// Listens until aborted; connections end with it.
pub(super) async fn run(spec: Spec) {
    let listener = bind(&spec).await;
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let route = spec.route.borrow().clone();
                    if let Some(route) = route {
                        let (client, resource, log) =
                            (spec.client.clone(), spec.resource.clone(), spec.log.clone());
                        connections.spawn(async move {
                            if let Err(e) = forward(client, &resource, route, tcp, peer).await {
                                log(Stream::System, e.to_string());
                            }
                        });
                    }
                }
                // Out of file descriptors and the like: pause rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Binds the key's address, retrying every few seconds; says why once per reason.
async fn bind(spec: &Spec) -> TcpListener {
    let addr = format!("{}:{}", spec.key.host, spec.key.port);
    let mut said: Option<String> = None;
    loop {
        match TcpListener::bind(&addr).await {
            Ok(listener) => {
                if said.is_some() {
                    let line = format!(
                        "port forward of resource {}: now listening on {addr}",
                        spec.resource
                    );
                    (spec.log)(Stream::System, line);
                }
                return listener;
            }
            Err(source) => {
                let reason = source.to_string();
                if said.as_deref() != Some(reason.as_str()) {
                    let owner = if source.kind() == std::io::ErrorKind::AddrInUse {
                        port_owner(spec.key.port)
                    } else {
                        None
                    };
                    spec.error(K8sStreamError::Bind {
                        resource: spec.resource.clone(),
                        addr: addr.clone(),
                        owner,
                        source,
                    });
                    said = Some(reason);
                }
                tokio::time::sleep(BIND_RETRY).await;
            }
        }
    }
}

/// Copies one local connection to and from the pod's port.
async fn forward(
    client: Client,
    resource: &ResourceName,
    route: Route,
    mut tcp: TcpStream,
    peer: SocketAddr,
) -> Result<(), K8sStreamError> {
    let fail = |reason: String| K8sStreamError::Forward {
        resource: resource.clone(),
        namespace: route.namespace.clone(),
        pod: route.pod.clone(),
        port: route.container_port,
        peer,
        reason,
    };
    let pods: Api<Pod> = Api::namespaced(client, &route.namespace);
    let port = route.container_port;
    let mut forwarder = pods
        .portforward(&route.pod, &[port])
        .await
        .map_err(|e| fail(e.to_string()))?;
    let mut upstream = forwarder
        .take_stream(port)
        .ok_or_else(|| fail("the port-forward has no stream for the port".to_owned()))?;
    let pod_error = forwarder.take_error(port);
    let copy = tokio::io::copy_bidirectional(&mut tcp, &mut upstream);
    let result = match pod_error {
        Some(pod_error) => tokio::select! {
            copied = copy => copied.map(|_| ()).map_err(|e| fail(e.to_string())),
            // The server reports a port it cannot reach (nothing listens there).
            Some(message) = pod_error => Err(fail(message)),
        },
        None => copy.await.map(|_| ()).map_err(|e| fail(e.to_string())),
    };
    forwarder.abort();
    result
}
