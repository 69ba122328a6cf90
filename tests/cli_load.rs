//! Tiltfile loads that hang, on the real binary (issue 8): `ci` ends at its timeout,
//! `up` and `down` stop on a signal during a load or a reload, a long load is
//! reported with the line it is stuck on, and no `local()` command outlives stilt.
//!
//! Each command carries a marker (an odd sleep length such as `31.301`) so that
//! `pgrep -f` finds exactly this test's processes. Bounds on exit times are loose
//! (a hang is minutes, the bounds are seconds); nothing asserts on speed.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::cli::{Fixture, read_pids, stop_up, wait_for, wait_output};

/// A stilt that honours its timeout or a signal ends well within this.
const PROMPT: Duration = Duration::from_secs(15);

/// A `local()` command that starts a background child, records both pids in `pids`
/// and waits: the load hangs until the command is killed.
fn hanging_local(marker: &str) -> String {
    format!("local('sleep {marker} & echo $! >> pids; echo $$ >> pids; wait')\n")
}

/// Starlark that never ends (a `while` loop is not Starlark): line 5 is the loop body.
const ENDLESS: &str = "def spin():\n    n = 0\n    for i in range(2000000000):\n        for j in range(2000000000):\n            n += 1\n    return n\n\nspin()\n";

/// Command lines of running processes that contain `marker`.
fn running(marker: &str) -> Vec<String> {
    let out = Command::new("pgrep")
        .args(["-af", marker])
        .output()
        .expect("run pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn assert_none_left(marker: &str) {
    assert!(
        wait_for(Duration::from_secs(10), || running(marker).is_empty()),
        "left behind: {:?}",
        running(marker)
    );
}

/// Waits until the hanging command has written both pids.
fn wait_started(f: &Fixture) {
    assert!(
        wait_for(Duration::from_secs(20), || read_pids(&f.path("pids")).len()
            == 2),
        "the local() command never started"
    );
}

#[test]
fn ci_timeout_ends_a_hanging_local_and_leaves_no_process() {
    let f = Fixture::new(&format!(
        "{}local_resource('never', 'true')\n",
        hanging_local("31.301")
    ));
    let started = Instant::now();
    let (code, out) = f.run(&["ci", "--timeout", "3s"]);
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("ERROR: timed out after 3s\n  (Tiltfile)               still loading"),
        "{out}"
    );
    assert_eq!(read_pids(&f.path("pids")).len(), 2, "never started: {out}");
    assert_none_left("31.301");
}

#[test]
fn ci_timeout_kills_a_local_that_ignores_term() {
    let f = Fixture::new(
        "local(\"trap '' TERM; sleep 31.302 & echo $! >> pids; echo $$ >> pids; wait\")\n",
    );
    let started = Instant::now();
    let (code, out) = f.run(&["ci", "--timeout", "3s"]);
    // TERM is ignored: KILL comes after the 5 s grace period.
    assert!(
        started.elapsed() < PROMPT + Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(read_pids(&f.path("pids")).len(), 2, "never started: {out}");
    assert_none_left("31.302");
}

#[test]
fn ci_timeout_ends_an_endless_starlark_loop_and_names_its_line() {
    let f = Fixture::new(ENDLESS);
    let started = Instant::now();
    let (code, out) = f.run(&["ci", "--timeout", "3s", "--load-warn-after", "1s"]);
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ERROR: timed out after 3s"), "{out}");
    assert!(
        out.contains("Tiltfile load has been running for 1s; stuck at Tiltfile:5: n += 1"),
        "{out}"
    );
}

#[test]
fn a_long_load_is_reported_with_the_line_and_the_command_it_waits_for() {
    let f = Fixture::new(
        "print('loading')\ndef slow():\n    return local('sleep 31.331')\n\nx = slow()\n",
    );
    let (code, out) = f.run(&["ci", "--timeout", "3s", "--load-warn-after", "1s"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "(Tiltfile) │ Tiltfile load has been running for 1s; \
             stuck at Tiltfile:3: return local('sleep 31.331')"
        ),
        "{out}"
    );
    assert!(
        out.contains("(Tiltfile) │   waiting for local() command: sleep 31.331"),
        "{out}"
    );
    assert_none_left("31.331");
}

#[test]
fn up_stops_on_term_int_or_hup_during_a_hanging_load() {
    for (sig, marker) in [
        (Signal::SIGTERM, "31.311"),
        (Signal::SIGINT, "31.312"),
        (Signal::SIGHUP, "31.313"),
    ] {
        let f = Fixture::new(&hanging_local(marker));
        let child = f.up();
        wait_started(&f);
        let started = Instant::now();
        let (code, out) = stop_up(child, sig);
        assert!(
            started.elapsed() < PROMPT,
            "{sig}: took {:?}",
            started.elapsed()
        );
        assert_eq!(code, Some(0), "{sig}: {out}");
        assert_none_left(marker);
    }
}

#[test]
fn up_stops_on_term_during_a_hanging_reload() {
    let server = "local_resource('srv', serve_cmd='echo $$ > srv.pid; exec sleep 31.321')\n";
    let f = Fixture::new(server);
    let child = f.up();
    assert!(
        wait_for(Duration::from_secs(20), || !read_pids(&f.path("srv.pid"))
            .is_empty()),
        "server never started"
    );
    std::thread::sleep(Duration::from_millis(300));
    f.write("Tiltfile", &format!("{}{server}", hanging_local("31.322")));
    wait_started(&f);
    let started = Instant::now();
    let (code, out) = stop_up(child, Signal::SIGTERM);
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(code, Some(0), "{out}");
    assert_none_left("31.321");
    assert_none_left("31.322");
}

#[test]
fn down_stops_on_interrupt_during_a_hanging_load() {
    let f = Fixture::new(&hanging_local("31.341"));
    let child = f
        .stilt(&["down"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stilt down");
    wait_started(&f);
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, Signal::SIGINT).expect("signal");
    let out = wait_output(child, PROMPT);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        err.contains("Interrupted while loading the Tiltfile; nothing was removed"),
        "{err}"
    );
    assert_none_left("31.341");
}

#[test]
fn ci_timeout_ends_even_a_load_blocked_where_it_cannot_be_cancelled() {
    // Opening a FIFO that nobody writes blocks inside the builtin, where neither the
    // cancel check nor a process group can reach: stilt must exit without the thread.
    let f = Fixture::new("read_file('fifo')\n");
    let made = Command::new("mkfifo")
        .arg(f.path("fifo"))
        .status()
        .expect("run mkfifo");
    assert!(made.success());
    let started = Instant::now();
    let (code, out) = f.run(&["ci", "--timeout", "2s"]);
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ERROR: timed out after 2s"), "{out}");
}

/// `kill -9` of stilt during a load: the `local()` command it waits for dies with it
/// (its background child is in the same process group, recorded for the next start).
#[test]
fn a_local_command_dies_with_a_killed_stilt() {
    let marker = "31.321";
    let f = Fixture::new(&format!("local('exec sleep {marker}')\n"));
    let mut child = f.up();
    assert!(
        wait_for(Duration::from_secs(20), || !running(marker).is_empty()),
        "the local() command never started"
    );
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, Signal::SIGKILL).expect("kill -9 stilt");
    let _ = child.wait();
    assert_none_left(marker);
}
