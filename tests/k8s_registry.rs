//! `default_registry` for real: pushes through the real Docker Engine into a real
//! registry (Debian's `docker-registry`, started per test on 127.0.0.1), a push that
//! fails as a clear build error, and `stilt ci` on the test cluster deploying the
//! example with the pod running the registry's name of the image.
//!
//! The test cluster runs on the local Engine, so nothing would be pushed to it;
//! `STILT_FORCE_PUSH=1` makes stilt push anyway (the decision itself is tested purely
//! in `deploy::k8s::placement`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stilt::build::docker::DockerBuilder;
use stilt::build::registry::rewrite;
use stilt::build::{BuildError, ImageBuilder};
use stilt::deploy::k8s::registry_hosting;
use stilt::model::RegistrySpec;
use stilt::process::LineSink;

use crate::cli_k8s::kubeconfig;
use crate::cli_support::{free_port, run_to_end};
use crate::docker_support::busybox_image;
use crate::registry_support::Registry;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/k8s-web");

fn registry(host: &str) -> RegistrySpec {
    RegistrySpec {
        host: host.to_owned(),
        ..RegistrySpec::default()
    }
}

fn collecting() -> (LineSink, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    let sink: LineSink = Arc::new(move |_, line| l.lock().expect("lock").push(line));
    (sink, lines)
}

fn builder() -> DockerBuilder {
    DockerBuilder::new(stilt::docker::connect().expect("connect to the Docker Engine"))
}

/// Removes a local tag when the test ends (the image itself stays for other tags).
struct Untag(String);

impl Drop for Untag {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["image", "rm", &self.0])
            .output();
    }
}

#[tokio::test]
async fn a_built_image_is_pushed_to_the_registry_with_its_progress_in_the_log() {
    let reg = Registry::start();
    let local = busybox_image();
    let tag = format!("push-{}", std::process::id());
    let refs = rewrite(&registry(&reg.host()), "stilt-test-busybox", &tag);
    let _untag = Untag(refs.push.clone());
    let (log, lines) = collecting();
    builder()
        .push(local, &refs.push, &reg.host(), log)
        .await
        .expect("push to the test registry");
    assert_eq!(reg.tags("stilt-test-busybox"), [tag]);
    let lines = lines.lock().expect("lock").join("\n");
    assert!(lines.contains(&format!("pushing {}", refs.push)), "{lines}");
    assert!(lines.contains("digest: sha256:"), "{lines}");
    assert!(
        !lines.contains("\nPushing\n"),
        "byte counts flood the log:\n{lines}"
    );
}

#[tokio::test]
async fn a_push_to_a_registry_that_is_down_names_the_image_the_registry_and_the_engines_message() {
    // Nothing listens on this port.
    let host = format!("127.0.0.1:{}", free_port());
    let refs = rewrite(&registry(&host), "stilt-test-busybox", "down");
    let _untag = Untag(refs.push.clone());
    let (log, _) = collecting();
    let err = builder()
        .push(busybox_image(), &refs.push, &host, log)
        .await
        .expect_err("nothing to push to");
    let BuildError::Push { ref message, .. } = err else {
        panic!("not a push error: {err:?}");
    };
    let text = err.to_string();
    assert!(text.contains(&refs.push) && text.contains(&host), "{text}");
    assert!(message.contains("connection refused"), "{text}");
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> Option<String> {
    crate::cli_k8s::kubectl_at(kubeconfig, args)
}

/// The example in a temp dir, deploying into its own namespace; deleted on drop
/// (after `stilt down`), even when the test fails.
struct Deployed {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    namespace: String,
}

impl Deployed {
    fn example(kubeconfig: PathBuf, tiltfile_extra: &str) -> Deployed {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in ["Tiltfile", "k8s.yaml", "Dockerfile", ".gitignore"] {
            std::fs::copy(Path::new(EXAMPLE).join(f), dir.path().join(f)).expect("copy");
        }
        std::fs::create_dir(dir.path().join("site")).expect("mkdir");
        std::fs::copy(
            Path::new(EXAMPLE).join("site/index.html"),
            dir.path().join("site/index.html"),
        )
        .expect("copy");
        let tiltfile = dir.path().join("Tiltfile");
        let text = std::fs::read_to_string(&tiltfile).expect("read");
        std::fs::write(&tiltfile, format!("{tiltfile_extra}\n{text}")).expect("write");
        let namespace = format!("stilt-registry-{}", std::process::id());
        let d = Deployed {
            dir,
            kubeconfig,
            namespace,
        };
        kubectl(&d.kubeconfig, &["create", "namespace", &d.namespace])
            .expect("create the test namespace");
        d
    }

    fn stilt(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_stilt"));
        c.args(args)
            .args(["--context", "stilt-test", "--namespace", &self.namespace])
            .current_dir(self.dir.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("K8S_WEB_PORT", free_port().to_string())
            .env(
                "XDG_STATE_HOME",
                std::env::temp_dir().join("stilt-test-state"),
            )
            .stdin(Stdio::null());
        c
    }

    fn pod_images(&self) -> String {
        let jsonpath = r#"{range .items[*]}{.spec.containers[*].image}{"\n"}{end}"#;
        kubectl(
            &self.kubeconfig,
            &[
                "-n",
                &self.namespace,
                "get",
                "pods",
                "-o",
                &format!("jsonpath={jsonpath}"),
            ],
        )
        .unwrap_or_default()
    }
}

impl Drop for Deployed {
    fn drop(&mut self) {
        let _ = run_to_end(self.stilt(&["down"]), Duration::from_secs(120));
        let _ = kubectl(
            &self.kubeconfig,
            &["delete", "namespace", &self.namespace, "--wait=false"],
        );
    }
}

#[test]
fn ci_pushes_to_default_registry_and_the_pod_runs_the_registry_name() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    let reg = Registry::start();
    let host = reg.host();
    let project = Deployed::example(kubeconfig, &format!("default_registry({host:?})"));
    let mut ci = project.stilt(&["ci"]);
    ci.env("STILT_FORCE_PUSH", "1");
    let (code, out) = run_to_end(ci, Duration::from_secs(180));
    let tags = reg.tags("k8s-web");
    for t in &tags {
        // Leave no registry-named tag behind in the Engine.
        drop(Untag(format!("{host}/k8s-web:{t}")));
    }
    assert_eq!(code, 0, "stilt ci failed:\n{out}");
    assert_eq!(tags.len(), 1, "the registry holds {tags:?}:\n{out}");
    let pushed = format!("{host}/k8s-web:{}", tags[0]);
    assert!(tags[0].starts_with("stilt-"), "{tags:?}");
    assert!(out.contains(&format!("pushed {pushed}")), "{out}");
    let images = project.pod_images();
    assert!(
        images.lines().any(|l| l.trim() == pushed),
        "pods run {images:?}, not {pushed}:\n{out}"
    );
}

/// A namespace of its own, deleted on drop.
struct Namespace {
    kubeconfig: PathBuf,
    name: String,
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = kubectl(
            &self.kubeconfig,
            &["delete", "namespace", &self.name, "--wait=false"],
        );
    }
}

#[tokio::test]
async fn the_clusters_local_registry_hosting_config_map_is_read() {
    let Some(kubeconfig) = kubeconfig() else {
        return;
    };
    // Never kube-public on the shared cluster: every other test would start pushing.
    let ns = Namespace {
        kubeconfig: kubeconfig.clone(),
        name: format!("stilt-registry-hosting-{}", std::process::id()),
    };
    kubectl(&kubeconfig, &["create", "namespace", &ns.name]).expect("create namespace");
    let kc = kube::config::Kubeconfig::read_from(&kubeconfig).expect("read the kubeconfig");
    let settings = stilt::model::K8sSettings {
        context: Some("stilt-test".into()),
        ..Default::default()
    };
    let client = stilt::deploy::k8s::connect::connect_with(kc, &settings)
        .expect("client for stilt-test")
        .client;
    let absent = registry_hosting::read(&client, &ns.name).await;
    assert!(matches!(absent, Ok(None)), "{absent:?}");
    let document = "host: \"localhost:5001\"\nhostFromContainerRuntime: \"kind-registry:5000\"\n";
    let literal = format!("--from-literal={}={document}", registry_hosting::KEY);
    kubectl(
        &kubeconfig,
        &[
            "-n",
            &ns.name,
            "create",
            "configmap",
            registry_hosting::NAME,
            &literal,
        ],
    )
    .expect("create the ConfigMap");
    let found = registry_hosting::read(&client, &ns.name)
        .await
        .expect("read the ConfigMap")
        .expect("a registry");
    assert_eq!(found.host, "localhost:5001");
    assert_eq!(
        found.host_from_cluster.as_deref(),
        Some("kind-registry:5000")
    );
}
