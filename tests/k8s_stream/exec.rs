//! `ExecUpdater`: copies (modes, nested directories), deletes, run steps with their
//! output and exit codes, and a missing `tar` named as such.

use std::os::unix::fs::PermissionsExt;

use kube::api::AttachParams;
use stilt::deploy::k8s::exec::ExecUpdater;
use stilt::liveupdate::{ContainerUpdater, CopyFile, UpdateError, UpdateTarget};
use stilt::model::Cmd;
use stilt::process::Stream;
use tokio::io::AsyncReadExt;

use super::*;

fn target(ns: &TestNs, pod: &str) -> UpdateTarget {
    UpdateTarget::Pod {
        namespace: ns.name.clone(),
        pod: pod.to_owned(),
        container: "app".to_owned(),
        docker_id: None,
    }
}

/// `sh -c script` in the pod's `app` container; its stdout (panics on failure).
async fn sh(ns: &TestNs, pod: &str, script: &str) -> String {
    let params = AttachParams::default().container("app").stderr(false);
    let mut process = ns
        .pods()
        .exec(pod, ["sh", "-c", script], &params)
        .await
        .expect("exec");
    let mut out = String::new();
    let mut stdout = process.stdout().expect("stdout");
    stdout.read_to_string(&mut out).await.expect("read stdout");
    out
}

#[tokio::test]
async fn copy_puts_files_with_their_modes_and_nested_dirs_into_the_pod() {
    let Some(client) = cluster().await else {
        return;
    };
    let ns = TestNs::create(&client, "exec-copy").await;
    let image = image(true);
    ns.pod("p", image, &[("app", "sleep 3600")]).await;
    let local = tempfile::tempdir().unwrap();
    let script = local.path().join("run.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let dir = local.path().join("src");
    std::fs::create_dir_all(dir.join("deep")).unwrap();
    std::fs::write(dir.join("deep/data.txt"), "nested\n").unwrap();
    std::fs::set_permissions(
        dir.join("deep/data.txt"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let files = [
        CopyFile {
            local: script,
            remote: "/app/run.sh".into(),
        },
        CopyFile {
            local: dir,
            remote: "/app/src".into(),
        },
    ];
    let updater = ExecUpdater::new(client.clone());
    updater.copy(&target(&ns, "p"), &files).await.expect("copy");
    let listing = sh(&ns, "p", "stat -c '%a %n' /app/run.sh /app/src/deep/data.txt; cat /app/src/deep/data.txt; /app/run.sh").await;
    assert_eq!(
        listing,
        "755 /app/run.sh\n600 /app/src/deep/data.txt\nnested\nhi\n"
    );
}

#[tokio::test]
async fn delete_removes_files_and_directories() {
    let Some(client) = cluster().await else {
        return;
    };
    let ns = TestNs::create(&client, "exec-delete").await;
    let image = image(true);
    ns.pod(
        "p",
        image,
        &[(
            "app",
            "mkdir -p /app/d/e; touch /app/f /app/keep; sleep 3600",
        )],
    )
    .await;
    let updater = ExecUpdater::new(client.clone());
    let paths = [
        "/app/d".to_owned(),
        "/app/f".to_owned(),
        "/app/missing".to_owned(),
    ];
    updater
        .delete(&target(&ns, "p"), &paths)
        .await
        .expect("delete");
    assert_eq!(sh(&ns, "p", "ls /app").await, "keep\n");
}

#[tokio::test]
async fn run_steps_stream_output_and_return_exit_codes() {
    let Some(client) = cluster().await else {
        return;
    };
    let ns = TestNs::create(&client, "exec-run").await;
    let image = image(true);
    ns.pod("p", image, &[("app", "sleep 3600")]).await;
    let updater = ExecUpdater::new(client.clone());
    let (sink, lines) = collect();
    let ok = Cmd::Shell("echo built; echo warned >&2".into());
    assert_eq!(
        updater
            .exec(&target(&ns, "p"), &ok, sink.clone())
            .await
            .unwrap(),
        0
    );
    let failing = Cmd::Shell("echo compiling; exit 3".into());
    assert_eq!(
        updater
            .exec(&target(&ns, "p"), &failing, sink)
            .await
            .unwrap(),
        3
    );
    let mut got = lines.lock().unwrap().clone();
    got.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        got,
        [
            (Stream::Stdout, "built".to_owned()),
            (Stream::Stdout, "compiling".to_owned()),
            (Stream::Stderr, "warned".to_owned()),
        ]
    );
    let missing = Cmd::Argv(vec!["no-such-tool".into()]);
    let (sink, _) = collect();
    let err = updater
        .exec(&target(&ns, "p"), &missing, sink)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, UpdateError::MissingTool { tool, .. } if tool == "no-such-tool"),
        "{err}"
    );
}

#[tokio::test]
async fn copy_into_an_image_without_tar_names_the_missing_tool() {
    let Some(client) = cluster().await else {
        return;
    };
    let ns = TestNs::create(&client, "exec-notar").await;
    let image = image(false);
    ns.pod("p", image, &[("app", "sleep 3600")]).await;
    let local = tempfile::tempdir().unwrap();
    std::fs::write(local.path().join("f"), "x").unwrap();
    let files = [CopyFile {
        local: local.path().join("f"),
        remote: "/tmp/f".into(),
    }];
    let updater = ExecUpdater::new(client.clone());
    let err = updater.copy(&target(&ns, "p"), &files).await.unwrap_err();
    assert!(
        matches!(&err, UpdateError::MissingTool { tool, .. } if tool == "tar"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains(&format!("app of pod {}/p", ns.name)),
        "{err}"
    );
    let restart = updater.restart(&target(&ns, "p")).await.unwrap_err();
    assert!(restart.to_string().contains("restart_process"), "{restart}");
}

#[tokio::test]
async fn a_pod_that_is_gone_is_no_such_container() {
    let Some(client) = cluster().await else {
        return;
    };
    let ns = TestNs::create(&client, "exec-gone").await;
    let updater = ExecUpdater::new(client.clone());
    let err = updater
        .delete(&target(&ns, "nope"), &["/x".to_owned()])
        .await
        .unwrap_err();
    assert!(matches!(err, UpdateError::NoSuchContainer { .. }), "{err}");
}
