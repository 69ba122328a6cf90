//! The real `stilt` binary on real Tiltfiles: exit codes, messages, and that no
//! process outlives it. Waits are bounded; nothing asserts on speed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Owns a temp project dir with a Tiltfile, and a separate stilt state home (its
/// `XDG_STATE_HOME`), so tests neither touch the user's state nor each other's.
pub(crate) struct Fixture {
    dir: tempfile::TempDir,
    state: tempfile::TempDir,
}

impl Fixture {
    pub(crate) fn new(tiltfile: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Tiltfile"), tiltfile).expect("write Tiltfile");
        let state = tempfile::tempdir().expect("state tempdir");
        Self { dir, state }
    }

    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub(crate) fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).expect("write");
    }

    pub(crate) fn stilt(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_stilt"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("XDG_STATE_HOME", self.state.path())
            .stdin(Stdio::null());
        c
    }

    /// Starts `stilt up --stream` in the background.
    pub(crate) fn up(&self) -> std::process::Child {
        self.stilt(&["up", "--stream"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn stilt up")
    }

    /// Runs `stilt ARGS` to completion (killed after 60 s so a hang fails the test).
    pub(crate) fn run(&self, args: &[&str]) -> (i32, String) {
        let child = self
            .stilt(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn stilt");
        let out = wait_output(child, Duration::from_secs(60));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }
}

pub(crate) fn wait_output(mut child: std::process::Child, limit: Duration) -> Output {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!(
        "stilt did not exit within {limit:?}: {:?}",
        child
            .wait_with_output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    );
}

/// Sends `sig` to a running `stilt up` and returns its exit code and stdout.
pub(crate) fn stop_up(
    child: std::process::Child,
    sig: nix::sys::signal::Signal,
) -> (Option<i32>, String) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).expect("signal");
    let out = wait_output(child, Duration::from_secs(30));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

pub(crate) fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

pub(crate) fn alive(pid: i32) -> bool {
    // A zombie is dead for our purpose: check its state, not only that /proc has it.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2).is_none_or(|st| st != "Z"))
        .unwrap_or(false)
}

pub(crate) fn read_pids(p: &Path) -> Vec<i32> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[test]
fn ci_exits_zero_when_every_resource_is_ready() {
    let f = Fixture::new(
        r#"
local_resource("db", serve_cmd="while true; do sleep 1; done", readiness_probe=probe(period_secs=0.1, exec=exec_action(["true"])))
local_resource("build", cmd="echo building", resource_deps=["db"])
local_resource("later", cmd="echo never", auto_init=False)
"#,
    );
    let (code, out) = f.run(&["ci"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("build │ building"), "{out}");
    assert!(out.contains("SUCCESS: all resources are ready"), "{out}");
    assert!(
        out.contains("later") && out.contains("skipped (auto_init=False"),
        "{out}"
    );
}

#[test]
fn ci_exits_one_at_the_first_failure_and_names_it() {
    let f = Fixture::new(
        "local_resource('ok', 'true')\nlocal_resource('broken', 'echo boom >&2; exit 3')\n",
    );
    let (code, out) = f.run(&["ci"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("broken │ boom"), "{out}");
    assert!(
        out.contains("ERROR: broken failed: cmd exit code 3"),
        "{out}"
    );
}

#[test]
fn ci_timeout_lists_what_each_resource_waits_on() {
    let f = Fixture::new(
        r#"
local_resource("db", serve_cmd="sleep 30", readiness_probe=probe(period_secs=0.1, exec=exec_action(["false"])))
local_resource("web", cmd="true", resource_deps=["db"])
"#,
    );
    let (code, out) = f.run(&["ci", "--timeout", "1s"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ERROR: timed out after 1s"), "{out}");
    assert!(
        out.contains("db") && out.contains("not ready: readiness probe has not passed"),
        "{out}"
    );
    assert!(
        out.contains("web") && out.contains("waiting on db"),
        "{out}"
    );
}

#[test]
fn ci_fails_when_a_serve_cmd_exits() {
    let f = Fixture::new("local_resource('srv', serve_cmd='echo starting; exit 4')\n");
    let (code, out) = f.run(&["ci", "--timeout", "20s"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("srv failed: serve_cmd exited unexpectedly (exit code 4)"),
        "{out}"
    );
}

#[test]
fn ci_reports_a_command_that_is_not_found() {
    let f = Fixture::new("local_resource('x', cmd=['definitely-not-a-program-xyz'])\n");
    let (code, out) = f.run(&["ci"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("command not found: \"definitely-not-a-program-xyz\""),
        "{out}"
    );
}

#[test]
fn a_broken_tiltfile_fails_with_file_line_and_column() {
    let f = Fixture::new(
        "local_resource('a', 'true')\nlocal_resource('b', 'true', resource_deps=['a'],)\nlocal_resource('c' 'x')\n",
    );
    let (code, out) = f.run(&["ci"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Tiltfile:3:"), "{out}");
    assert!(out.contains("local_resource('c' 'x')"), "{out}");
}

#[test]
fn a_missing_tiltfile_is_named() {
    let f = Fixture::new("");
    let (code, out) = f.run(&["ci", "-f", "nope/Tiltfile"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("cannot read Tiltfile") && out.contains("nope/Tiltfile"),
        "{out}"
    );
}

#[test]
fn ci_leaves_no_process_behind() {
    // The server forks a grandchild; both must be gone when `ci` exits.
    let f = Fixture::new(
        r#"
local_resource("srv", serve_cmd="sleep 300 & echo $! >> pids; echo $$ >> pids; wait")
local_resource("after", cmd="sleep 0.3", resource_deps=["srv"])
"#,
    );
    let (code, out) = f.run(&["ci"]);
    assert_eq!(code, 0, "{out}");
    let pids = read_pids(&f.path("pids"));
    assert_eq!(pids.len(), 2, "{out}");
    assert!(
        wait_for(Duration::from_secs(10), || pids.iter().all(|p| !alive(*p))),
        "left behind: {pids:?}"
    );
}

#[test]
fn up_stops_every_process_on_interrupt() {
    let f = Fixture::new(
        r#"local_resource("srv", serve_cmd="trap '' TERM; sleep 300 & echo $! >> pids; echo $$ >> pids; wait")"#,
    );
    let child = f.up();
    let pids_file = f.path("pids");
    assert!(
        wait_for(Duration::from_secs(20), || read_pids(&pids_file).len() == 2),
        "server never started"
    );
    let (code, _) = stop_up(child, nix::sys::signal::Signal::SIGINT);
    assert_eq!(code, Some(0));
    let pids = read_pids(&pids_file);
    // The server ignores TERM: stilt must fall back to KILL after the grace period.
    assert!(
        wait_for(Duration::from_secs(10), || pids.iter().all(|p| !alive(*p))),
        "left behind: {pids:?}"
    );
}

#[test]
fn up_reruns_a_resource_when_its_deps_change_and_says_why() {
    let f =
        Fixture::new("local_resource('gen', cmd='cat src/input.txt >> out.txt', deps=['src'])\n");
    std::fs::create_dir(f.path("src")).expect("mkdir");
    f.write("src/input.txt", "one\n");
    let child = f.up();
    let out_file = f.path("out.txt");
    let lines = |p: &Path| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert!(
        wait_for(Duration::from_secs(20), || lines(&out_file) == 1),
        "initial run did not happen"
    );
    std::thread::sleep(Duration::from_millis(300));
    f.write("src/input.txt", "two\n");
    assert!(
        wait_for(Duration::from_secs(20), || lines(&out_file) == 2),
        "change did not re-run the resource"
    );
    let (_, text) = stop_up(child, nix::sys::signal::Signal::SIGTERM);
    assert!(text.contains("1 file changed: src/input.txt"), "{text}");
}

#[test]
fn up_keeps_the_last_good_config_when_a_reload_breaks() {
    let f = Fixture::new("local_resource('srv', serve_cmd='echo $$ > pid; exec sleep 300')\n");
    let child = f.up();
    assert!(
        wait_for(Duration::from_secs(20), || !read_pids(&f.path("pid"))
            .is_empty()),
        "server never started"
    );
    let first = read_pids(&f.path("pid"))[0];
    std::thread::sleep(Duration::from_millis(300));
    f.write(
        "Tiltfile",
        "local_resource('srv', serve_cmd='echo $$ > pid; exec sleep 300'\n",
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        alive(first),
        "the server of the last good config must keep running"
    );
    assert_eq!(
        read_pids(&f.path("pid")),
        vec![first],
        "a broken reload must not restart anything"
    );
    let (_, text) = stop_up(child, nix::sys::signal::Signal::SIGTERM);
    assert!(
        text.contains("Tiltfile error:") && text.contains("Tiltfile:1:"),
        "{text}"
    );
    assert!(
        wait_for(Duration::from_secs(10), || !alive(first)),
        "server left running after exit"
    );
}

#[test]
fn down_evaluates_the_tiltfile_as_down_and_exits_cleanly() {
    let f = Fixture::new("local_resource('a', 'true')\n");
    let (code, out) = f.run(&["down"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("their processes stop with `stilt up`"),
        "{out}"
    );
}

#[test]
fn version_prints_the_version() {
    let f = Fixture::new("");
    let (code, out) = f.run(&["version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("stilt "), "{out}");
}

#[test]
fn ci_with_a_bare_resource_name_runs_only_that_resource_and_its_deps() {
    let f = Fixture::new(
        "local_resource('dep', 'touch dep.ran')\n\
         local_resource('app', 'touch app.ran', resource_deps=['dep'])\n\
         local_resource('other', 'touch other.ran')\n",
    );
    let (code, out) = f.run(&["ci", "app"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        f.path("app.ran").exists() && f.path("dep.ran").exists(),
        "{out}"
    );
    assert!(!f.path("other.ran").exists(), "{out}");
}

/// `stilt alpha tiltfile-result`: what the Tiltfile declares, as JSON on stdout.
#[test]
fn tiltfile_result_prints_the_declared_resources_as_json() {
    let f = Fixture::new(concat!(
        "local_resource('gen', cmd='echo hi', deps=['src'], labels=['tools'])\n",
        "k8s_yaml(blob('''\n",
        "apiVersion: apps/v1\n",
        "kind: Deployment\n",
        "metadata: {name: web}\n",
        "spec:\n",
        "  selector: {matchLabels: {app: web}}\n",
        "  template:\n",
        "    metadata: {labels: {app: web}}\n",
        "    spec: {containers: [{name: web, image: web}]}\n",
        "'''))\n",
        "k8s_resource('web', port_forwards='8000:80', resource_deps=['gen'])\n",
    ));
    let child = f
        .stilt(&["alpha", "tiltfile-result", "--context", "stilt-test"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let out = wait_output(child, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let names: Vec<&str> = doc["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    // Tilt's order: Kubernetes resources before local ones.
    assert_eq!(names, ["web", "gen"]);
    let codegen = &doc["resources"][1];
    assert_eq!(codegen["local"]["cmd"], "echo hi");
    assert_eq!(codegen["labels"][0], "tools");
    let web = &doc["resources"][0];
    assert_eq!(web["kind"], "k8s");
    assert_eq!(web["resource_deps"][0], "gen");
    assert_eq!(web["k8s"]["workload"], "web:deployment");
    assert_eq!(web["k8s"]["port_forwards"][0]["container_port"], 80);
    assert_eq!(web["links"][0]["url"], "http://localhost:8000/");
}

#[test]
fn tiltfile_result_of_a_broken_tiltfile_is_the_error_and_exit_1() {
    let f = Fixture::new("local_resource('a', cmd='true')\nk8s_resource('nope')\n");
    let (code, out) = f.run(&["alpha", "tiltfile-result", "--context", "stilt-test"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Tiltfile:2:1"), "{out}");
    assert!(out.contains("\"nope\" not found"), "{out}");
}
