//! `docker_build_with_restart` (the built-in `ext://restart_process`) end to end with
//! the real binary: on Docker Compose with an image that has no shell and no `tar`,
//! and on the test cluster. A save syncs the file and runs the entrypoint again in the
//! same container (same pod, no container restart).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli_k8s::kubectl_at;
use crate::cli_support::{Up, free_port, http_get, poll, start_up};
use crate::docker_support::docker;

const LONG: Duration = Duration::from_secs(180);
const BUSYBOX: &str = "/bin/busybox";

/// A FROM scratch image with busybox's applets but neither `sh` nor `tar`, unless
/// `keep_shell`.
fn write_context(dir: &Path, keep_shell: bool) {
    std::fs::copy(BUSYBOX, dir.join("busybox")).expect("copy busybox (busybox-static)");
    let strip = if keep_shell {
        "RUN [\"/bin/busybox\", \"rm\", \"/bin/tar\"]\n".to_owned()
    } else {
        "RUN [\"/bin/busybox\", \"rm\", \"/bin/tar\", \"/bin/sh\"]\n".to_owned()
    };
    std::fs::write(
        dir.join("Dockerfile"),
        format!(
            "FROM scratch\nCOPY busybox /bin/busybox\n\
             RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n{strip}\
             COPY site /www\nENV PATH=/bin\n"
        ),
    )
    .expect("write Dockerfile");
    std::fs::create_dir_all(dir.join("site")).expect("mkdir");
    std::fs::write(dir.join("site/index.html"), "version one\n").expect("write");
}

fn stilt(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_stilt"));
    c.current_dir(dir)
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("stilt-test-state"),
        )
        .stdin(Stdio::null());
    c
}

/// The PIDs (as the host sees them) of `httpd` processes in container `id`.
fn httpd_pids(id: &str) -> Vec<String> {
    docker(&["top", id, "-o", "pid,comm"])
        .lines()
        .filter(|l| l.trim_end().ends_with("httpd"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

struct Compose {
    dir: tempfile::TempDir,
    project: String,
}

impl Compose {
    fn stilt(&self, args: &[&str]) -> Command {
        let mut c = stilt(self.dir.path());
        c.args(args).env("COMPOSE_PROJECT_NAME", &self.project);
        c
    }

    fn container(&self) -> Option<String> {
        let filter = format!("label=com.docker.compose.project={}", self.project);
        let ids = docker(&["ps", "-q", "--no-trunc", "--filter", &filter]);
        ids.split_whitespace().next().map(str::to_owned)
    }
}

impl Drop for Compose {
    fn drop(&mut self) {
        let _ = self
            .stilt(&["down"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[test]
fn compose_a_save_restarts_the_process_in_the_same_container_without_a_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_context(dir.path(), false);
    let port = free_port();
    std::fs::write(
        dir.path().join("Tiltfile"),
        "load('ext://restart_process', 'docker_build_with_restart')\n\
         docker_build_with_restart('stilt-test-rp', '.',\n\
             ['/bin/httpd', '-f', '-p', '8080', '-h', '/www'],\n\
             live_update=[sync('site', '/www')])\n\
         docker_compose('docker-compose.yml', project_name=os.getenv('COMPOSE_PROJECT_NAME'))\n",
    )
    .expect("write Tiltfile");
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        format!(
            "services:\n  web:\n    image: stilt-test-rp\n    ports:\n      - \"{port}:8080\"\n"
        ),
    )
    .expect("write compose file");
    let p = Compose {
        project: format!("stilt-test-rp-{}", std::process::id()),
        dir,
    };
    let up: Up = start_up(p.stilt(&["up", "--stream"]));
    let at = up.wait_for("adding stilt's process supervisor", 0, LONG);
    assert!(
        poll(LONG, || http_get(port).contains("version one")),
        "never served:\n{}",
        up.out.text()
    );
    let id = p.container().expect("a running container");
    let first = httpd_pids(&id);
    assert_eq!(first.len(), 1, "one httpd under the supervisor: {first:?}");

    std::fs::write(p.dir.path().join("site/index.html"), "version two\n").expect("edit");
    up.wait_for("restarting the process (/tmp/.restart-proc)", at, LONG);
    assert!(
        poll(LONG, || {
            let now = httpd_pids(&id);
            now.len() == 1 && now != first
        }),
        "httpd was not started again: {:?}\n{}",
        httpd_pids(&id),
        up.out.text()
    );
    assert!(
        poll(LONG, || http_get(port).contains("version two")),
        "the new content is not served"
    );
    assert_eq!(
        p.container().as_deref(),
        Some(id.as_str()),
        "same container"
    );
    let out = up.stop();
    let after = out.split("restarting the process").nth(1).unwrap_or("");
    assert!(!after.contains("building "), "no rebuild:\n{out}");
    assert!(
        !out.contains("restarting container"),
        "the container is not restarted:\n{out}"
    );
}

#[test]
fn k8s_a_save_restarts_the_process_in_the_same_pod() {
    let Some(kubeconfig) = crate::cli_k8s::kubeconfig() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    write_context(dir.path(), true);
    let namespace = format!("stilt-test-rp-{}", std::process::id());
    std::fs::write(
        dir.path().join("Tiltfile"),
        "allow_k8s_contexts('stilt-test')\n\
         load('ext://restart_process', 'docker_build_with_restart')\n\
         docker_build_with_restart('stilt-test-rp-k8s', '.',\n\
             'echo \"started: $(cat /www/index.html)\"; exec httpd -f -p 8080 -h /www',\n\
             live_update=[sync('site', '/www')])\n\
         k8s_yaml('k8s.yaml')\n",
    )
    .expect("write Tiltfile");
    std::fs::write(
        dir.path().join("k8s.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: rp\nspec:\n  \
         terminationGracePeriodSeconds: 1\n  containers:\n  - name: web\n    \
         image: stilt-test-rp-k8s\n",
    )
    .expect("write k8s.yaml");
    let cmd = |args: &[&str]| {
        let mut c = stilt(dir.path());
        c.args(args)
            .args(["--context", "stilt-test", "--namespace", &namespace])
            .env("KUBECONFIG", &kubeconfig);
        c
    };
    struct Down<'a>(&'a dyn Fn(&[&str]) -> Command, &'a Path, &'a str);
    impl Drop for Down<'_> {
        fn drop(&mut self) {
            let _ = (self.0)(&["down"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = kubectl_at(self.1, &["delete", "namespace", self.2, "--wait=false"]);
        }
    }
    let _down = Down(&cmd, &kubeconfig, &namespace);
    let kubectl = |args: &[&str]| -> String {
        let args: Vec<&str> = ["-n", namespace.as_str()]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        kubectl_at(&kubeconfig, &args).unwrap_or_default()
    };
    kubectl_at(&kubeconfig, &["create", "namespace", &namespace])
        .expect("create the test namespace");

    let up = start_up(cmd(&["up", "--stream"]));
    let at = up.wait_for("started: version one", 0, LONG);
    let uid = kubectl(&["get", "pod", "rp", "-o", "jsonpath={.metadata.uid}"]);
    std::fs::write(dir.path().join("site/index.html"), "version two\n").expect("edit");
    up.wait_for("restarting the process", at, LONG);
    up.wait_for("started: version two", at, LONG);
    assert_eq!(
        kubectl(&["get", "pod", "rp", "-o", "jsonpath={.metadata.uid}"]),
        uid,
        "same pod"
    );
    assert_eq!(
        kubectl(&[
            "get",
            "pod",
            "rp",
            "-o",
            "jsonpath={.status.containerStatuses[0].restartCount}"
        ]),
        "0",
        "the container was not restarted"
    );
    up.stop();
}
