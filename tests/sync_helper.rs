//! The sync helper against the real Engine: files through one long-lived exec in a
//! `FROM scratch` image with no `tar` and no shell, deletes and nested creates,
//! modes, a large file, a container restarted under the channel, the fallback to the
//! archive API when the helper cannot run, and no helper process left afterwards.
//! Each test owns its container (labelled `stilt.test=1`), removed on drop.

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use stilt::liveupdate::channel::HELPER_PATH;
use stilt::liveupdate::{ContainerUpdater, CopyFile, DockerUpdater, UpdateTarget};
use stilt::process::{LineSink, Stream};

use crate::docker_support::{BUSYBOX, busybox_image, docker};

/// Busybox as `/busybox` and nothing else: no `sh`, no `tar`, no `rm`, no `/bin`.
const BARE_IMAGE: &str = "stilt-test-bare:2";

fn bare_image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(BUSYBOX, dir.path().join("busybox")).unwrap();
        std::fs::write(
            dir.path().join("Dockerfile"),
            "FROM scratch\nCOPY busybox /busybox\nCMD [\"/busybox\", \"sleep\", \"3600\"]\n",
        )
        .unwrap();
        docker(&[
            "build",
            "-q",
            "-t",
            BARE_IMAGE,
            &dir.path().to_string_lossy(),
        ]);
    });
    BARE_IMAGE
}

struct Container {
    id: String,
    /// How to run a busybox applet in it.
    bb: &'static str,
}

impl Container {
    fn bare() -> Self {
        let id = docker(&["run", "-d", "--label", "stilt.test=1", bare_image()]);
        Container {
            id: id.trim().to_owned(),
            bb: "/busybox",
        }
    }

    /// A busybox container started with extra `docker run` flags.
    fn busybox(flags: &[&str]) -> Self {
        let mut args = vec!["run", "-d", "--label", "stilt.test=1"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&[busybox_image(), "sleep", "3600"]);
        Container {
            id: docker(&args).trim().to_owned(),
            bb: "/bin/busybox",
        }
    }

    fn applet(&self, argv: &[&str]) -> Option<String> {
        let out = Command::new("docker")
            .args(["exec", &self.id, self.bb])
            .args(argv)
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn cat(&self, path: &str) -> String {
        self.applet(&["cat", path])
            .unwrap_or_else(|| panic!("{path} is missing in the container"))
    }

    fn mode(&self, path: &str) -> String {
        self.applet(&["stat", "-c", "%a", path])
            .unwrap()
            .trim()
            .to_owned()
    }

    /// Helper processes running in the container, as the host sees them.
    fn helpers(&self) -> usize {
        docker(&["top", &self.id])
            .lines()
            .filter(|l| l.contains(HELPER_PATH))
            .count()
    }

    /// Waits up to 5 s for the helper count to become `n`.
    fn wait_helpers(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.helpers() != n {
            assert!(
                Instant::now() < deadline,
                "{} helper(s), expected {n}",
                self.helpers()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-fv", &self.id])
            .output();
    }
}

fn updater() -> DockerUpdater {
    DockerUpdater::new(bollard::Docker::connect_with_local_defaults().unwrap())
}

/// A log sink that keeps the lines.
fn recorder() -> (LineSink, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let keep = lines.clone();
    let sink: LineSink = Arc::new(move |_: Stream, line: String| keep.lock().unwrap().push(line));
    (sink, lines)
}

fn copy(local: &Path, remote: &str) -> CopyFile {
    CopyFile {
        local: local.to_path_buf(),
        remote: remote.to_owned(),
    }
}

fn write_mode(path: &Path, text: &[u8], mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scratch_image_without_tar_or_shell_is_synced_through_one_helper() {
    let c = Container::bare();
    let target = UpdateTarget::container(&c.id);
    let src = tempfile::tempdir().unwrap();
    let tree = src.path().join("tree");
    std::fs::create_dir_all(tree.join("a/b/c")).unwrap();
    write_mode(&tree.join("a/b/c/deep.txt"), b"deep", 0o644);
    write_mode(&tree.join("run.sh"), b"#!/bb sh\n", 0o755);
    write_mode(&tree.join("secret"), b"s", 0o600);
    let big: Vec<u8> = (0..8 << 20).map(|i: u32| (i % 251) as u8).collect();
    std::fs::write(tree.join("big.bin"), &big).unwrap();
    let (log, lines) = recorder();
    let up = updater();

    up.sync(&target, &[], &[copy(&tree, "/app")], log.clone())
        .await
        .unwrap();
    assert_eq!(c.cat("/app/a/b/c/deep.txt"), "deep");
    assert_eq!(c.mode("/app/run.sh"), "755");
    assert_eq!(c.mode("/app/secret"), "600");
    let size = c.applet(&["stat", "-c", "%s", "/app/big.bin"]).unwrap();
    assert_eq!(size.trim(), (8 << 20).to_string());
    let sum = c.applet(&["md5sum", "/app/big.bin"]).unwrap();
    assert!(sum.starts_with(&host_md5(&tree.join("big.bin"))), "{sum}");
    assert!(up.has_channel(&c.id));
    assert_eq!(c.helpers(), 1);

    // A second batch: deletes first, then a changed file, over the same helper.
    std::fs::write(tree.join("run.sh"), b"changed").unwrap();
    let deletes = [
        "/app/a".to_owned(),
        "/app/secret".to_owned(),
        "/app/never-there".to_owned(),
    ];
    up.sync(
        &target,
        &deletes,
        &[copy(&tree.join("run.sh"), "/app/run.sh")],
        log,
    )
    .await
    .unwrap();
    assert_eq!(c.cat("/app/run.sh"), "changed");
    assert!(c.applet(&["test", "-e", "/app/a"]).is_none());
    assert!(c.applet(&["test", "-e", "/app/secret"]).is_none());
    assert_eq!(c.helpers(), 1, "the helper is reused, not started again");
    assert!(
        lines.lock().unwrap().is_empty(),
        "{:?}",
        lines.lock().unwrap()
    );

    up.close_channels().await;
    c.wait_helpers(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_helper_is_left_running_when_stilt_lets_go_of_the_channel() {
    let c = Container::bare();
    let target = UpdateTarget::container(&c.id);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("f"), "1").unwrap();
    let (log, _) = recorder();
    let up = updater();
    up.sync(&target, &[], &[copy(&src.path().join("f"), "/f")], log)
        .await
        .unwrap();
    assert_eq!(c.helpers(), 1);
    // No goodbye: the connection closing alone must end the helper.
    drop(up);
    c.wait_helpers(0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_restarted_under_the_channel_gets_the_batch_and_a_new_channel() {
    let c = Container::bare();
    let target = UpdateTarget::container(&c.id);
    let src = tempfile::tempdir().unwrap();
    let f = src.path().join("f");
    std::fs::write(&f, "1").unwrap();
    let (log, lines) = recorder();
    let up = updater();
    up.sync(&target, &[], &[copy(&f, "/f")], log.clone())
        .await
        .unwrap();
    docker(&["restart", "-t", "0", &c.id]);

    std::fs::write(&f, "2").unwrap();
    up.sync(&target, &[], &[copy(&f, "/f")], log.clone())
        .await
        .unwrap();
    assert_eq!(c.cat("/f"), "2");
    let said = lines.lock().unwrap().join("\n");
    assert!(
        said.contains("broke")
            && said.contains("retrying the batch through the Engine's archive API"),
        "{said}"
    );

    std::fs::write(&f, "3").unwrap();
    up.sync(&target, &[], &[copy(&f, "/f")], log).await.unwrap();
    assert_eq!(c.cat("/f"), "3");
    assert!(up.has_channel(&c.id), "the next batch opened a new channel");
    assert_eq!(c.helpers(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_that_cannot_run_falls_back_to_the_archive_api_and_says_why_once() {
    // A noexec tmpfs where the helper goes: it cannot be executed there.
    let c = Container::busybox(&["--tmpfs", "/.stilt:noexec"]);
    let target = UpdateTarget::container(&c.id);
    let src = tempfile::tempdir().unwrap();
    let f = src.path().join("f");
    let (log, lines) = recorder();
    let up = updater();
    for text in ["1", "2"] {
        std::fs::write(&f, text).unwrap();
        up.sync(&target, &[], &[copy(&f, "/app/f")], log.clone())
            .await
            .unwrap();
        assert_eq!(c.cat("/app/f"), text);
    }
    assert!(!up.has_channel(&c.id));
    let said = lines.lock().unwrap().clone();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("the sync helper cannot run in container"),
        "{said:?}"
    );
    assert_eq!(c.helpers(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_root_says_why_the_helper_cannot_run_and_reports_the_failed_copy() {
    let c = Container::busybox(&["--read-only"]);
    let target = UpdateTarget::container(&c.id);
    let src = tempfile::tempdir().unwrap();
    let f = src.path().join("f");
    std::fs::write(&f, "1").unwrap();
    let (log, lines) = recorder();
    let err = updater()
        .sync(&target, &[], &[copy(&f, "/app/f")], log)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("read-only"), "{err}");
    let said = lines.lock().unwrap().join("\n");
    assert!(
        said.contains("the sync helper cannot run") && said.contains("read-only"),
        "{said}"
    );
}

/// The md5 of a local file, by the host's busybox (the same tool the container uses).
fn host_md5(path: &Path) -> String {
    let out = Command::new(BUSYBOX)
        .args(["md5sum", &path.to_string_lossy()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace().next().unwrap().to_owned()
}
