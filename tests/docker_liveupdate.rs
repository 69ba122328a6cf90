//! `DockerUpdater` and `apply` against the real Engine, on containers of the busybox
//! image, which deliberately has no `tar`: files must go in through the archive API.
//! Each test owns its container (labelled `stilt.test=1`), removed on drop even when
//! an assertion fails.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use stilt::liveupdate::{
    ApplyError, Change, ContainerUpdater, CopyFile, DockerUpdater, Plan, UpdateError, UpdateTarget,
    apply, plan,
};
use stilt::model::{Cmd, LiveUpdateSpec, RunStep, SyncStep};
use stilt::process::{LineSink, Stream};

use crate::docker_support::{busybox_image, docker};

/// A running busybox container (`sleep 3600`), removed when dropped.
struct Container {
    id: String,
}

impl Container {
    fn start() -> Self {
        let out = docker(&[
            "run",
            "-d",
            "--label",
            "stilt.test=1",
            busybox_image(),
            "sleep",
            "3600",
        ]);
        Container {
            id: out.trim().to_owned(),
        }
    }

    /// `docker exec` of `argv`; its stdout, or None when it fails.
    fn try_exec(&self, argv: &[&str]) -> Option<String> {
        let out = Command::new("docker")
            .args(["exec", &self.id])
            .args(argv)
            .output()
            .expect("run docker exec");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn cat(&self, path: &str) -> String {
        self.try_exec(&["cat", path])
            .unwrap_or_else(|| panic!("{path} is missing in the container"))
    }

    fn exists(&self, path: &str) -> bool {
        self.try_exec(&["test", "-e", path]).is_some()
    }

    fn started_at(&self) -> String {
        docker(&["inspect", "-f", "{{.State.StartedAt}}", &self.id])
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-fv", &self.id])
            .output();
    }
}

fn target(id: &str) -> UpdateTarget {
    UpdateTarget::container(id)
}

async fn updater() -> DockerUpdater {
    DockerUpdater::new(stilt::docker::connect().expect("the Docker Engine answers"))
}

type Lines = Arc<Mutex<Vec<(Stream, String)>>>;

fn sink() -> (LineSink, Lines) {
    let lines: Lines = Arc::default();
    let keep = lines.clone();
    let sink: LineSink = Arc::new(move |s, l| keep.lock().unwrap().push((s, l)));
    (sink, lines)
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn shell(s: &str) -> Cmd {
    Cmd::Shell(s.to_owned())
}

#[tokio::test]
async fn the_test_image_has_no_tar_and_a_missing_program_is_named() {
    let c = Container::start();
    let (log, _) = sink();
    let argv = Cmd::Argv(vec!["tar".into(), "--help".into()]);
    let err = updater()
        .await
        .exec(&target(&c.id), &argv, log)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, UpdateError::MissingTool { tool, .. } if tool == "tar"),
        "{err:?}"
    );
    assert!(err.to_string().contains("has no `tar`"), "{err}");
}

#[tokio::test]
async fn copy_writes_files_and_new_nested_directories_without_tar_in_the_image() {
    let c = Container::start();
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("src/a.txt"), "alpha\n");
    write(&dir.path().join("src/deep/er/b.txt"), "beta");
    write(&dir.path().join("one.txt"), "one");
    let files = [
        CopyFile {
            local: dir.path().join("src"),
            remote: "/app".into(),
        },
        CopyFile {
            local: dir.path().join("one.txt"),
            remote: "/new/nested/dir/one.txt".into(),
        },
    ];
    updater().await.copy(&target(&c.id), &files).await.unwrap();
    assert_eq!(c.cat("/app/a.txt"), "alpha\n");
    assert_eq!(c.cat("/app/deep/er/b.txt"), "beta");
    assert_eq!(c.cat("/new/nested/dir/one.txt"), "one");
}

#[tokio::test]
async fn copy_keeps_file_modes_and_leaves_existing_parent_directories_alone() {
    use std::os::unix::fs::PermissionsExt;
    let c = Container::start();
    c.try_exec(&["sh", "-c", "mkdir /shared && chmod 1777 /shared"])
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("run.sh");
    write(&script, "#!/bin/sh\necho hi\n");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o750)).unwrap();
    let files = [CopyFile {
        local: script,
        remote: "/shared/run.sh".into(),
    }];
    updater().await.copy(&target(&c.id), &files).await.unwrap();
    let modes = c.try_exec(&["stat", "-c", "%a", "/shared", "/shared/run.sh"]);
    assert_eq!(modes.unwrap(), "1777\n750\n");
}

#[tokio::test]
async fn a_local_file_that_vanished_is_skipped() {
    let c = Container::start();
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("here.txt"), "here");
    let files = [
        CopyFile {
            local: dir.path().join("gone.txt"),
            remote: "/app/gone.txt".into(),
        },
        CopyFile {
            local: dir.path().join("here.txt"),
            remote: "/app/here.txt".into(),
        },
    ];
    updater().await.copy(&target(&c.id), &files).await.unwrap();
    assert_eq!(c.cat("/app/here.txt"), "here");
    assert!(!c.exists("/app/gone.txt"));
}

#[tokio::test]
async fn delete_removes_files_and_directories() {
    let c = Container::start();
    c.try_exec(&[
        "sh",
        "-c",
        "mkdir -p /app/d/e && echo x > /app/f && echo y > /app/keep",
    ])
    .unwrap();
    let paths = ["/app/d".to_owned(), "/app/f".into(), "/app/never".into()];
    updater()
        .await
        .delete(&target(&c.id), &paths)
        .await
        .unwrap();
    assert!(!c.exists("/app/d"));
    assert!(!c.exists("/app/f"));
    assert_eq!(c.cat("/app/keep"), "y\n");
}

#[tokio::test]
async fn delete_without_rm_in_the_image_says_rm_is_needed() {
    let c = Container::start();
    c.try_exec(&["/bin/busybox", "rm", "/bin/rm"]).unwrap();
    let err = updater()
        .await
        .delete(&target(&c.id), &["/app/x".to_owned()])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, UpdateError::MissingTool { tool, .. } if tool == "rm"),
        "{err:?}"
    );
    assert!(err.to_string().contains("needs `rm` in the image"), "{err}");
}

#[tokio::test]
async fn exec_streams_lines_from_slash_and_returns_the_exit_code() {
    let c = Container::start();
    let (log, lines) = sink();
    let cmd = shell("pwd; echo two >&2; printf 'par'; sleep 0.2; printf 'tial'; exit 3");
    let code = updater()
        .await
        .exec(&target(&c.id), &cmd, log)
        .await
        .unwrap();
    assert_eq!(code, 3);
    let mut got = lines.lock().unwrap().clone();
    got.sort_by_key(|(s, _)| *s as u8);
    assert_eq!(
        got,
        vec![
            (Stream::Stdout, "/".to_owned()),
            (Stream::Stdout, "partial".to_owned()),
            (Stream::Stderr, "two".to_owned()),
        ]
    );
}

#[tokio::test]
async fn restart_restarts_the_container() {
    let c = Container::start();
    let before = c.started_at();
    updater().await.restart(&target(&c.id)).await.unwrap();
    assert_ne!(c.started_at(), before);
    assert!(c.exists("/bin/sh"), "running again after the restart");
}

#[tokio::test]
async fn a_stopped_container_is_a_clear_error_for_every_step() {
    let c = Container::start();
    docker(&["stop", "-t", "0", &c.id]);
    let up = updater().await;
    let (log, _) = sink();
    let dir = tempfile::tempdir().unwrap();
    let files = [CopyFile {
        local: dir.path().to_path_buf(),
        remote: "/app".into(),
    }];
    let errors = [
        up.copy(&target(&c.id), &files).await.unwrap_err(),
        up.delete(&target(&c.id), &["/x".to_owned()])
            .await
            .unwrap_err(),
        up.exec(&target(&c.id), &shell("true"), log)
            .await
            .map(|_| ())
            .unwrap_err(),
        up.restart(&target(&c.id)).await.unwrap_err(),
    ];
    for err in errors {
        assert!(matches!(err, UpdateError::NotRunning { .. }), "{err:?}");
        assert!(err.to_string().contains("is not running"), "{err}");
    }
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Running}}", &c.id]).trim(),
        "false",
        "restart must not start a stopped container"
    );
}

#[tokio::test]
async fn a_missing_container_is_a_clear_error() {
    let err = updater()
        .await
        .restart(&target("stilt-test-no-such-container"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, UpdateError::NoSuchContainer { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("no such container"), "{err}");
}

/// `sync('src', '/app')`, `run('cat /app/*.txt > /app/all', trigger='src/a.txt')`,
/// `run('test -e /app/ok')`.
fn e2e_spec(src: &Path) -> LiveUpdateSpec {
    LiveUpdateSpec {
        syncs: vec![SyncStep {
            local: src.to_path_buf(),
            remote: "/app".into(),
        }],
        runs: vec![
            RunStep {
                cmd: shell("cat /app/*.txt > /app/all; echo combined"),
                triggers: vec![src.join("a.txt")],
                echo_off: false,
            },
            RunStep {
                cmd: shell("test -e /app/ok"),
                triggers: vec![],
                echo_off: false,
            },
        ],
        ..Default::default()
    }
}

#[tokio::test]
async fn apply_of_a_plan_syncs_deletes_and_runs_and_a_failing_run_is_run_failed() {
    let c = Container::start();
    c.try_exec(&[
        "sh",
        "-c",
        "mkdir /app && echo old > /app/old.txt && touch /app/ok",
    ])
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    write(&src.join("a.txt"), "a\n");
    write(&src.join("b.txt"), "b\n");
    let spec = e2e_spec(&src);
    let changes = [
        Change::written(src.join("a.txt")),
        Change::written(src.join("b.txt")),
        Change::removed(src.join("old.txt")),
    ];
    let Plan::Update(update) = plan(&spec, &changes) else {
        panic!("every change is under the sync");
    };
    let up = updater().await;
    let (log, lines) = sink();
    let report = apply(&up, &target(&c.id), &update, log.clone())
        .await
        .unwrap();
    assert_eq!((report.copied, report.removed, report.runs), (2, 1, 2));
    assert_eq!(c.cat("/app/all"), "a\nb\n");
    assert!(!c.exists("/app/old.txt"));
    let text: Vec<String> = lines.lock().unwrap().iter().map(|l| l.1.clone()).collect();
    assert!(text.contains(&"combined".to_owned()), "{text:?}");
    let short = &c.id[..12];
    assert!(
        text.contains(&format!("synced 2 files, removed 1 in {short}")),
        "{text:?}"
    );

    c.try_exec(&["rm", "/app/ok"]).unwrap();
    let Plan::Update(update) = plan(&spec, &[Change::written(src.join("b.txt"))]) else {
        panic!("b.txt is under the sync");
    };
    let err = apply(&up, &target(&c.id), &update, log).await.unwrap_err();
    assert!(
        matches!(&err, ApplyError::RunFailed { cmd, code: 1 } if cmd == "test -e /app/ok"),
        "{err:?}"
    );
    assert!(!err.needs_rebuild());
}
