//! The Kubernetes deploy target against the real test cluster (`tests/cluster/up`,
//! kubeconfig in `STILT_TEST_KUBECONFIG`, context `stilt-test`): apply and readiness,
//! no writes for an unchanged redeploy, a new image rolling to a new pod, waiting
//! reasons (CrashLoopBackOff, ErrImageNeverPull), Jobs and their delete-then-create,
//! `down` by project label, and live update through the Engine into a pod's container.
//!
//! Each test has its own namespace and project id; a guard deletes the namespace's
//! workloads, then the namespace (without waiting), even when the test fails.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kube::config::Kubeconfig;
use serde_json::Value;
use stilt::deploy::k8s::K8sTarget;
use stilt::deploy::k8s::connect::connect_with;
use stilt::deploy::{Change, DeployTarget};
use stilt::liveupdate::{CopyFile, UpdateTarget};
use stilt::model::{
    Cmd, ContainerState, ContainerStatus, Health, ImageSlot, K8sObject, K8sSettings, K8sSpec,
    Resource, ResourceKind, ResourceName, TriggerMode,
};
use stilt::process::{LineSink, Stream};

use crate::docker_support::{docker, write_busybox_context};

const WAIT: Duration = Duration::from_secs(120);

/// The busybox image (no `tar`) under a tag unique to this test run.
fn image() -> &'static str {
    static TAG: OnceLock<String> = OnceLock::new();
    TAG.get_or_init(|| {
        let tag = format!("stilt-k8s-target-test:{}", std::process::id());
        let dir = tempfile::tempdir().expect("tempdir");
        write_busybox_context(dir.path());
        docker(&["build", "-q", "-t", &tag, &dir.path().to_string_lossy()]);
        tag
    })
}

/// A namespace for one test, deleted (workloads first, namespace without waiting)
/// when dropped.
struct Namespace {
    kubeconfig: std::path::PathBuf,
    name: String,
}

impl Namespace {
    fn new(kubeconfig: &Path, test: &str) -> Namespace {
        let name = format!("stilt-kt-{test}-{}", std::process::id());
        let ns = Namespace {
            kubeconfig: kubeconfig.to_owned(),
            name,
        };
        ns.kubectl(&["create", "namespace", &ns.name])
            .expect("create namespace");
        ns
    }

    fn kubectl(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--context", "stilt-test", "--request-timeout", "30s"])
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let ns = self.name.as_str();
        let kinds = "deployments,replicasets,jobs,pods,services,configmaps";
        let _ = self.kubectl(&[
            "-n",
            ns,
            "delete",
            kinds,
            "--all",
            "--wait=false",
            "--grace-period=1",
        ]);
        let _ = self.kubectl(&["delete", "namespace", ns, "--wait=false"]);
    }
}

/// The target on the test cluster, deploying into `ns` for its own project.
fn target(kubeconfig: &Path, ns: &Namespace) -> K8sTarget {
    let docker = stilt::docker::connect().expect("Docker Engine");
    target_with(kubeconfig, ns, Some(docker))
}

fn target_with(kubeconfig: &Path, ns: &Namespace, docker: Option<bollard::Docker>) -> K8sTarget {
    let kc = Kubeconfig::read_from(kubeconfig).expect("read the test kubeconfig");
    let settings = K8sSettings {
        context: Some("stilt-test".into()),
        namespace: Some(ns.name.clone()),
        ..K8sSettings::default()
    };
    let conn = connect_with(kc, &settings).expect("client for stilt-test");
    let hash = blake3::hash(ns.name.as_bytes()).to_hex();
    K8sTarget::with_client(conn, &hash.as_str()[..16], docker)
}

/// Objects from YAML documents; `image_ref` slots for containers whose image is
/// `IMAGE`.
fn resource(name: &str, yaml: &str) -> Resource {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).expect("yaml");
    let mut spec = K8sSpec::default();
    for (i, body) in docs.into_iter().enumerate() {
        let field = |p: &str| body.pointer(p).and_then(Value::as_str).map(str::to_owned);
        let kind = field("/kind").unwrap_or_default();
        let base = if kind == "CronJob" {
            "/spec/jobTemplate/spec/template/spec"
        } else {
            "/spec/template/spec"
        };
        for c in 0..body
            .pointer(&format!("{base}/containers"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
        {
            let container = format!("{base}/containers/{c}");
            if let Some(img) = body
                .pointer(&format!("{container}/image"))
                .and_then(Value::as_str)
                && img.starts_with("IMAGE")
            {
                spec.image_slots.push(ImageSlot {
                    object: i,
                    pointer: format!("{container}/image"),
                    container: Some(container.clone()),
                    tag_pointer: None,
                    image_ref: img.to_owned(),
                });
                if !spec.images.contains(&img.to_owned()) {
                    spec.images.push(img.to_owned());
                }
            }
        }
        if ["Deployment", "Job", "Pod"].contains(&kind.as_str()) {
            spec.workload = Some(i);
        }
        spec.objects.push(K8sObject {
            api_version: field("/apiVersion").unwrap_or_default(),
            kind,
            name: field("/metadata/name").unwrap_or_default(),
            namespace: field("/metadata/namespace"),
            body,
        });
    }
    Resource {
        name: ResourceName::from(name),
        labels: vec![],
        links: vec![],
        resource_deps: vec![],
        trigger_mode: TriggerMode::Auto,
        auto_init: true,
        kind: ResourceKind::K8s(spec),
    }
}

fn deployment(name: &str, command: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: IMAGE
        command: [\"sh\", \"-c\", \"{command}\"]
        readinessProbe:
          exec: {{command: [\"true\"]}}
          periodSeconds: 1
"
    )
}

/// Collects log lines.
fn sink() -> (LineSink, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    let sink: LineSink =
        Arc::new(move |_: Stream, line: String| l.lock().expect("lines").push(line));
    (sink, lines)
}

fn images(tag: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("IMAGE".to_owned(), tag.to_owned())])
}

/// Polls the resource's status until `done` holds; panics with the last one.
async fn wait_for(
    t: &K8sTarget,
    r: &Resource,
    what: &str,
    done: impl Fn(&ContainerStatus) -> bool,
) -> ContainerStatus {
    let deadline = Instant::now() + WAIT;
    let mut last = None;
    while Instant::now() < deadline {
        last = t.status(r).await.expect("status");
        if let Some(s) = last.as_ref().filter(|s| done(s)) {
            return s.clone();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("{what}: not reached in {WAIT:?}; last status {last:?}");
}

fn healthy(s: &ContainerStatus) -> bool {
    s.state == ContainerState::Running && s.health == Some(Health::Healthy)
}

fn waiting_with(reason: &'static str) -> impl Fn(&ContainerStatus) -> bool {
    move |s| matches!(&s.state, ContainerState::Waiting { reason: r, .. } if r == reason)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deployment_and_service_become_ready_and_an_unchanged_redeploy_writes_nothing() {
    let Some(kc) = crate::cli_k8s::kubeconfig() else {
        return;
    };
    let ns = Namespace::new(&kc, "ready");
    let t = target(&kc, &ns);
    let yaml = format!(
        "{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web}}\nspec:\n  selector: {{app: web}}\n  ports: [{{port: 80}}]\n",
        deployment("web", "echo up; exec sleep 3600")
    );
    let r = resource("web", &yaml);
    // Polled all along, as the engine does: status then answers from its cache.
    let mut changes = t.watch(std::slice::from_ref(&r));
    let (tx, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let watching = tokio::spawn(async move {
        while let Some(c) = changes.next().await {
            let _ = tx.send(c);
        }
    });
    let (log, lines) = sink();
    t.deploy(&r, &images(image()), log.clone())
        .await
        .expect("deploy");
    assert_eq!(t.writes(), 2);
    assert_eq!(
        *lines.lock().expect("lines"),
        ["deployment.apps/web configured", "service/web configured"]
    );
    let first = wait_for(&t, &r, "Running and Healthy", healthy).await;
    assert!(
        first.id.starts_with(&format!("{}/web-", ns.name)),
        "{}",
        first.id
    );
    let change = tokio::time::timeout(WAIT, seen.recv())
        .await
        .expect("a pod change");
    assert!(matches!(change, Some(Change::Resource(n)) if n == r.name));

    // The same spec again: nothing applied.
    lines.lock().expect("lines").clear();
    t.deploy(&r, &images(image()), log.clone())
        .await
        .expect("redeploy");
    assert_eq!(t.writes(), 2, "an unchanged redeploy must not write");
    assert_eq!(
        *lines.lock().expect("lines"),
        ["deployment.apps/web unchanged", "service/web unchanged"]
    );

    // A new image tag rolls out a new pod, which becomes the status.
    let (repo, _) = image().split_once(':').expect("tag");
    let second_tag = format!("{repo}:second-{}", std::process::id());
    docker(&["tag", image(), &second_tag]);
    t.deploy(&r, &images(&second_tag), log)
        .await
        .expect("deploy new image");
    assert_eq!(t.writes(), 3, "only the Deployment changed");
    // The old pod still runs, but it is not the resource's pod any more.
    let now = t.status(&r).await.expect("status");
    assert!(now.as_ref().is_none_or(|s| s.id != first.id), "{now:?}");
    let second = wait_for(&t, &r, "the new pod", |s| healthy(s) && s.id != first.id).await;
    let pod = second.id.split_once('/').expect("ns/pod").1;
    let image_of = ns.kubectl(&[
        "-n",
        &ns.name,
        "get",
        "pod",
        pod,
        "-o",
        "jsonpath={.spec.containers[0].image} {.spec.containers[0].imagePullPolicy}",
    ]);
    assert_eq!(
        image_of.as_deref(),
        Some(format!("{second_tag} Never").as_str())
    );
    watching.abort();
    let _ = Command::new("docker")
        .args(["image", "rm", &second_tag])
        .output();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_container_is_crash_loop_back_off() {
    let Some(kc) = crate::cli_k8s::kubeconfig() else {
        return;
    };
    let ns = Namespace::new(&kc, "crash");
    let t = target(&kc, &ns);
    let r = resource("crash", &deployment("crash", "echo bye; exit 3"));
    t.deploy(&r, &images(image()), sink().0)
        .await
        .expect("deploy");
    let s = wait_for(&t, &r, "CrashLoopBackOff", waiting_with("CrashLoopBackOff")).await;
    assert!(s.state.failing_wait().is_some());
    assert!(s.restart_count >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_image_that_must_not_be_pulled_is_err_image_never_pull() {
    let Some(kc) = crate::cli_k8s::kubeconfig() else {
        return;
    };
    let ns = Namespace::new(&kc, "neverpull");
    let t = target(&kc, &ns);
    let r = resource("absent", &deployment("absent", "true"));
    let missing = format!("stilt-k8s-target-absent:{}", std::process::id());
    t.deploy(&r, &images(&missing), sink().0)
        .await
        .expect("deploy");
    let s = wait_for(
        &t,
        &r,
        "ErrImageNeverPull",
        waiting_with("ErrImageNeverPull"),
    )
    .await;
    let ContainerState::Waiting { message, .. } = &s.state else {
        unreachable!()
    };
    assert!(message.contains(&missing), "{message}");
}

fn job(command: &str) -> String {
    format!(
        "apiVersion: batch/v1
kind: Job
metadata: {{name: once}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: IMAGE
        command: [\"sh\", \"-c\", \"{command}\"]
"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_completes_and_a_changed_template_recreates_it() {
    let Some(kc) = crate::cli_k8s::kubeconfig() else {
        return;
    };
    let ns = Namespace::new(&kc, "job");
    let t = target(&kc, &ns);
    let r = resource("once", &job("echo one"));
    t.deploy(&r, &images(image()), sink().0)
        .await
        .expect("deploy");
    let first = wait_for(&t, &r, "Exited 0", |s| {
        s.state == ContainerState::Exited { code: 0 }
    })
    .await;

    let changed = resource("once", &job("echo two"));
    let (log, lines) = sink();
    t.deploy(&changed, &images(image()), log)
        .await
        .expect("redeploy");
    let lines = lines.lock().expect("lines").clone();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("field is immutable") && l.contains("deleting it")),
        "{lines:?}"
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("job.batch/once recreated"),
        "{lines:?}"
    );
    wait_for(&t, &changed, "the new Job's pod to complete", |s| {
        s.state == ContainerState::Exited { code: 0 } && s.id != first.id
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_deletes_what_the_project_applied_and_keeps_down_policy_keep() {
    let Some(kc) = crate::cli_k8s::kubeconfig() else {
        return;
    };
    let ns = Namespace::new(&kc, "down");
    let t = target(&kc, &ns);
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  annotations: {tilt.dev/down-policy: keep}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone}\n";
    let r = resource("cfg", yaml);
    t.deploy(&r, &BTreeMap::new(), sink().0)
        .await
        .expect("deploy");
    let web = resource("web", &deployment("web", "exec sleep 3600"));
    t.deploy(&web, &images(image()), sink().0)
        .await
        .expect("deploy web");
    wait_for(&t, &web, "Running", healthy).await;

    // A disabled resource's objects are deleted.
    let temp = resource(
        "temp",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: temp}\n",
    );
    t.deploy(&temp, &BTreeMap::new(), sink().0)
        .await
        .expect("deploy temp");
    let (log, removed) = sink();
    let before = t.writes();
    t.remove(&temp, log).await.expect("remove");
    assert_eq!(t.writes(), before + 1);
    assert_eq!(
        *removed.lock().expect("lines"),
        [format!("configmap/temp in namespace {} deleted", ns.name)]
    );

    // down: the project's objects by label, not its pods (their workloads own them).
    let (log, lines) = sink();
    let report = t.down(false, log).await.expect("down");
    let mut deleted = report.deleted.clone();
    deleted.sort();
    assert_eq!(
        deleted,
        [
            format!("configmap/gone (namespace {})", ns.name),
            format!("deployment.apps/web (namespace {})", ns.name),
        ]
    );
    assert_eq!(
        report.kept,
        [format!("configmap/kept (namespace {})", ns.name)]
    );
    assert_eq!(lines.lock().expect("lines").len(), 3);
    let left = ns.kubectl(&[
        "-n",
        &ns.name,
        "get",
        "configmaps",
        "-l",
        "app.kubernetes.io/managed-by=stilt",
        "-o",
        "name",
    ]);
    assert_eq!(left.as_deref().map(str::trim), Some("configmap/kept"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_update_goes_through_the_engine_into_the_pods_container() {
    let Some(kc) = crate::cli_k8s::kubeconfig() else {
        return;
    };
    let ns = Namespace::new(&kc, "live");
    let t = target(&kc, &ns);
    let r = resource("live", &deployment("live", "exec sleep 3600"));
    t.deploy(&r, &images(image()), sink().0)
        .await
        .expect("deploy");
    let s = wait_for(&t, &r, "Running", healthy).await;
    let target = t.update_target(&s.id);
    let UpdateTarget::Pod {
        container,
        docker_id,
        ..
    } = &target
    else {
        panic!("not a pod target: {target:?}");
    };
    assert_eq!(container, "main");
    assert!(
        docker_id.is_some(),
        "the test cluster runs on the local Engine: {target:?}"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("hello.txt");
    std::fs::write(&local, "from stilt\n").expect("write");
    let updater = t.updater();
    let files = [CopyFile {
        local,
        remote: "/srv/hello.txt".into(),
    }];
    updater
        .copy(&target, &files)
        .await
        .expect("copy into the pod");
    let (log, lines) = sink();
    let code = updater
        .exec(
            &target,
            &Cmd::Argv(vec!["cat".into(), "/srv/hello.txt".into()]),
            log,
        )
        .await
        .expect("exec");
    assert_eq!(code, 0);
    assert_eq!(*lines.lock().expect("lines"), ["from stilt"]);
    let pod = s.id.split_once('/').expect("ns/pod").1;
    let seen = ns.kubectl(&["-n", &ns.name, "exec", pod, "--", "cat", "/srv/hello.txt"]);
    assert_eq!(seen.as_deref(), Some("from stilt\n"));
    let err = updater.restart(&target).await.expect_err("restart refused");
    assert!(err.to_string().contains("restart_process"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_images_need_a_registry_when_the_cluster_is_not_on_the_local_engine() {
    let Some(kc) = crate::cli_k8s::kubeconfig() else {
        return;
    };
    let ns = Namespace::new(&kc, "registry");
    // Without an Engine connection, no node can be the local Engine.
    let t = target_with(&kc, &ns, None);
    let r = resource("web", &deployment("web", "true"));
    let err = t
        .deploy(&r, &images("web:stilt-1234"), sink().0)
        .await
        .expect_err("needs a registry");
    let text = err.to_string();
    assert!(text.contains("image web:stilt-1234"), "{text}");
    assert!(text.contains("registry"), "{text}");
    assert_eq!(t.writes(), 0);
    // Objects without built images still deploy.
    let cfg = resource(
        "cfg",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    );
    t.deploy(&cfg, &BTreeMap::new(), sink().0)
        .await
        .expect("deploy");
}

// No test applies a custom resource: the test cluster's API server (1.20 built with
// Go 1.19) dies with SIGSEGV encoding one (json-iterator's reflect2 map iteration).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_the_cluster_does_not_serve_is_named() {
    let Some(kc) = crate::cli_k8s::kubeconfig() else {
        return;
    };
    let ns = Namespace::new(&kc, "kind");
    let t = target(&kc, &ns);
    let unknown = resource(
        "nope",
        "apiVersion: nothing.stilt.dev/v1\nkind: Nope\nmetadata: {name: n}\n",
    );
    let err = t
        .deploy(&unknown, &BTreeMap::new(), sink().0)
        .await
        .expect_err("unknown kind");
    assert!(
        err.to_string()
            .contains("does not serve kind Nope of nothing.stilt.dev/v1"),
        "{err}"
    );
    assert_eq!(t.writes(), 0);
}

/// A TCP proxy in front of the API server whose connections can all be cut at once.
struct Proxy {
    port: u16,
    cut: tokio::sync::broadcast::Sender<()>,
}

impl Proxy {
    async fn to(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("addr").port();
        let (cut, _) = tokio::sync::broadcast::channel::<()>(4);
        let cuts = cut.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut stop = cuts.subscribe();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = stop.recv() => {}
                    }
                });
            }
        });
        Proxy { port, cut }
    }

    /// Drops every connection open through the proxy (new ones still work).
    fn cut_all(&self) {
        let _ = self.cut.send(());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pod_watch_resumes_after_its_connection_is_cut() {
    let Some(kc) = crate::cli_k8s::kubeconfig() else {
        return;
    };
    let ns = Namespace::new(&kc, "resume");
    // The same cluster, reached through a proxy (the certificate names 127.0.0.1).
    let text = std::fs::read_to_string(&kc).expect("kubeconfig");
    let server = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: https://"))
        .expect("a server line")
        .to_owned();
    let proxy = Proxy::to(server.clone()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let proxied = dir.path().join("kubeconfig");
    let via = format!("127.0.0.1:{}", proxy.port);
    std::fs::write(&proxied, text.replace(&server, &via)).expect("write");
    let docker = stilt::docker::connect().expect("Docker Engine");
    let t = target_with(&proxied, &ns, Some(docker));
    let r = resource("resume", &deployment("resume", "sleep 3600"));
    t.deploy(&r, &images(image()), sink().0)
        .await
        .expect("deploy");
    // The engine keeps the watch polled; so does this task, counting changes.
    let changes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = changes.clone();
    let mut stream = t.watch(std::slice::from_ref(&r));
    let watcher = tokio::spawn(async move {
        while let Some(c) = stream.next().await {
            if matches!(c, Change::Resource(_)) {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    let first = wait_for(&t, &r, "ready", healthy).await;
    proxy.cut_all();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = changes.load(std::sync::atomic::Ordering::SeqCst);
    let pod = first.id.split_once('/').map(|(_, p)| p).expect("ns/pod");
    ns.kubectl(&["-n", &ns.name, "delete", "pod", pod, "--wait=false"])
        .expect("delete the pod");
    let deadline = Instant::now() + WAIT;
    while changes.load(std::sync::atomic::Ordering::SeqCst) == before {
        assert!(
            Instant::now() < deadline,
            "no change reported after the watch's connection was cut"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let next = wait_for(&t, &r, "the replacement pod", |s| {
        healthy(s) && s.id != first.id
    })
    .await;
    assert_ne!(next.id, first.id);
    watcher.abort();
}
