//! The real binary on the bundled `examples/k8s-web` against the real test cluster
//! (`tests/cluster/up`, kubeconfig in `STILT_TEST_KUBECONFIG`): `ci` to a verdict, `up`
//! with a port forward and live update into the pod, a crash-looping pod failing `ci`
//! with its reason, the context guard, and `down` leaving nothing of ours.
//!
//! Each test copies the example into a temp dir and deploys into its own namespace
//! (`--namespace`); a guard runs `stilt down` and deletes the namespace even when the
//! test fails. Without `STILT_TEST_KUBECONFIG` the tests say they are skipped; with it
//! set and no cluster answering, they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli_support::{Up, free_port, http_get, poll, run_to_end, start_up};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/k8s-web");
const LONG: Duration = Duration::from_secs(180);

/// The test cluster's kubeconfig, or `None` (the test is skipped) when it is not set.
pub fn kubeconfig() -> Option<PathBuf> {
    let Some(path) = std::env::var_os("STILT_TEST_KUBECONFIG").filter(|p| !p.is_empty()) else {
        eprintln!("skipped: STILT_TEST_KUBECONFIG not set (tests/cluster/up)");
        return None;
    };
    let path = PathBuf::from(path);
    let out = kubectl_at(&path, &["get", "nodes", "-o", "name"]);
    assert!(
        out.is_some(),
        "STILT_TEST_KUBECONFIG={} is set but the cluster does not answer",
        path.display()
    );
    Some(path)
}

/// `kubectl --context stilt-test ARGS` against the test cluster: stdout on success.
pub fn kubectl_at(kubeconfig: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--context", "stilt-test", "--request-timeout", "20s"])
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

struct Project {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    namespace: String,
    port: u16,
}

impl Project {
    /// A copy of the example deploying into a new namespace, with a free local port.
    fn example(kubeconfig: PathBuf, tag: &str) -> Project {
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
        let namespace = format!("stilt-cli-{tag}-{}", std::process::id());
        let p = Project {
            dir,
            kubeconfig,
            namespace,
            port: free_port(),
        };
        p.kubectl(&["create", "namespace", &p.namespace])
            .expect("create the test namespace");
        p
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let s = std::fs::read_to_string(self.path(rel)).expect("read");
        assert!(s.contains(from), "{rel} has no {from:?}");
        std::fs::write(self.path(rel), s.replace(from, to)).expect("write");
    }

    fn kubectl(&self, args: &[&str]) -> Option<String> {
        kubectl_at(&self.kubeconfig, args)
    }

    fn stilt(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_stilt"));
        c.args(args)
            .args(["--context", "stilt-test", "--namespace", &self.namespace])
            .current_dir(self.dir.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("K8S_WEB_PORT", self.port.to_string())
            .env(
                "XDG_STATE_HOME",
                std::env::temp_dir().join("stilt-test-state"),
            )
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str], limit: Duration) -> (i32, String) {
        run_to_end(self.stilt(args), limit)
    }

    fn up(&self) -> Up {
        start_up(self.stilt(&["up", "--stream"]))
    }

    /// Names of the pods in the namespace that are not terminating.
    fn pods(&self) -> Vec<String> {
        let jsonpath =
            r#"{range .items[*]}{.metadata.name}{" "}{.metadata.deletionTimestamp}{"\n"}{end}"#;
        let out = self
            .kubectl(&[
                "-n",
                &self.namespace,
                "get",
                "pods",
                "-o",
                &format!("jsonpath={jsonpath}"),
            ])
            .unwrap_or_default();
        out.lines()
            .filter_map(|l| {
                let mut parts = l.split_whitespace();
                let name = parts.next()?;
                parts.next().is_none().then(|| name.to_owned())
            })
            .collect()
    }

    /// Objects carrying stilt's management label, in the namespace and cluster-wide.
    fn ours(&self) -> String {
        let kinds = "deployments,services,configmaps,pods,jobs";
        let ns = self
            .kubectl(&[
                "-n",
                &self.namespace,
                "get",
                kinds,
                "-l",
                "app.kubernetes.io/managed-by=stilt",
                "-o",
                "name",
            ])
            .unwrap_or_default();
        ns.trim().to_owned()
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

#[test]
fn ci_builds_applies_and_waits_for_the_pod_then_down_removes_what_it_applied() {
    let Some(kc) = kubeconfig() else { return };
    let p = Project::example(kc, "ci");
    let (code, out) = p.run(&["ci"], LONG);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("uncategorized"),
        "the ConfigMap is uncategorized:\n{out}"
    );
    assert!(
        out.contains("deployment.apps/web") || out.contains("deployment/web"),
        "the apply is logged:\n{out}"
    );
    let ours = p.ours();
    assert!(ours.contains("deployment.apps/web"), "{ours}");
    assert!(ours.contains("service/web"), "{ours}");
    assert!(ours.contains("configmap/k8s-web-settings"), "{ours}");

    let (code, out) = p.run(&["down"], LONG);
    assert_eq!(code, 0, "{out}");
    assert!(
        poll(Duration::from_secs(60), || p.ours().is_empty()),
        "down leaves nothing labelled as ours: {}",
        p.ours()
    );
}

#[test]
fn up_serves_through_the_port_forward_and_live_updates_the_pod_without_a_new_one() {
    let Some(kc) = kubeconfig() else { return };
    let p = Project::example(kc, "up");
    let up = p.up();
    assert!(
        poll(LONG, || http_get(p.port).contains("Hello from a pod")),
        "the site is served through the port forward:\n{}",
        up.out.text()
    );
    let pods = p.pods();
    assert_eq!(pods.len(), 1, "{pods:?}");

    let from = up.out.text().len();
    p.edit("site/index.html", "Hello from a pod", "Hello again");
    assert!(
        poll(Duration::from_secs(60), || http_get(p.port)
            .contains("Hello again")),
        "the edit is served:\n{}",
        &up.out.text()[from..]
    );
    assert_eq!(p.pods(), pods, "live update keeps the pod");
    assert!(
        !up.out.text()[from..].contains("full update"),
        "{}",
        &up.out.text()[from..]
    );

    // fall_back_on(["Dockerfile"]): a rebuild and a rollout to a new pod, which the
    // port forward follows.
    let from = up.out.text().len();
    p.edit("Dockerfile", "EXPOSE 8080", "EXPOSE 8080\nENV REBUILT=1");
    up.wait_for("full update", from, LONG);
    assert!(
        poll(LONG, || {
            let now = p.pods();
            now.len() == 1 && now != pods && http_get(p.port).contains("Hello again")
        }),
        "a new pod serves through the port forward: {:?}\n{}",
        p.pods(),
        &up.out.text()[from..]
    );
    up.stop();
}

#[test]
fn a_crash_looping_pod_fails_ci_with_its_reason() {
    let Some(kc) = kubeconfig() else { return };
    let p = Project::example(kc, "crash");
    p.edit(
        "Dockerfile",
        r#"CMD ["sh", "-c", "trap 'exit 0' TERM INT; httpd -f -v -p 8080 -h /www & wait"]"#,
        r#"CMD ["sh", "-c", "echo going $((40 + 2)) down; exit 3"]"#,
    );
    let (code, out) = p.run(&["ci"], LONG);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("CrashLoopBackOff") || out.contains("exited with code 3"),
        "{out}"
    );
    // Computed by the container, so the line cannot come from the build's output.
    assert!(
        out.contains("going 42 down"),
        "the pod's log is shown:\n{out}"
    );
}

#[test]
fn a_context_that_is_not_known_to_be_local_is_refused_with_how_to_allow_it() {
    let Some(kc) = kubeconfig() else { return };
    let p = Project::example(kc, "guard");
    p.edit("Tiltfile", "allow_k8s_contexts(\"stilt-test\")", "");
    // A copy of the kubeconfig whose context has a name no local cluster uses.
    let text = std::fs::read_to_string(&p.kubeconfig).expect("kubeconfig");
    let renamed = text.replace("stilt-test", "prod-east");
    let kc2 = p.path("kubeconfig");
    std::fs::write(&kc2, renamed).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_stilt"))
        .args(["ci", "--namespace", &p.namespace])
        .current_dir(p.dir.path())
        .env("KUBECONFIG", &kc2)
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("stilt-test-state"),
        )
        .output()
        .expect("run stilt");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("allow_k8s_contexts('prod-east')"), "{text}");
    assert!(p.ours().is_empty(), "nothing was applied: {}", p.ours());
}

#[test]
fn a_taken_local_port_is_an_error_line_on_the_resource_not_a_crash() {
    let Some(kc) = kubeconfig() else { return };
    let p = Project::example(kc, "port");
    let _taken = std::net::TcpListener::bind(("127.0.0.1", p.port)).expect("hold the port");
    let (code, out) = p.run(&["ci"], LONG);
    assert_eq!(code, 0, "the pod is ready all the same:\n{out}");
    let line = format!("cannot listen on 127.0.0.1:{}", p.port);
    assert!(
        out.lines().any(|l| l.contains("web") && l.contains(&line)),
        "{out}"
    );
}

/// No cluster answers at the kubeconfig's address: `ci` fails on the resource with a
/// message that says so and why, not "kind not served". Needs no cluster.
#[test]
fn a_cluster_that_does_not_answer_is_named_as_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: kind-gone\nclusters:\n- name: gone\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\nusers:\n- name: me\n  user:\n    token: t\ncontexts:\n- name: kind-gone\n  context:\n    cluster: gone\n    user: me\n"
    );
    std::fs::write(dir.path().join("kc"), kubeconfig).expect("write");
    std::fs::write(
        dir.path().join("Tiltfile"),
        "k8s_yaml(blob('apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: c}\\n'))\n",
    )
    .expect("write");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stilt"));
    cmd.arg("ci")
        .current_dir(dir.path())
        .env("KUBECONFIG", dir.path().join("kc"))
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("stilt-test-state"),
        )
        .stdin(Stdio::null());
    let (code, out) = run_to_end(cmd, LONG);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("cannot reach the Kubernetes API server") && out.contains("refused"),
        "{out}"
    );
}
