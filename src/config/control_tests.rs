//! Tests for `LoadControl`: a load on another thread can be stopped and located.

use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::LoadControl;
use crate::config::builtins::test_util::Project;
use crate::config::{ConfigError, LoadFailure, LoadOptions, Loaded, load};

/// Long enough for any machine, short enough that a hang fails the test.
const BOUND: Duration = Duration::from_secs(20);

/// Starts loading `p` on a thread; the receiver gets the result.
fn start(p: &Project, control: &LoadControl) -> mpsc::Receiver<Result<Loaded, LoadFailure>> {
    let opts = LoadOptions {
        tiltfile: p.path().join("Tiltfile"),
        subcommand: "ci".into(),
        k8s: Default::default(),
        control: control.clone(),
        ..Default::default()
    };
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(load(&opts));
    });
    rx
}

/// Waits until `cond` holds (bounded).
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < BOUND {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    false
}

fn pids(file: &Path) -> Vec<i32> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect()
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2).is_none_or(|st| st != "Z"))
        .unwrap_or(false)
}

fn cancelled(rx: &mpsc::Receiver<Result<Loaded, LoadFailure>>) -> ConfigError {
    match rx.recv_timeout(BOUND) {
        Ok(Err(f)) => f.error,
        Ok(Ok(l)) => panic!("load succeeded: {:?}", l.output),
        Err(e) => panic!("load did not stop after cancel: {e}"),
    }
}

const SPIN: &str = "def spin():\n    n = 0\n    for i in range(2000000000):\n        for j in range(2000000000):\n            n += 1\n    return n\n\nspin()\n";

#[test]
fn cancel_stops_an_endless_starlark_loop_and_position_names_its_line() {
    let p = Project::new(SPIN);
    let control = LoadControl::default();
    let rx = start(&p, &control);
    assert!(
        eventually(|| control.position().is_some_and(|at| at.line == 5)),
        "position never reached the loop body: {:?}",
        control.position()
    );
    let report = control.stuck_report(Duration::from_secs(61), &p.path());
    assert_eq!(
        report,
        vec!["Tiltfile load has been running for 61s; stuck at Tiltfile:5: n += 1"]
    );
    control.cancel();
    assert!(matches!(cancelled(&rx), ConfigError::Cancelled));
}

#[test]
fn cancel_terms_a_local_command_and_everything_it_started() {
    let p = Project::new(
        "local('sleep 31.201 & echo $! >> pids; echo $$ >> pids; wait')\nlocal_resource('never', 'true')\n",
    );
    let control = LoadControl::default();
    let rx = start(&p, &control);
    let file = p.path().join("pids");
    assert!(
        eventually(|| pids(&file).len() == 2),
        "command never started"
    );
    let report = control.stuck_report(Duration::from_secs(60), &p.path());
    assert_eq!(report.len(), 2, "{report:?}");
    assert!(
        report[0].ends_with(
            "stuck at Tiltfile:1: local('sleep 31.201 & echo $! >> pids; echo $$ >> pids; wait')"
        ),
        "{report:?}"
    );
    assert_eq!(
        report[1],
        "  waiting for local() command: sleep 31.201 & echo $! >> pids; echo $$ >> pids; wait"
    );
    control.cancel();
    assert!(matches!(cancelled(&rx), ConfigError::Cancelled));
    let started = pids(&file);
    assert!(
        eventually(|| started.iter().all(|p| !alive(*p))),
        "left behind: {started:?}"
    );
}

#[test]
fn kill_stops_a_local_command_that_ignores_term() {
    let p = Project::new(
        "local(\"trap '' TERM; sleep 31.202 & echo $! >> pids; echo $$ >> pids; wait\")\n",
    );
    let control = LoadControl::default();
    let rx = start(&p, &control);
    let file = p.path().join("pids");
    assert!(
        eventually(|| pids(&file).len() == 2),
        "command never started"
    );
    control.cancel();
    thread::sleep(Duration::from_millis(200));
    let started = pids(&file);
    assert!(started.iter().all(|p| alive(*p)), "TERM was not ignored");
    control.kill();
    assert!(matches!(cancelled(&rx), ConfigError::Cancelled));
    assert!(
        eventually(|| started.iter().all(|p| !alive(*p))),
        "left behind: {started:?}"
    );
}

#[test]
fn a_cancelled_load_starts_no_more_commands() {
    let p = Project::new("local('touch ran')\n");
    let control = LoadControl::default();
    control.cancel();
    let rx = start(&p, &control);
    assert!(matches!(cancelled(&rx), ConfigError::Cancelled));
    assert!(!p.path().join("ran").exists());
}

#[test]
fn a_finished_local_command_is_no_longer_reported() {
    let p = Project::new("local('true')\nlocal_resource('x', 'true')\n");
    let control = LoadControl::default();
    let rx = start(&p, &control);
    assert!(rx.recv_timeout(BOUND).expect("load ended").is_ok());
    let report = control.stuck_report(Duration::from_secs(1), &p.path());
    assert_eq!(report.len(), 1, "{report:?}");
}

#[test]
fn the_position_is_in_the_loaded_file_that_hangs() {
    let p = Project::new("load('lib/slow.star', 'slow')\nslow()\n");
    p.write(
        "lib/slow.star",
        "def slow():\n    local('sleep 31.203 & echo $! >> pids; echo $$ >> pids; wait')\n",
    );
    let control = LoadControl::default();
    let rx = start(&p, &control);
    // local() runs in the directory of the Tiltfile being executed (the main one), as in Tilt.
    let file = p.path().join("pids");
    assert!(
        eventually(|| pids(&file).len() == 2),
        "command never started"
    );
    let report = control.stuck_report(Duration::from_secs(90), &p.path());
    assert!(
        report[0].starts_with(
            "Tiltfile load has been running for 90s; stuck at lib/slow.star:2: local("
        ),
        "{report:?}"
    );
    control.cancel();
    assert!(matches!(cancelled(&rx), ConfigError::Cancelled));
    let started = pids(&file);
    assert!(
        eventually(|| started.iter().all(|p| !alive(*p))),
        "left behind: {started:?}"
    );
}
