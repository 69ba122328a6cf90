//! The helper's `supervise` mode (the native `restart_process`), run on the host: the
//! embedded static helper is written to a temp file and started like the wrapped
//! image's entrypoint. Each test starts `sh -c` children that record their starts.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The embedded helper, written once per test run.
fn bin() -> &'static Path {
    static BIN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = BIN.get_or_init(|| {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("helper");
        std::fs::write(&path, stilt::liveupdate::channel::HELPER).expect("write helper");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        (dir, path)
    });
    path
}

fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}

fn term(child: &std::process::Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("kill");
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

fn starts(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .count()
}

fn write_restart(file: &Path) {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, format!("{:?}", Instant::now())).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

#[test]
fn supervise_restarts_the_process_when_the_restart_file_is_written() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("starts");
    let rf = d.path().join("sub/.restart");
    let script = format!("echo $$ >> {}; exec sleep 60", log.display());
    let mut sup = Command::new(bin())
        .args([
            "supervise",
            "--restart-file",
            rf.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            &script,
        ])
        .spawn()
        .unwrap();
    wait_for("first start", || starts(&log) == 1);
    write_restart(&rf);
    wait_for("second start", || starts(&log) == 2);
    std::fs::write(&rf, "x").unwrap();
    wait_for("third start", || starts(&log) == 3);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(starts(&log), 3, "one write is one restart");
    // The first processes are gone.
    let pids: Vec<i32> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    for p in &pids[..2] {
        wait_for("old process gone", || !alive(*p));
    }
    term(&sup);
    let st = sup.wait().unwrap();
    assert_eq!(st.code(), Some(128 + 15), "exits with the child's status");
    assert!(!alive(pids[2]), "child stopped with the supervisor");
}

#[test]
fn supervise_exit_policy_restart_ends_with_the_process_code() {
    let d = tempfile::tempdir().unwrap();
    let rf = d.path().join(".restart");
    let st = Command::new(bin())
        .args([
            "supervise",
            "--restart-file",
            rf.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "exit 7",
        ])
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(7));
}

#[test]
fn supervise_exit_policy_continue_waits_for_the_next_update() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("starts");
    let rf = d.path().join(".restart");
    let script = format!("echo x >> {}; exit 3", log.display());
    let mut sup = Command::new(bin())
        .args([
            "supervise",
            "--restart-file",
            rf.to_str().unwrap(),
            "--exit-policy",
            "continue",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("first run", || starts(&log) == 1);
    std::thread::sleep(Duration::from_millis(200));
    assert!(sup.try_wait().unwrap().is_none(), "still running");
    write_restart(&rf);
    wait_for("second run", || starts(&log) == 2);
    term(&sup);
    let out = sup.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(128 + 15));
    assert!(String::from_utf8_lossy(&out.stderr).contains("exited with code 3"));
}

#[test]
fn supervise_reports_a_missing_command_and_waits() {
    let d = tempfile::tempdir().unwrap();
    let rf = d.path().join(".restart");
    let out = Command::new(bin())
        .args([
            "supervise",
            "--restart-file",
            rf.to_str().unwrap(),
            "--",
            "/nonexistent/cmd",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    term(&out);
    let o = out.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cannot start \"/nonexistent/cmd\""), "{err}");
}

#[test]
fn supervise_rejects_bad_arguments_with_its_usage() {
    for bad in [
        &["--"][..],
        &["--exit-policy", "never", "--", "x"][..],
        &["x"][..],
    ] {
        let out = Command::new(bin())
            .arg("supervise")
            .args(bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage: supervise"),
            "{bad:?}"
        );
    }
}
