//! Port forwards of Kubernetes resources: a local listener per `port_forward`, and
//! per accepted connection a port-forward to the resource's current pod through the
//! API (WebSocket).
//!
//! A listener outlives the pods it serves: when a resource's pod is replaced the
//! listener is re-pointed (a `watch` channel holds its route), so clients keep their
//! port and only connections open to the old pod end. Which listeners to start, stop
//! or re-point is decided by [`plan`] (pure) from the old and new forwards.

mod listen;
mod owner;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::model::ResourceName;
use crate::model::k8s::PortForward;
use crate::process::LineSink;

pub use listen::Route;

/// A local address a forward listens on: host and port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenKey {
    pub host: String,
    pub port: u16,
}

impl ListenKey {
    pub fn of(forward: &PortForward) -> Self {
        ListenKey {
            host: forward.host().to_owned(),
            port: forward.local_port,
        }
    }
}

/// What to do to one resource's listeners.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub stop: Vec<ListenKey>,
    /// New listeners and the container port each forwards to.
    pub start: Vec<(ListenKey, u16)>,
    /// Listeners that stay, with the container port they now forward to.
    pub keep: Vec<(ListenKey, u16)>,
}

/// Diffs the running listeners against the wanted forwards (no pod: none wanted). A
/// local address given twice keeps its first forward.
pub fn plan(running: &[ListenKey], wanted: &[PortForward], has_pod: bool) -> Plan {
    let mut want: BTreeMap<ListenKey, u16> = BTreeMap::new();
    if has_pod {
        for forward in wanted {
            want.entry(ListenKey::of(forward))
                .or_insert_with(|| forward.container_port());
        }
    }
    let mut plan = Plan::default();
    for key in running {
        if !want.contains_key(key) {
            plan.stop.push(key.clone());
        }
    }
    for (key, port) in want {
        if running.contains(&key) {
            plan.keep.push((key, port));
        } else {
            plan.start.push((key, port));
        }
    }
    plan
}

/// The port forwards of every resource. Clones share them.
#[derive(Clone)]
pub struct Forwarder {
    client: Client,
    listeners: Arc<Mutex<BTreeMap<ResourceName, BTreeMap<ListenKey, Listener>>>>,
}

struct Listener {
    route: watch::Sender<Option<Route>>,
    task: JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Forwarder {
    pub fn new(client: Client) -> Self {
        Forwarder {
            client,
            listeners: Arc::default(),
        }
    }

    /// Makes `resource`'s forwards point at `pod` (namespace, pod name); `None` stops
    /// them. Idempotent: the same pod and forwards change nothing; a new pod
    /// re-targets without closing the local listener (connections open to the old
    /// pod may end). Each forward listens on `PortForward::host()`:local_port and,
    /// per accepted connection, opens a port-forward to the pod's container_port. A
    /// local port that is taken is an error line in `log` naming the resource, the
    /// port and its owner if known; binding is retried every few seconds. Call it
    /// within a Tokio runtime (listeners are tasks).
    pub fn set(
        &self,
        resource: &ResourceName,
        pod: Option<(String, String)>,
        forwards: &[PortForward],
        log: LineSink,
    ) {
        let mut all = self
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mine = all.entry(resource.clone()).or_default();
        let running: Vec<ListenKey> = mine.keys().cloned().collect();
        let plan = plan(&running, forwards, pod.is_some());
        for key in &plan.stop {
            mine.remove(key);
        }
        let route = |container_port| {
            pod.as_ref().map(|(namespace, pod)| Route {
                namespace: namespace.clone(),
                pod: pod.clone(),
                container_port,
            })
        };
        for (key, port) in plan.keep {
            if let Some(listener) = mine.get(&key) {
                listener.route.send_if_modified(|now| {
                    let new = route(port);
                    let changed = *now != new;
                    *now = new;
                    changed
                });
            }
        }
        for (key, port) in plan.start {
            let (tx, rx) = watch::channel(route(port));
            let spec = listen::Spec {
                client: self.client.clone(),
                resource: resource.clone(),
                key: key.clone(),
                route: rx,
                log: log.clone(),
            };
            let task = tokio::spawn(listen::run(spec));
            mine.insert(key, Listener { route: tx, task });
        }
        if mine.is_empty() {
            all.remove(resource);
        }
    }

    /// Stops every forward of every resource (their listeners close).
    pub fn stop_all(&self) {
        let mut all = self
            .listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        all.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward(local: u16, container: Option<u16>) -> PortForward {
        PortForward {
            local_port: local,
            container_port: container,
            name: None,
            link_path: None,
            host: None,
        }
    }

    fn key(port: u16) -> ListenKey {
        ListenKey {
            host: "127.0.0.1".into(),
            port,
        }
    }

    #[test]
    fn new_forwards_start_listeners() {
        let p = plan(&[], &[forward(8000, None), forward(9000, Some(80))], true);
        assert_eq!(p.start, [(key(8000), 8000), (key(9000), 80)]);
        assert!(p.stop.is_empty() && p.keep.is_empty());
    }

    #[test]
    fn the_same_forwards_keep_their_listeners() {
        let p = plan(&[key(8000)], &[forward(8000, Some(80))], true);
        assert_eq!(p.keep, [(key(8000), 80)]);
        assert!(p.start.is_empty() && p.stop.is_empty());
    }

    #[test]
    fn removed_forwards_and_a_missing_pod_stop_listeners() {
        let p = plan(&[key(8000), key(9000)], &[forward(9000, None)], true);
        assert_eq!(p.stop, [key(8000)]);
        let p = plan(&[key(9000)], &[forward(9000, None)], false);
        assert_eq!(p.stop, [key(9000)]);
        assert!(p.keep.is_empty() && p.start.is_empty());
    }

    #[test]
    fn another_host_is_another_listener_and_duplicates_keep_the_first() {
        let mut other = forward(8000, None);
        other.host = Some("0.0.0.0".into());
        let p = plan(
            &[],
            &[forward(8000, Some(1)), forward(8000, Some(2)), other],
            true,
        );
        let all_hosts = ListenKey {
            host: "0.0.0.0".into(),
            port: 8000,
        };
        assert_eq!(p.start, [(all_hosts, 8000), (key(8000), 1)]);
    }
}
