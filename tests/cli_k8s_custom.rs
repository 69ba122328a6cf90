//! `k8s_custom_deploy` and `k8s_kind` end to end: the real binary against the real
//! test cluster (`STILT_TEST_KUBECONFIG`; skipped without it).
//!
//! The custom deploy's apply_cmd is a script that puts `$TILT_IMAGE_0` into a
//! Deployment of a FROM-scratch busybox image and runs `kubectl apply -o yaml`: `ci`
//! must go green once stilt found that Deployment's pod through the printed YAML, and
//! `down` must run delete_cmd and leave nothing. `k8s_kind` makes a ConfigMap a
//! workload whose `data.image` gets the built tag. Each test uses its own namespace.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli_k8s::kubeconfig;
use crate::cli_support::{poll, run_to_end};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/k8s-web");
const LONG: Duration = Duration::from_secs(180);

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: custom-web
spec:
  replicas: 1
  selector:
    matchLabels: {app: custom-web}
  template:
    metadata:
      labels: {app: custom-web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: IMAGE
        ports: [{containerPort: 8080}]
        readinessProbe:
          tcpSocket: {port: 8080}
          periodSeconds: 1
";

const APPLY: &str = r#"#!/bin/sh
set -e
echo "applying $TILT_IMAGE_MAP_0 as $TILT_IMAGE_0" >&2
sed "s|IMAGE|$TILT_IMAGE_0|" deploy.yaml > applied.yaml
kubectl --context stilt-test -n "$NS" apply -o yaml -f applied.yaml
"#;

const DELETE: &str = r#"#!/bin/sh
echo "delete_cmd ran in $(pwd) with MODE=$MODE" > "$MARKER"
kubectl --context stilt-test -n "$NS" delete --wait=false -f ../deploy.yaml
"#;

struct Project {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    namespace: String,
}

impl Project {
    fn new(kubeconfig: PathBuf, tag: &str, tiltfile: &str) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::copy(
            Path::new(EXAMPLE).join("Dockerfile"),
            dir.path().join("Dockerfile"),
        )
        .expect("copy");
        std::fs::create_dir(dir.path().join("site")).expect("mkdir");
        std::fs::write(dir.path().join("site/index.html"), "hi\n").expect("write");
        std::fs::copy("/bin/busybox", dir.path().join("busybox")).expect("busybox-static");
        std::fs::write(dir.path().join("Tiltfile"), tiltfile).expect("write");
        let namespace = format!("stilt-custom-{tag}-{}", std::process::id());
        let p = Project {
            dir,
            kubeconfig,
            namespace,
        };
        p.kubectl(&["create", "namespace", &p.namespace])
            .expect("create the test namespace");
        p
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write_script(&self, rel: &str, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path(rel);
        std::fs::write(&path, text).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    fn kubectl(&self, args: &[&str]) -> Option<String> {
        crate::cli_k8s::kubectl_at(&self.kubeconfig, args)
    }

    fn stilt(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_stilt"));
        c.args(args)
            .args(["--context", "stilt-test", "--namespace", &self.namespace])
            .current_dir(self.dir.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("NS", &self.namespace)
            .env("MARKER", self.path("deleted.txt"))
            .env(
                "XDG_STATE_HOME",
                std::env::temp_dir().join("stilt-test-state"),
            )
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> (i32, String) {
        run_to_end(self.stilt(args), LONG)
    }

    /// Every pod, Deployment and ConfigMap in the namespace (not the API's own).
    fn left(&self) -> String {
        let out = self
            .kubectl(&[
                "-n",
                &self.namespace,
                "get",
                "deployments,pods,configmaps",
                "-o",
                "name",
            ])
            .unwrap_or_default();
        let left: Vec<&str> = out
            .lines()
            .filter(|l| *l != "configmap/kube-root-ca.crt")
            .collect();
        left.join("\n")
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self
            .stilt(&["down"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.kubectl(&["delete", "namespace", &self.namespace, "--wait=false"]);
    }
}

const CUSTOM_TILTFILE: &str = r#"
allow_k8s_contexts("stilt-test")
docker_build("custom-web", ".", only=["Dockerfile", "busybox", "site"])
k8s_custom_deploy(
    "custom",
    apply_cmd="./apply.sh",
    delete_cmd="../delete.sh",
    deps=["deploy.yaml"],
    image_deps=["custom-web"],
    delete_dir="site",
    delete_env={"MODE": "down"},
)
"#;

#[test]
fn a_custom_deploy_applies_finds_its_pod_in_ci_and_down_runs_delete_cmd() {
    let Some(kc) = kubeconfig() else { return };
    let p = Project::new(kc, "deploy", CUSTOM_TILTFILE);
    std::fs::write(p.path("deploy.yaml"), DEPLOYMENT).expect("write");
    p.write_script("apply.sh", APPLY);
    p.write_script("delete.sh", DELETE);

    let (code, out) = p.run(&["ci"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("applying custom-web as custom-web:"),
        "the apply's stderr, with TILT_IMAGE_MAP_0 and TILT_IMAGE_0, is logged:\n{out}"
    );
    assert!(
        out.contains("applied Deployment/custom-web"),
        "the objects read from its output are logged:\n{out}"
    );
    let image = p
        .kubectl(&[
            "-n",
            &p.namespace,
            "get",
            "deployment",
            "custom-web",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].image}",
        ])
        .unwrap_or_default();
    assert!(image.starts_with("custom-web:"), "{image}");
    assert_ne!(image, "custom-web:latest");

    let (code, out) = p.run(&["down"]);
    assert_eq!(code, 0, "{out}");
    let marker = std::fs::read_to_string(p.path("deleted.txt")).unwrap_or_default();
    assert_eq!(
        marker.trim(),
        format!(
            "delete_cmd ran in {} with MODE=down",
            p.path("site").display()
        )
    );
    assert!(
        poll(Duration::from_secs(60), || p.left().is_empty()),
        "down leaves nothing: {}",
        p.left()
    );
}

#[test]
fn a_failing_apply_cmd_fails_ci_with_its_exit_code_and_output() {
    let Some(kc) = kubeconfig() else { return };
    let tiltfile = r#"
allow_k8s_contexts("stilt-test")
k8s_custom_deploy("broken", apply_cmd="echo no such chart >&2; exit 7", delete_cmd="true")
"#;
    let p = Project::new(kc, "broken", tiltfile);
    let (code, out) = p.run(&["ci"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("apply command `echo no such chart >&2; exit 7` failed (exit code 7)"),
        "{out}"
    );
    assert!(out.contains("no such chart"), "{out}");
}

const KIND_TILTFILE: &str = r#"
allow_k8s_contexts("stilt-test")
docker_build("kind-web", ".", only=["Dockerfile", "busybox", "site"])
k8s_yaml(blob('''
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-image
data:
  image: kind-web
'''))
k8s_kind("ConfigMap", image_json_path="{.data.image}")
"#;

#[test]
fn k8s_kind_injects_the_built_image_into_a_config_map_workload() {
    let Some(kc) = kubeconfig() else { return };
    let p = Project::new(kc, "kind", KIND_TILTFILE);
    let (code, out) = p.run(&["ci"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("web-image"),
        "the ConfigMap is its own resource:\n{out}"
    );
    let image = p
        .kubectl(&[
            "-n",
            &p.namespace,
            "get",
            "configmap",
            "web-image",
            "-o",
            "jsonpath={.data.image}",
        ])
        .unwrap_or_default();
    assert!(image.starts_with("kind-web:"), "{image}");
    assert_ne!(image, "kind-web");

    let (code, out) = p.run(&["down"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        poll(Duration::from_secs(60), || p.left().is_empty()),
        "down leaves nothing: {}",
        p.left()
    );
}
