//! One container's follower: opens its log stream, passes new lines on, and when the
//! stream ends asks the pod whether the container will run again (reopen, with
//! backoff) or is done for good (stop).

use std::time::Duration;

use futures_util::AsyncBufReadExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use tokio::sync::mpsc;

use super::{LogItem, Resume};
use crate::deploy::k8s::stream_error::{K8sStreamError, LogSource};
use crate::model::Stream;

const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// The pod whose containers are followed.
#[derive(Clone)]
pub(super) struct Target {
    pub pods: Api<Pod>,
    pub namespace: String,
    pub pod: String,
    pub since_unix: i64,
}

pub(super) struct Follower {
    target: Target,
    container: String,
    /// `[container] ` or nothing.
    prefix: String,
    resume: Resume,
    /// The last error passed on, so a crash loop does not repeat it every retry.
    last_error: Option<String>,
}

/// Whether a stream that ended may have a successor.
#[derive(Debug, PartialEq, Eq)]
enum After {
    Reopen,
    Done,
}

impl Follower {
    pub fn new(target: &Target, container: &str, prefixed: bool) -> Self {
        Follower {
            target: target.clone(),
            container: container.to_owned(),
            prefix: if prefixed {
                format!("[{container}] ")
            } else {
                String::new()
            },
            resume: Resume::new(target.since_unix),
            last_error: None,
        }
    }

    pub async fn run(mut self, tx: mpsc::Sender<LogItem>) {
        let mut wait = FIRST_RETRY;
        loop {
            let got_lines = match self.read_stream(&tx).await {
                Ok(lines) => lines > 0,
                Err(Closed) => return,
            };
            wait = if got_lines {
                FIRST_RETRY
            } else {
                (wait * 2).min(MAX_RETRY)
            };
            match self.after_stream().await {
                After::Done => return,
                After::Reopen => tokio::time::sleep(wait).await,
            }
        }
    }

    /// Reads one stream to its end; the number of new lines, or `Closed` when nobody
    /// listens any more.
    async fn read_stream(&mut self, tx: &mpsc::Sender<LogItem>) -> Result<usize, Closed> {
        let params = LogParams {
            container: Some(self.container.clone()),
            follow: true,
            timestamps: true,
            since_time: self.resume.since_time(),
            ..LogParams::default()
        };
        let mut stream = match self.target.pods.log_stream(&self.target.pod, &params).await {
            Ok(stream) => Box::pin(stream),
            Err(e) => return self.report(tx, LogSource::Api(e)).await.map(|()| 0),
        };
        let (mut lines, mut raw) = (0, Vec::new());
        loop {
            raw.clear();
            match stream.read_until(b'\n', &mut raw).await {
                Ok(0) => return Ok(lines),
                Ok(_) => {}
                Err(e) => return self.report(tx, LogSource::Read(e)).await.map(|()| lines),
            }
            let text = String::from_utf8_lossy(&raw);
            let text = text.trim_end_matches(['\n', '\r']);
            if let Some(new) = self.resume.accept(text) {
                let line = format!("{}{new}", self.prefix);
                tx.send(Ok((Stream::Stdout, line)))
                    .await
                    .map_err(|_| Closed)?;
                self.last_error = None;
                lines += 1;
            }
        }
    }

    /// Passes an error on unless it is the expected refusal of a container that is
    /// between runs (400) or the same as the last one.
    async fn report(
        &mut self,
        tx: &mpsc::Sender<LogItem>,
        source: LogSource,
    ) -> Result<(), Closed> {
        if matches!(&source, LogSource::Api(kube::Error::Api(s)) if s.code == 400 || s.code == 404)
        {
            return Ok(());
        }
        let message = source.to_string();
        if self.last_error.as_deref() == Some(message.as_str()) {
            return Ok(());
        }
        self.last_error = Some(message);
        let error = K8sStreamError::Logs {
            namespace: self.target.namespace.clone(),
            pod: self.target.pod.clone(),
            container: self.container.clone(),
            source,
        };
        tx.send(Err(error)).await.map_err(|_| Closed)
    }

    async fn after_stream(&self) -> After {
        match self.target.pods.get_opt(&self.target.pod).await {
            Ok(None) => After::Done,
            Ok(Some(pod)) if finished(&pod, &self.container) => After::Done,
            // Running, restarting, or the API is unreachable for now: try again.
            Ok(Some(_)) | Err(_) => After::Reopen,
        }
    }
}

/// The receiving end of the log stream is gone.
struct Closed;

/// Whether `container` has exited and will not run again, so its last stream was
/// its last: the pod has finished, or its restart policy does not bring the
/// container back (an init container that succeeded never runs again).
fn finished(pod: &Pod, container: &str) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    if matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
        return true;
    }
    let policy = pod
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .unwrap_or("Always");
    let init = status.init_container_statuses.iter().flatten();
    let main = status.container_statuses.iter().flatten();
    let mut all = init.map(|c| (true, c)).chain(main.map(|c| (false, c)));
    let Some((is_init, c)) = all.find(|(_, c)| c.name == container) else {
        return false;
    };
    let Some(exit) = c
        .state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .map(|t| t.exit_code)
    else {
        return false;
    };
    match policy {
        "Never" => true,
        _ if is_init => exit == 0,
        "OnFailure" => exit == 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(policy: &str, phase: &str, init: serde_json::Value, main: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {"restartPolicy": policy, "containers": []},
            "status": {"phase": phase, "initContainerStatuses": init,
                       "containerStatuses": main},
        }))
        .expect("pod")
    }

    fn exited(name: &str, code: i32) -> serde_json::Value {
        json!([{"name": name, "image": "i", "imageID": "", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": code}}}])
    }

    fn running(name: &str) -> serde_json::Value {
        json!([{"name": name, "image": "i", "imageID": "", "ready": true, "restartCount": 0,
                "state": {"running": {}}}])
    }

    #[test]
    fn a_running_container_is_not_finished() {
        assert!(!finished(
            &pod("Always", "Running", json!([]), running("a")),
            "a"
        ));
    }

    #[test]
    fn restart_always_brings_an_exited_container_back() {
        let p = pod("Always", "Running", json!([]), exited("a", 0));
        assert!(!finished(&p, "a"));
    }

    #[test]
    fn restart_policies_decide_for_exited_containers() {
        assert!(finished(
            &pod("Never", "Running", json!([]), exited("a", 1)),
            "a"
        ));
        assert!(finished(
            &pod("OnFailure", "Running", json!([]), exited("a", 0)),
            "a"
        ));
        assert!(!finished(
            &pod("OnFailure", "Running", json!([]), exited("a", 1)),
            "a"
        ));
    }

    #[test]
    fn a_succeeded_init_container_never_runs_again() {
        let p = pod("Always", "Pending", exited("init", 0), json!([]));
        assert!(finished(&p, "init"));
        let p = pod("Always", "Pending", exited("init", 1), json!([]));
        assert!(!finished(&p, "init"));
    }

    #[test]
    fn a_finished_pod_finishes_every_container() {
        assert!(finished(
            &pod("Always", "Failed", json!([]), running("a")),
            "a"
        ));
    }

    #[test]
    fn an_unknown_container_is_not_finished() {
        assert!(!finished(
            &pod("Never", "Running", json!([]), exited("a", 0)),
            "b"
        ));
    }
}
