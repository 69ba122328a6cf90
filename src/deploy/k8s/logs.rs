//! Following a pod's logs: one stream of lines for every container of the pod (init
//! containers too, as they run), across container restarts and dropped connections,
//! until the pod is gone.
//!
//! The API gives one log stream per container instance; it ends when the instance
//! exits. So each container has a follower that reopens its stream from where the
//! last one stopped. Lines are asked for with `timestamps=true`: the follower keeps
//! the last timestamp it passed on ([`Resume`]), reopens with `sinceTime` floored to
//! the second (the API's precision) and drops the lines it already gave, so a
//! restart or reconnect repeats nothing. A watch of the pod starts followers as
//! containers appear and ends the stream when the pod is deleted.

mod follower;
mod resume;

pub use resume::{Resume, split_timestamp};

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;
use kube::runtime::watcher;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::stream_error::K8sStreamError;
use crate::model::Stream;

/// How long lines still in flight may take once the pod is deleted.
const DRAIN_AFTER_DELETE: Duration = Duration::from_secs(2);

/// One item of a pod's log stream.
pub type LogItem = Result<(Stream, String), K8sStreamError>;

/// Follows every container of the pod (init containers too, as they run): one item
/// per line, prefixed `[container] ` when the pod has several containers.
/// `since_unix` = 0: from the start; else lines from that time. Follows container
/// restarts without repeating lines, reconnects after a dropped stream with backoff,
/// ends when the pod is gone. Dropping the stream stops everything it started.
/// Call it within a Tokio runtime (the pod watch is a task).
pub fn follow_pod(
    client: Client,
    namespace: &str,
    pod: &str,
    since_unix: i64,
) -> BoxStream<'static, LogItem> {
    let (tx, rx) = mpsc::channel(256);
    let target = follower::Target {
        pods: Api::namespaced(client, namespace),
        namespace: namespace.to_owned(),
        pod: pod.to_owned(),
        since_unix,
    };
    let task = tokio::spawn(watch_pod(target, tx));
    let guard = AbortOnDrop(task);
    futures_util::stream::unfold((rx, guard), |(mut rx, guard)| async move {
        let item = rx.recv().await?;
        Some((item, (rx, guard)))
    })
    .boxed()
}

/// Aborts the pod watch (and with it every follower) when the stream is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Watches the pod, starting a follower per container as it starts; returns when the
/// pod is deleted (or not there at all).
async fn watch_pod(target: follower::Target, tx: mpsc::Sender<LogItem>) {
    let config = watcher::Config::default().fields(&format!("metadata.name={}", target.pod));
    let mut events = watcher(target.pods.clone(), config).boxed();
    let mut followers = JoinSet::new();
    let mut started = BTreeSet::new();
    let mut seen_in_init = false;
    let mut last_error: Option<String> = None;
    while let Some(event) = events.next().await {
        let pod = match event {
            Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => pod,
            Ok(watcher::Event::Init) => {
                seen_in_init = false;
                continue;
            }
            Ok(watcher::Event::InitDone) if seen_in_init => continue,
            Ok(watcher::Event::InitDone | watcher::Event::Delete(_)) => break,
            Err(source) => {
                // The watcher resumes by itself; say why once, and wait a little so
                // a broken API server is not hammered.
                let message = source.to_string();
                if last_error.as_deref() != Some(message.as_str()) {
                    last_error = Some(message);
                    let error = K8sStreamError::Pod {
                        namespace: target.namespace.clone(),
                        pod: target.pod.clone(),
                        source,
                    };
                    if tx.send(Err(error)).await.is_err() {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        seen_in_init = true;
        last_error = None;
        let prefixed = container_count(&pod) > 1;
        for container in startable_containers(&pod) {
            if started.insert(container.clone()) {
                let follow = follower::Follower::new(&target, &container, prefixed);
                followers.spawn(follow.run(tx.clone()));
            }
        }
        if tx.is_closed() {
            return;
        }
    }
    // The pod is gone: let followers pass on what they already read.
    let _ = tokio::time::timeout(DRAIN_AFTER_DELETE, followers.join_all()).await;
}

/// Containers and init containers in the spec.
fn container_count(pod: &Pod) -> usize {
    pod.spec
        .as_ref()
        .map(|s| s.containers.len() + s.init_containers.as_ref().map_or(0, Vec::len))
        .unwrap_or(0)
}

/// Containers (init first) that have logs to read: running, or run before.
pub fn startable_containers(pod: &Pod) -> Vec<String> {
    let Some(status) = &pod.status else {
        return Vec::new();
    };
    let init = status.init_container_statuses.iter().flatten();
    let main = status.container_statuses.iter().flatten();
    init.chain(main)
        .filter(|c| {
            let running_or_done = c
                .state
                .as_ref()
                .is_some_and(|s| s.running.is_some() || s.terminated.is_some());
            let ran_before = c
                .last_state
                .as_ref()
                .is_some_and(|s| s.terminated.is_some());
            running_or_done || ran_before
        })
        .map(|c| c.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "init"}],
                     "containers": [{"name": "a"}, {"name": "b"}]},
            "status": status,
        }))
        .expect("pod")
    }

    #[test]
    fn init_containers_come_first_and_waiting_ones_wait() {
        let p = pod(json!({
            "initContainerStatuses": [{"name": "init", "image": "i", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"terminated": {"exitCode": 0}}}],
            "containerStatuses": [
                {"name": "a", "image": "i", "imageID": "", "ready": true, "restartCount": 0,
                 "state": {"running": {}}},
                {"name": "b", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                 "state": {"waiting": {"reason": "PodInitializing"}}}]
        }));
        assert_eq!(startable_containers(&p), ["init", "a"]);
        assert_eq!(container_count(&p), 3);
    }

    #[test]
    fn a_crashed_container_waiting_to_restart_has_logs() {
        let p = pod(json!({
            "containerStatuses": [{"name": "b", "image": "i", "imageID": "", "ready": false,
                "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1}}}]
        }));
        assert_eq!(startable_containers(&p), ["b"]);
    }

    #[test]
    fn a_pod_without_status_has_nothing_to_follow() {
        let p: Pod = serde_json::from_value(json!({"metadata": {"name": "p"}})).expect("pod");
        assert!(startable_containers(&p).is_empty());
        assert_eq!(container_count(&p), 0);
    }
}
