//! `stilt up`'s terminal UI end to end: the real binary in a tmux pseudo-terminal,
//! driven with `send-keys` and read with `capture-pane`. Waits are bounded; nothing
//! asserts on speed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A private tmux server (its own socket) with one pane; killed on drop, also when
/// the test fails.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// `name` keeps parallel tests on separate servers.
    fn start(name: &str, dir: &Path, command: &str) -> Self {
        let socket = format!("stilt-test-{name}-{}", std::process::id());
        let t = Tmux { socket };
        let ok = t
            .cmd(&["new-session", "-d", "-s", "main", "-x", "100", "-y", "30"])
            .arg("-c")
            .arg(dir)
            .arg(command)
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .status()
            .expect("run tmux (installed by .ci/run)")
            .success();
        assert!(ok, "tmux new-session failed");
        t
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]).args(args);
        c
    }

    fn screen(&self) -> String {
        let out = self
            .cmd(&["capture-pane", "-p", "-t", "main"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        let ok = self
            .cmd(&["send-keys", "-t", "main", keys])
            .status()
            .expect("send-keys")
            .success();
        assert!(ok);
    }

    /// A pane format variable, e.g. `alternate_on` (1 while in full-screen mode).
    fn pane(&self, var: &str) -> String {
        let out = self
            .cmd(&[
                "display-message",
                "-p",
                "-t",
                "main",
                &format!("#{{{var}}}"),
            ])
            .output()
            .expect("display-message");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn wait_screen(&self, what: &str, cond: impl Fn(&str) -> bool) {
        let ok = wait_for(Duration::from_secs(60), || cond(&self.screen()));
        assert!(
            ok,
            "timed out waiting for {what}; screen:\n{}",
            self.screen()
        );
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
    }
}

fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2).is_none_or(|st| st != "Z"))
        .unwrap_or(false)
}

fn runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("runs.txt"))
        .unwrap_or_default()
        .lines()
        .count()
}

const TILTFILE: &str = r#"
local_resource("counter", "echo run >> runs.txt")
local_resource("server", serve_cmd="echo $$ > server.pid; exec sleep 1000")
"#;

#[test]
fn up_in_a_terminal_triggers_on_t_and_quits_on_q_leaving_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Tiltfile"), TILTFILE).unwrap();
    let stilt = env!("CARGO_BIN_EXE_stilt");
    // The pane outlives stilt, so the screen after exit can be read.
    let tmux = Tmux::start(
        "keys",
        dir.path(),
        &format!("{stilt} up; echo \"stilt exited $?\"; sleep 60"),
    );
    tmux.wait_screen("both resources ok", |s| {
        s.contains("✔ counter") && s.contains("✔ server")
    });
    assert_eq!(tmux.pane("alternate_on"), "1", "full-screen while running");
    assert_eq!(runs(dir.path()), 1);
    let pid_file = dir.path().join("server.pid");
    assert!(wait_for(Duration::from_secs(30), || pid_file.exists()));
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(alive(pid));

    // counter is the first row, selected at start.
    tmux.keys("t");
    assert!(
        wait_for(Duration::from_secs(60), || runs(dir.path()) == 2),
        "t did not run counter again; screen:\n{}",
        tmux.screen()
    );
    tmux.wait_screen("the triggered run on screen", |s| s.contains("triggered"));

    tmux.keys("q");
    tmux.wait_screen("stilt to exit", |s| s.contains("stilt exited 0"));
    assert_eq!(
        tmux.pane("alternate_on"),
        "0",
        "the terminal left full-screen"
    );
    assert_eq!(tmux.pane("cursor_flag"), "1", "the cursor is visible again");
    assert!(!alive(pid), "the serve_cmd process {pid} outlived stilt");
}

/// The pane's shell runs stilt as its child.
fn stilt_pid(tmux: &Tmux) -> i32 {
    let shell = tmux.pane("pane_pid");
    let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
        .expect("read the pane shell's children");
    children
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("stilt runs in the pane")
}

#[test]
fn sigterm_stops_everything_and_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Tiltfile"), TILTFILE).unwrap();
    let stilt = env!("CARGO_BIN_EXE_stilt");
    let tmux = Tmux::start(
        "term",
        dir.path(),
        &format!("{stilt} up; echo \"stilt exited $?\"; sleep 60"),
    );
    tmux.wait_screen("the server ok", |s| s.contains("✔ server"));
    let pid_file = dir.path().join("server.pid");
    assert!(wait_for(Duration::from_secs(30), || pid_file.exists()));
    let server: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(stilt_pid(&tmux));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    tmux.wait_screen("stilt to exit", |s| s.contains("stilt exited"));
    assert_eq!(
        tmux.pane("alternate_on"),
        "0",
        "the terminal left full-screen"
    );
    assert!(
        !alive(server),
        "the serve_cmd process {server} outlived stilt"
    );
}

#[test]
fn q_quits_during_a_hanging_load_leaving_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Tiltfile"),
        "local('sleep 31.351 & echo $! >> pids; echo $$ >> pids; wait')\n",
    )
    .unwrap();
    let stilt = env!("CARGO_BIN_EXE_stilt");
    let tmux = Tmux::start(
        "load",
        dir.path(),
        &format!("{stilt} up; echo \"stilt exited $?\"; sleep 60"),
    );
    let pids = || -> Vec<i32> {
        std::fs::read_to_string(dir.path().join("pids"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    assert!(
        wait_for(Duration::from_secs(30), || pids().len() == 2),
        "the local() command never started; screen:\n{}",
        tmux.screen()
    );
    tmux.keys("q");
    // Bounded well under the 31 s the command would take to end by itself.
    let exited = wait_for(Duration::from_secs(15), || {
        tmux.screen().contains("stilt exited 0")
    });
    assert!(exited, "q did not quit; screen:\n{}", tmux.screen());
    let started = pids();
    assert!(
        wait_for(Duration::from_secs(10), || started
            .iter()
            .all(|p| !alive(*p))),
        "left behind: {started:?}"
    );
}
