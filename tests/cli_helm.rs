//! `helm()` end to end: the bundled `examples/helm-web` through the real binary
//! against the real test cluster (`stilt ci` to a verdict, then `stilt down` leaving
//! nothing of ours), and the render cache seen from outside (a counting `helm`
//! wrapper: a reload whose chart did not change runs nothing).
//!
//! Needs `helm` on `$PATH` (`tests/tools/install-helm` puts it in
//! ~/.cache/stilt-tools/bin; `.ci/run` adds that to `$PATH`): without it the tests
//! are skipped, unless `STILT_TEST_KUBECONFIG` is set, when they fail naming the
//! install script.

/// Whether `tool` is on `$PATH`; `false` (the test is skipped) when it is not and
/// the cluster tests are off. Panics when they are on: CI must have installed it.
pub fn tool_or_skip(tool: &str) -> bool {
    if which(tool).is_some() {
        return true;
    }
    let cluster = std::env::var_os("STILT_TEST_KUBECONFIG").is_some_and(|v| !v.is_empty());
    assert!(
        !cluster,
        "`{tool}` is not on $PATH but STILT_TEST_KUBECONFIG is set: run tests/tools/install-helm \
         and add ~/.cache/stilt-tools/bin to $PATH (.ci/run does)"
    );
    eprintln!("skipped: `{tool}` not on $PATH (tests/tools/install-helm)");
    false
}

pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli_support::{poll, run_to_end};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/helm-web");
const LONG: Duration = Duration::from_secs(180);

/// A copy of the example deploying into its own namespace (through `helm(namespace=)`),
/// with a `helm` on `$PATH` that counts its runs before running the real one.
struct Project {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    namespace: String,
    path: String,
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read example").flatten() {
        let name = e.file_name();
        if name == "busybox" {
            continue;
        }
        if e.path().is_dir() {
            copy_tree(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).expect("copy");
        }
    }
}

impl Project {
    fn example(kubeconfig: PathBuf, helm: PathBuf) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_tree(Path::new(EXAMPLE), &dir.path().join("app"));
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let wrapper = format!(
            "#!/bin/sh\necho \"$*\" >> {}\nexec {} \"$@\"\n",
            dir.path().join("helm-runs").display(),
            helm.display()
        );
        std::fs::write(bin.join("helm"), wrapper).expect("write wrapper");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("helm"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let p = Project {
            namespace: format!("stilt-helm-{}", std::process::id()),
            dir,
            kubeconfig,
            path,
        };
        p.kubectl(&["create", "namespace", &p.namespace])
            .expect("create the test namespace");
        p
    }

    fn kubectl(&self, args: &[&str]) -> Option<String> {
        crate::cli_k8s::kubectl_at(&self.kubeconfig, args)
    }

    fn stilt(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_stilt"));
        // No --namespace: the chart's objects get theirs from helm(namespace=).
        c.args(args)
            .args(["--context", "stilt-test"])
            .current_dir(self.dir.path().join("app"))
            .env("KUBECONFIG", &self.kubeconfig)
            .env("PATH", &self.path)
            .env("HELM_WEB_NAMESPACE", &self.namespace)
            .env("HELM_WEB_MESSAGE", "rendered by helm for stilt")
            .env("XDG_STATE_HOME", self.dir.path().join("state"))
            .stdin(Stdio::null());
        c
    }

    fn helm_runs(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("helm-runs"))
            .unwrap_or_default()
            .lines()
            .count()
    }

    fn ours(&self) -> String {
        self.kubectl(&[
            "-n",
            &self.namespace,
            "get",
            "deployments,services,configmaps,pods",
            "-l",
            "app.kubernetes.io/managed-by=stilt",
            "-o",
            "name",
        ])
        .unwrap_or_default()
        .trim()
        .to_owned()
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
fn helm_web_ci_deploys_the_chart_into_its_namespace_and_down_removes_it() {
    let Some(kc) = crate::cli_k8s::kubeconfig() else {
        return;
    };
    if !tool_or_skip("helm") {
        return;
    }
    let helm = which("helm").expect("helm on PATH");
    let p = Project::example(kc, helm);
    let (code, out) = run_to_end(p.stilt(&["ci"]), LONG);
    assert_eq!(code, 0, "{out}");
    let ours = p.ours();
    for o in [
        "deployment.apps/helm-web",
        "service/helm-web",
        "configmap/helm-web-message",
    ] {
        assert!(ours.contains(o), "{o} in {}: {ours}", p.namespace);
    }
    // `set=` reached the chart, and the pod serves the message from the ConfigMap.
    let served = p.kubectl(&[
        "-n",
        &p.namespace,
        "exec",
        "deploy/helm-web",
        "--",
        "cat",
        "/www/msg/message.txt",
    ]);
    assert_eq!(served.as_deref(), Some("rendered by helm for stilt"));
    assert_eq!(p.helm_runs(), 1, "ci rendered the chart once");

    // `down` loads the Tiltfile again: the chart did not change, so helm does not run.
    let (code, out) = run_to_end(p.stilt(&["down"]), LONG);
    assert_eq!(code, 0, "{out}");
    assert_eq!(p.helm_runs(), 1, "down re-rendered an unchanged chart");
    assert!(
        poll(Duration::from_secs(60), || p.ours().is_empty()),
        "down leaves nothing labelled as ours: {}",
        p.ours()
    );
}
