//! Port forwards through the API server: one local listener per `port_forward`, and
//! per accepted connection one port-forward stream to the resource's current pod.
//!
//! The listener outlives pods: [`Forwarder::set`] re-targets it when a rollout makes
//! a new pod the resource's, so `http://localhost:PORT/` keeps working. A local port
//! that is taken is reported once in the resource's log and retried, never a panic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::model::{PortForward, ResourceName, Stream};
use crate::process::LineSink;

/// How often a listener whose port is taken tries again.
const REBIND_EVERY: Duration = Duration::from_secs(3);

/// The pod a resource's forwards go to: (namespace, name).
type Target = Option<(String, String)>;

struct Entry {
    forwards: Vec<PortForward>,
    target: watch::Sender<Target>,
    listeners: Vec<AbortHandle>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        for l in &self.listeners {
            l.abort();
        }
    }
}

/// Every resource's port forwards.
#[derive(Clone)]
pub struct Forwarder {
    client: Client,
    entries: Arc<Mutex<HashMap<ResourceName, Entry>>>,
}

impl Forwarder {
    pub fn new(client: Client) -> Self {
        Forwarder {
            client,
            entries: Arc::default(),
        }
    }

    /// Makes `resource`'s forwards point at `pod`; `None` stops them. The same pod
    /// and forwards change nothing; a new pod keeps the listeners and re-targets
    /// them; changed forwards replace the listeners. Must be called on a tokio
    /// runtime.
    pub fn set(
        &self,
        resource: &ResourceName,
        pod: Target,
        forwards: &[PortForward],
        log: LineSink,
    ) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if pod.is_none() || forwards.is_empty() {
            entries.remove(resource);
            return;
        }
        if let Some(e) = entries.get(resource)
            && e.forwards == forwards
        {
            e.target.send_if_modified(|t| {
                let changed = *t != pod;
                *t = pod.clone();
                changed
            });
            return;
        }
        let (tx, rx) = watch::channel(pod);
        let listeners = forwards
            .iter()
            .map(|pf| {
                let job = Listener {
                    client: self.client.clone(),
                    resource: resource.clone(),
                    forward: pf.clone(),
                    target: rx.clone(),
                    log: log.clone(),
                };
                tokio::spawn(job.run()).abort_handle()
            })
            .collect();
        entries.insert(
            resource.clone(),
            Entry {
                forwards: forwards.to_vec(),
                target: tx,
                listeners,
            },
        );
    }

    /// Closes every listener.
    pub fn stop_all(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

struct Listener {
    client: Client,
    resource: ResourceName,
    forward: PortForward,
    target: watch::Receiver<Target>,
    log: LineSink,
}

impl Listener {
    fn say(&self, stream: Stream, line: String) {
        (self.log)(stream, line);
    }

    async fn bind(&self) -> TcpListener {
        let addr = format!("{}:{}", self.forward.host(), self.forward.local_port);
        let mut reported = false;
        loop {
            match TcpListener::bind(&addr).await {
                Ok(l) => {
                    if reported {
                        self.say(
                            Stream::Stdout,
                            format!("port forward {addr}: listening now"),
                        );
                    }
                    return l;
                }
                Err(e) => {
                    if !reported {
                        self.say(
                            Stream::Stderr,
                            format!(
                                "port forward of {}: cannot listen on {addr}: {e} (is another \
                                 program using the port?); retrying every {}s",
                                self.resource,
                                REBIND_EVERY.as_secs()
                            ),
                        );
                        reported = true;
                    }
                    tokio::time::sleep(REBIND_EVERY).await;
                }
            }
        }
    }

    async fn run(self) {
        let listener = self.bind().await;
        let shown = Arc::new(Mutex::new(None::<String>));
        loop {
            let Ok((conn, _)) = listener.accept().await else {
                continue;
            };
            let Some((ns, pod)) = self.target.borrow().clone() else {
                continue;
            };
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
            let port = self.forward.container_port();
            let log = self.log.clone();
            let shown = shown.clone();
            let resource = self.resource.clone();
            tokio::spawn(async move {
                if let Err(e) = forward_one(api, &pod, port, conn).await {
                    // One line per kind of failure, not one per connection.
                    let line =
                        format!("port forward of {resource} to pod {ns}/{pod} port {port}: {e}");
                    let Ok(mut last) = shown.lock() else { return };
                    if last.as_deref() != Some(line.as_str()) {
                        *last = Some(line.clone());
                        log(Stream::Stderr, line);
                    }
                }
            });
        }
    }
}

/// Copies one local connection to `port` of the pod and back until either closes.
async fn forward_one(
    api: Api<Pod>,
    pod: &str,
    port: u16,
    mut conn: TcpStream,
) -> Result<(), String> {
    let mut pf = api
        .portforward(pod, &[port])
        .await
        .map_err(|e| crate::deploy::k8s::api_message(&e))?;
    let mut upstream = pf
        .take_stream(port)
        .ok_or_else(|| "the API server opened no stream for the port".to_owned())?;
    let copied = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
    drop(upstream);
    let joined = pf.join().await;
    match (copied, joined) {
        (Err(e), _) if e.kind() != std::io::ErrorKind::ConnectionReset => Err(e.to_string()),
        (_, Err(e)) => Err(e.to_string()),
        _ => Ok(()),
    }
}
