//! Pod logs, port forwards and exec-based live update against the real test cluster
//! (docs/testing-kubernetes.md). The kubeconfig comes from `STILT_TEST_KUBECONFIG`
//! (context `stilt-test`); without it every test says it was skipped and passes.
//!
//! Each test owns a namespace (`TestNs`) with pods of an image the test process
//! builds `FROM scratch` around busybox-static (`image`); dropping the namespace deletes the pods,
//! then the namespace without waiting, even when an assertion failed.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod exec;
mod forward;
mod logs;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use stilt::process::{LineSink, Stream};

use crate::docker_support::{BUSYBOX, docker};

/// The client for the test cluster, or `None` (after saying so) when no cluster is
/// configured. A configured but unreachable cluster fails the test.
async fn cluster() -> Option<Client> {
    let Ok(path) = std::env::var("STILT_TEST_KUBECONFIG") else {
        println!("skipped: STILT_TEST_KUBECONFIG not set (tests/cluster/up)");
        return None;
    };
    let client = client_from(&path).await;
    client
        .apiserver_version()
        .await
        .expect("the test cluster is unreachable (tests/cluster/up)");
    Some(client)
}

/// A client for the context `stilt-test` of the kubeconfig at `path`.
async fn client_from(path: &str) -> Client {
    let kubeconfig = Kubeconfig::read_from(path).expect("read STILT_TEST_KUBECONFIG");
    let options = KubeConfigOptions {
        context: Some("stilt-test".to_owned()),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("kubeconfig context stilt-test");
    Client::try_from(config).expect("kube client")
}

/// Lines a `LineSink` was given.
type Lines = Arc<Mutex<Vec<(Stream, String)>>>;

/// A sink that keeps its lines, and the lines.
fn collect() -> (LineSink, Lines) {
    let lines = Lines::default();
    let kept = lines.clone();
    let sink: LineSink = Arc::new(move |stream, line| kept.lock().unwrap().push((stream, line)));
    (sink, lines)
}

/// A unique suffix for names in this test process.
fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{name}-{}-{:x}", std::process::id(), nanos % 0xfffff)
}

/// The busybox test image of this test process (built on first use, under a tag
/// unique to the process, labelled `stilt.test=1`): `/bin` applets (without `tar`
/// when `with_tar` is false), `/tmp` and `/www/index.html`.
fn image(with_tar: bool) -> &'static str {
    static WITH_TAR: OnceLock<String> = OnceLock::new();
    static WITHOUT_TAR: OnceLock<String> = OnceLock::new();
    let cell = if with_tar { &WITH_TAR } else { &WITHOUT_TAR };
    cell.get_or_init(|| build_image(with_tar))
}

fn build_image(with_tar: bool) -> String {
    let variant = if with_tar { "tar" } else { "notar" };
    let tag = format!("stilt-test-k8s-stream:{}", unique(variant));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(BUSYBOX, dir.path().join("busybox")).expect("copy busybox");
    std::fs::write(dir.path().join("index.html"), "page\n").expect("write page");
    let drop_tar = if with_tar {
        ""
    } else {
        "RUN [\"/bin/busybox\", \"rm\", \"/bin/tar\"]\n"
    };
    let dockerfile = format!(
        "FROM scratch\n\
         LABEL stilt.test=1\n\
         COPY busybox /bin/busybox\n\
         RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
         RUN [\"/bin/busybox\", \"mkdir\", \"-p\", \"/tmp\", \"/www\"]\n\
         COPY index.html /www/index.html\n\
         {drop_tar}\
         ENV PATH=/bin\n"
    );
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).expect("write Dockerfile");
    docker(&["build", "-q", "-t", &tag, &dir.path().to_string_lossy()]);
    tag
}

/// A namespace of its own for one test; dropping it deletes the pods, then the
/// namespace (without waiting for it to go).
struct TestNs {
    client: Client,
    name: String,
}

impl TestNs {
    async fn create(client: &Client, test: &str) -> Self {
        let name = unique(&format!("stilt-{test}"));
        let namespace: Namespace =
            serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &namespace)
            .await
            .expect("create namespace");
        TestNs {
            client: client.clone(),
            name,
        }
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// Creates a pod of `containers` (name, shell command) from `image` and waits
    /// until it runs.
    async fn pod(&self, name: &str, image: &str, containers: &[(&str, &str)]) -> Pod {
        self.pod_with_init(name, image, &[], containers).await
    }

    /// The same, with init containers run first.
    async fn pod_with_init(
        &self,
        name: &str,
        image: &str,
        init: &[(&str, &str)],
        containers: &[(&str, &str)],
    ) -> Pod {
        let specs = |list: &[(&str, &str)]| -> Vec<serde_json::Value> {
            list.iter()
                .map(|(c, cmd)| {
                    json!({"name": c, "image": image, "imagePullPolicy": "Never",
                           "command": ["/bin/sh", "-c", cmd]})
                })
                .collect()
        };
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"initContainers": specs(init), "containers": specs(containers),
                     "terminationGracePeriodSeconds": 1}
        }))
        .unwrap();
        self.create_pod(&pod).await;
        self.wait_pod(name, |p| phase(p) == "Running").await
    }

    /// Creates the pod, waiting out a namespace so new that its service account has
    /// no token yet (the API server refuses pods until the controller made one).
    async fn create_pod(&self, pod: &Pod) {
        for _ in 0..60 {
            match self.pods().create(&PostParams::default(), pod).await {
                Ok(_) => return,
                Err(kube::Error::Api(status)) if status.message.contains("service account") => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("create pod in {}: {e}", self.name),
            }
        }
        panic!("namespace {} never got a service account token", self.name);
    }

    /// Polls the pod until `ready` holds (60 s at most).
    async fn wait_pod(&self, name: &str, ready: impl Fn(&Pod) -> bool) -> Pod {
        for _ in 0..300 {
            if let Ok(pod) = self.pods().get(name).await
                && ready(&pod)
            {
                return pod;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("pod {}/{name} did not get there in 60 s", self.name);
    }
}

fn phase(pod: &Pod) -> &str {
    pod.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

impl Drop for TestNs {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop cannot await, and a runtime's thread cannot block on another future:
        // clean up on a thread of its own with a small runtime and a client of its
        // own (the test's client runs its connection on the test's runtime).
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            runtime.block_on(async move {
                let Ok(path) = std::env::var("STILT_TEST_KUBECONFIG") else {
                    return;
                };
                let client = client_from(&path).await;
                let pods: Api<Pod> = Api::namespaced(client.clone(), &name);
                let now = DeleteParams {
                    grace_period_seconds: Some(0),
                    ..DeleteParams::default()
                };
                let _ = pods.delete_collection(&now, &ListParams::default()).await;
                let _ = Api::<Namespace>::all(client)
                    .delete(&name, &DeleteParams::default())
                    .await;
            });
        });
        let _ = cleanup.join();
    }
}
