//! One stilt per project, and nothing left behind when stilt itself is SIGKILLed.
//! Real binary, real processes; every wait is bounded and nothing asserts on speed.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cli::{Fixture, alive, read_pids, stop_up, wait_for, wait_output};

/// A server that records its own pid and a grandchild's pid (in its process group).
const FORKING_SERVER: &str =
    r#"local_resource("srv", serve_cmd="sleep 1000 & echo $! >> pids; echo $$ >> pids; wait")"#;

fn kill9_after_start(f: &Fixture) -> Vec<i32> {
    let child = f.up();
    let pids_file = f.path("pids");
    assert!(
        wait_for(Duration::from_secs(20), || read_pids(&pids_file).len() == 2),
        "server never started"
    );
    let (code, _) = stop_up(child, Signal::SIGKILL);
    assert_eq!(code, None, "stilt was killed by a signal");
    read_pids(&pids_file)
}

#[test]
fn a_server_dies_with_a_sigkilled_stilt() {
    let f = Fixture::new(FORKING_SERVER);
    let pids = kill9_after_start(&f);
    // The server (stilt's direct child) is the second pid written.
    let server = pids[1];
    assert!(
        wait_for(Duration::from_secs(10), || !alive(server)),
        "server {server} outlived stilt"
    );
    // The grandchild is ended by the next run (see below); don't leak it here.
    let _ = kill(Pid::from_raw(pids[0]), Signal::SIGKILL);
}

#[test]
fn the_next_up_ends_what_a_sigkilled_stilt_left() {
    let f = Fixture::new(FORKING_SERVER);
    let pids = kill9_after_start(&f);
    std::fs::remove_file(f.path("pids")).expect("clear pids");
    let second = f.up();
    let left = wait_for(Duration::from_secs(20), || !pids.iter().any(|p| alive(*p)));
    let (_, out) = stop_up(second, Signal::SIGINT);
    for p in &pids {
        let _ = kill(Pid::from_raw(*p), Signal::SIGKILL);
    }
    assert!(left, "left behind by the killed stilt: {pids:?}\n{out}");
}

/// `stilt up` with its forking server running (both processes wrote their pids).
fn up_serving(f: &Fixture) -> std::process::Child {
    let up = f.up();
    assert!(
        wait_for(Duration::from_secs(20), || read_pids(&f.path("pids")).len()
            == 2),
        "the first stilt never started its server"
    );
    up
}

#[test]
fn a_second_up_in_the_same_project_refuses_and_names_the_first() {
    let f = Fixture::new(FORKING_SERVER);
    let first = up_serving(&f);
    let (code, out) = f.run(&["up", "--stream"]);
    let (ci_code, ci_out) = f.run(&["ci"]);
    let first_pid = first.id();
    stop_up(first, Signal::SIGINT);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("already running"), "{out}");
    assert!(out.contains(&format!("pid {first_pid}")), "{out}");
    assert_eq!(ci_code, 1, "{ci_out}");
    assert!(ci_out.contains("already running"), "{ci_out}");
}

#[test]
fn allow_second_instance_lets_a_second_up_start() {
    let f = Fixture::new(FORKING_SERVER);
    let first = up_serving(&f);
    let second = f
        .stilt(&["up", "--stream", "--allow-second-instance"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn second stilt");
    let started = wait_for(Duration::from_secs(20), || {
        read_pids(&f.path("pids")).len() == 4
    });
    let (_, second_out) = stop_up(second, Signal::SIGINT);
    stop_up(first, Signal::SIGINT);
    assert!(
        started,
        "second stilt did not start its server\n{second_out}"
    );
}

#[test]
fn a_sigkilled_stilt_does_not_block_the_next_one() {
    let f = Fixture::new("local_resource('ok', cmd='true')\n");
    let child = f.up();
    std::thread::sleep(Duration::from_millis(300));
    stop_up(child, Signal::SIGKILL);
    let out = wait_output(
        f.stilt(&["ci"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ci"),
        Duration::from_secs(60),
    );
    let text = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
}
