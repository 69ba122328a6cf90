//! The client verbs end to end: a real `stilt up` (or `ci`) serving its API, and the
//! real binary's `get`, `describe`, `logs`, `trigger`, `disable`, `wait` and `args`
//! run in the project's directory, finding the instance from its record. Also two
//! projects side by side, a chosen port that is taken, and ci's reports.

use std::process::{Child, Stdio};
use std::time::Duration;

use crate::cli::{Fixture, wait_for, wait_output};

const TILTFILE: &str = r#"
config.define_string("name")
cfg = config.parse()
local_resource(cfg.get("name", "hello"), cmd="echo built-it", serve_cmd="while true; do echo serving; sleep 1; done", labels=["grp"])
local_resource("later", cmd="echo later-ran", auto_init=False)
"#;

/// A running `stilt up --stream`; a failing test still stops it (on drop).
struct Running(Option<Child>);

/// `stilt up --stream` in the fixture.
fn up(f: &Fixture) -> Running {
    let child = f
        .stilt(&["up", "--stream"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stilt up");
    Running(Some(child))
}

impl Running {
    /// Interrupts it; returns its exit code and its stdout and stderr.
    fn stop(mut self) -> (Option<i32>, String) {
        let Some(child) = self.0.take() else {
            return (None, String::new());
        };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let out = wait_output(child, Duration::from_secs(30));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let pid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
            if !wait_for(Duration::from_secs(15), || {
                matches!(child.try_wait(), Ok(Some(_)))
            }) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn ready(f: &Fixture, name: &str) {
    let obj = format!("uiresource/{name}");
    let (code, out) = f.run(&["wait", "--for=condition=Ready", &obj, "--timeout", "60s"]);
    assert_eq!(code, 0, "wait: {out}");
    assert!(out.contains(&format!("{obj} condition met")), "{out}");
}

fn names(f: &Fixture) -> String {
    f.run(&["get", "uiresources", "-o", "name"]).1
}

#[test]
fn client_verbs_talk_to_the_up_of_their_project() {
    let f = Fixture::new(TILTFILE);
    let child = up(&f);
    ready(&f, "hello");

    let (code, out) = f.run(&["get", "uiresources", "-o", "json"]);
    assert_eq!(code, 0, "{out}");
    let list: serde_json::Value = serde_json::from_str(&out).expect("get -o json is JSON");
    assert_eq!(list["kind"], "List");
    assert_eq!(list["items"][0]["metadata"]["name"], "hello");
    assert_eq!(list["items"][0]["status"]["updateStatus"], "ok");
    assert_eq!(list["items"][0]["status"]["runtimeStatus"], "ok");
    assert_eq!(list["items"][1]["status"]["updateStatus"], "none");

    let (_, table) = f.run(&["get"]);
    assert!(table.starts_with("NAME"), "{table}");
    let (_, described) = f.run(&["describe", "uiresource", "hello"]);
    assert!(described.contains("Labels:         grp"), "{described}");
    assert!(
        described.contains("Reason:       initial run"),
        "{described}"
    );

    let (code, out) = f.run(&["trigger", "later"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        wait_for(Duration::from_secs(30), || f
            .run(&["logs", "later"])
            .1
            .contains("later-ran")),
        "trigger did not run `later`: {}",
        f.run(&["logs"]).1
    );
    let (_, logs) = f.run(&["logs", "hello", "--source", "build", "--json"]);
    let first: serde_json::Value =
        serde_json::from_str(logs.lines().next().unwrap_or_default()).expect("--json lines");
    assert_eq!(first["resource"], "hello");
    assert_eq!(first["source"], "build");

    let (code, out) = f.run(&["disable", "-l", "grp"]);
    assert_eq!((code, out.trim()), (0, "disabled hello"));
    assert!(wait_for(Duration::from_secs(20), || {
        f.run(&["get", "uiresource", "hello", "-o", "json"])
            .1
            .contains("\"Disabled\"")
    }));

    let (code, out) = f.run(&["trigger", "nope"]);
    assert_eq!(code, 1);
    assert!(out.contains("no resource named \"nope\""), "{out}");

    let (code, text) = child.stop();
    assert_eq!(code, Some(0), "{text}");
    let (code, out) = f.run(&["get"]);
    assert_eq!(code, 1);
    assert!(out.contains("no stilt is running for"), "{out}");
}

#[test]
fn args_evaluates_the_tiltfile_again_with_the_new_arguments() {
    let f = Fixture::new(TILTFILE);
    let child = up(&f);
    ready(&f, "hello");
    let (code, out) = f.run(&["args", "--", "--name", "renamed"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        wait_for(Duration::from_secs(30), || names(&f)
            .contains("uiresource.tilt.dev/renamed")),
        "{}",
        names(&f)
    );
    assert!(!names(&f).contains("/hello"));
    let _ = child.stop();
}

#[test]
fn two_projects_side_by_side_each_answer_for_their_own() {
    let a = Fixture::new("local_resource('alpha', serve_cmd='sleep 300')\n");
    let b = Fixture::new("local_resource('beta', serve_cmd='sleep 300')\n");
    let ua = up(&a);
    let ub = up(&b);
    ready(&a, "alpha");
    ready(&b, "beta");
    assert_eq!(names(&a).trim(), "uiresource.tilt.dev/alpha");
    assert_eq!(names(&b).trim(), "uiresource.tilt.dev/beta");
    let (_, text_a) = ua.stop();
    let (_, text_b) = ub.stop();
    let moved = [&text_a, &text_b]
        .iter()
        .filter(|t| t.contains("is taken"))
        .count();
    // Both wanted 10350: at least one of them said it moved (both, if something else holds it).
    assert!(
        moved >= 1,
        "neither said the default port was taken:\n{text_a}\n---\n{text_b}"
    );
}

#[test]
fn a_chosen_port_that_is_taken_is_an_error() {
    let f = Fixture::new("local_resource('x', 'true')\n");
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = held.local_addr().expect("addr").port().to_string();
    let (code, out) = f.run(&["ci", "--port", &port]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cannot serve the API on 127.0.0.1:"), "{out}");
}

#[test]
fn ci_writes_a_junit_report_and_the_final_state() {
    let f = Fixture::new(
        "local_resource('fine', 'echo all good')\nlocal_resource('broken', 'echo boom-output; exit 3')\n",
    );
    let junit = f.path("report.xml");
    let snap = f.path("final.json");
    let (code, out) = f.run(&[
        "ci",
        "--port",
        "0",
        "--output-junit",
        junit.to_str().expect("utf-8"),
        "--output-snapshot-on-exit",
        snap.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 1, "{out}");
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
    let broken = xml
        .split("<testcase name=\"broken\"")
        .nth(1)
        .expect("broken case");
    assert!(broken.contains("<failure message="), "{xml}");
    assert!(broken.contains("boom-output"), "log tail missing: {xml}");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&snap).expect("snapshot written"))
            .expect("json");
    assert_eq!(state["uiResources"][1]["metadata"]["name"], "broken");
    assert_eq!(state["uiResources"][1]["status"]["updateStatus"], "error");
}

#[test]
fn completion_prints_a_script_for_each_shell() {
    let f = Fixture::new("");
    for shell in ["bash", "zsh", "fish"] {
        let (code, out) = f.run(&["completion", shell]);
        assert_eq!(code, 0, "{shell}: {out}");
        assert!(
            out.contains("trigger") && out.contains("stilt"),
            "{shell}: {out}"
        );
    }
}
