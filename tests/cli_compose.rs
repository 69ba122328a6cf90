//! The real binary on the bundled `examples/compose-web` (and variants of it) against
//! the real Docker Engine and compose tool: ci, up with live update, fall back,
//! a killed container, run-step failures, build errors, and `down` leaving nothing.
//!
//! Each test copies the example into a temp dir and runs it under its own compose
//! project name (`stilt-test-...`) and host port, so tests can run side by side; a
//! guard takes the project down even when a test fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli_support::{Output, Up, free_port, http_get, poll, run_to_end, start_up};
use crate::docker_support::{docker, project_containers, project_networks};

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/compose-web");

struct Project {
    dir: tempfile::TempDir,
    name: String,
    port: u16,
}

impl Project {
    /// A copy of the example under a unique project name and a free port.
    fn example(tag: &str) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in ["Tiltfile", "docker-compose.yml", "Dockerfile", ".gitignore"] {
            std::fs::copy(Path::new(EXAMPLE).join(f), dir.path().join(f)).expect("copy");
        }
        std::fs::create_dir(dir.path().join("site")).expect("mkdir");
        std::fs::copy(
            Path::new(EXAMPLE).join("site/index.html"),
            dir.path().join("site/index.html"),
        )
        .expect("copy");
        let port = free_port();
        let name = format!("stilt-test-{tag}-{}", std::process::id());
        Project { dir, name, port }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).expect("write");
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let s = std::fs::read_to_string(self.path(rel)).expect("read");
        assert!(s.contains(from), "{rel} has no {from:?}");
        self.write(rel, &s.replace(from, to));
    }

    fn stilt(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_stilt"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("COMPOSE_PROJECT_NAME", &self.name)
            .env("WEB_PORT", self.port.to_string())
            // stilt's per-project lock and records: not in the user's ~/.local/state.
            .env(
                "XDG_STATE_HOME",
                std::env::temp_dir().join("stilt-test-state"),
            )
            .stdin(Stdio::null());
        c
    }

    /// Runs `stilt ARGS` to completion (killed after `limit`).
    fn run(&self, args: &[&str], limit: Duration) -> (i32, String) {
        run_to_end(self.stilt(args), limit)
    }

    fn up(&self) -> Up {
        start_up(self.stilt(&["up", "--stream"]))
    }

    /// The id of the project's running `web` container.
    fn container(&self) -> Option<String> {
        let filter = format!("label=com.docker.compose.project={}", self.name);
        let ids = docker(&["ps", "-q", "--no-trunc", "--filter", &filter]);
        ids.split_whitespace().next().map(str::to_owned)
    }

    fn cat(&self, path: &str) -> Option<String> {
        let id = self.container()?;
        let out = Command::new("docker")
            .args(["exec", &id, "cat", path])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = self
            .stilt(&["down", "--delete-volumes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

const LONG: Duration = Duration::from_secs(120);

#[test]
fn ci_builds_deploys_and_waits_for_health_then_down_leaves_nothing() {
    let p = Project::example("ci");
    let (code, out) = p.run(&["ci"], LONG);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("building compose-web:stilt-") || out.contains("reusing it"),
        "{out}"
    );
    assert!(
        out.contains("healthy"),
        "readiness waits on the healthcheck:\n{out}"
    );
    assert!(
        http_get(p.port).contains("Hello from stilt"),
        "the site is served"
    );
    assert!(!project_containers(&p.name).is_empty());
    let (code, out) = p.run(&["down"], LONG);
    assert_eq!(code, 0, "{out}");
    assert!(
        project_containers(&p.name).is_empty(),
        "containers left after down"
    );
    assert!(
        project_networks(&p.name).is_empty(),
        "networks left after down"
    );
}

#[test]
fn every_docker_client_uses_docker_host_and_ci_ends_with_its_verdict() {
    let p = Project::example("host");
    let mut child = p
        .stilt(&["ci", "--timeout", "60s"])
        .env("DOCKER_HOST", "tcp://127.0.0.1:1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stilt");
    let out = Output::capture(&mut child);
    let status = child.wait().expect("wait");
    let out = out.text();
    assert_eq!(status.code(), Some(1), "{out}");
    // The build goes to the Engine DOCKER_HOST names, not the local one.
    assert!(
        out.contains("cannot reach the Docker Engine at tcp://127.0.0.1:1"),
        "{out}"
    );
    assert!(!out.contains("Successfully built"), "{out}");
    let last = out.trim_end().lines().last().unwrap_or_default().to_owned();
    assert!(
        last.starts_with("  web "),
        "the summary is the last line: {out}"
    );
}

#[test]
fn save_syncs_into_the_running_container_and_deletes_propagate() {
    let p = Project::example("sync");
    p.write("site/extra.txt", "extra\n");
    let up = p.up();
    let at = up.wait_for("running, healthy", 0, LONG);
    let before = p.container().expect("a running container");
    p.edit("site/index.html", "Hello from stilt", "Hello again");
    assert!(
        poll(LONG, || p
            .cat("/www/index.html")
            .is_some_and(|s| s.contains("Hello again"))),
        "the edit never reached the container:\n{}",
        up.out.text()
    );
    let at = up.wait_for("succeeded", at, LONG);
    assert!(p.cat("/www/updated.txt").is_some(), "the run step ran");
    std::fs::remove_file(p.path("site/extra.txt")).expect("rm");
    assert!(
        poll(LONG, || p.cat("/www/extra.txt").is_none()),
        "the deletion never reached the container"
    );
    up.wait_for("succeeded", at, LONG);
    assert_eq!(
        p.container().as_deref(),
        Some(before.as_str()),
        "no redeploy for a sync"
    );
    let out = up.stop();
    let after_first_deploy = out.split("running, healthy").nth(1).unwrap_or("");
    assert!(
        !after_first_deploy.contains("building "),
        "a sync must not rebuild:\n{out}"
    );
}

#[test]
fn a_change_matching_fall_back_on_rebuilds_and_says_which_file() {
    let p = Project::example("fallback");
    let up = p.up();
    let at = up.wait_for("running, healthy", 0, LONG);
    let before = p.container().expect("a running container");
    p.edit(
        "Dockerfile",
        "EXPOSE 8080",
        "EXPOSE 8080\nLABEL stilt.test.changed=1",
    );
    let at = up.wait_for("Dockerfile", at, LONG);
    up.wait_for("running, healthy", at, LONG);
    let after = p.container().expect("a running container");
    assert_ne!(
        before, after,
        "the container was recreated from the new image"
    );
    let out = up.stop();
    assert!(
        out.contains("fall_back_on"),
        "the log names the reason:\n{out}"
    );
}

#[test]
fn a_killed_container_turns_the_resource_red_and_the_next_save_redeploys() {
    let p = Project::example("kill");
    let up = p.up();
    let at = up.wait_for("running, healthy", 0, LONG);
    let id = p.container().expect("a running container");
    docker(&["kill", &id]);
    let at = up.wait_for("exited with code 137", at, LONG);
    p.edit("site/index.html", "Hello from stilt", "Back again");
    up.wait_for("running, healthy", at, LONG);
    assert!(
        poll(LONG, || p
            .cat("/www/index.html")
            .is_some_and(|s| s.contains("Back again"))),
        "the redeployed container has the new file"
    );
    up.stop();
}

#[test]
fn a_failing_run_step_marks_the_resource_in_error_without_a_rebuild() {
    let p = Project::example("runfail");
    p.edit("Tiltfile", "date -u > /www/updated.txt", "exit 3");
    let up = p.up();
    let at = up.wait_for("running, healthy", 0, LONG);
    let before = p.container().expect("a running container");
    p.edit("site/index.html", "Hello from stilt", "Broken run");
    up.wait_for("failed", at, LONG);
    assert_eq!(
        p.container().as_deref(),
        Some(before.as_str()),
        "no redeploy"
    );
    let out = up.stop();
    assert!(
        out.contains("exit 3"),
        "the failing command is named:\n{out}"
    );
}

#[test]
fn a_failing_build_step_fails_ci_with_the_step_and_its_output() {
    let p = Project::example("buildfail");
    p.edit(
        "Dockerfile",
        "COPY site /www",
        "RUN [\"sh\", \"-c\", \"echo no-such-thing >&2; exit 4\"]\nCOPY site /www",
    );
    let (code, out) = p.run(&["ci"], LONG);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("no-such-thing"),
        "the step's output is shown:\n{out}"
    );
    assert!(out.contains("web failed"), "{out}");
}
