//! Real-Docker test support: images built `FROM scratch` around Debian's
//! `busybox-static` (there is no registry to pull from), and cleanup by label.
//!
//! Every container or network a test creates carries the label `stilt.test=1` (or a
//! compose project name starting with `stilt-test-`), so `cleanup_label` can remove
//! whatever a failed test left behind.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// Where Debian's busybox-static puts its binary (`.ci/run` installs it).
pub const BUSYBOX: &str = "/bin/busybox";

/// An image with busybox and its applets (`sh`, `httpd`, `rm`, ...) but no `tar`.
pub const BUSYBOX_IMAGE: &str = "stilt-test-busybox:1";

/// Runs `docker` with `args`; panics with its output when it fails.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .output()
        .expect("run docker (is the Docker CLI installed?)");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Builds `BUSYBOX_IMAGE` once per test process (a no-op when it exists).
pub fn busybox_image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let have = Command::new("docker")
            .args(["image", "inspect", BUSYBOX_IMAGE])
            .output()
            .is_ok_and(|o| o.status.success());
        if have {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        write_busybox_context(dir.path());
        docker(&[
            "build",
            "-q",
            "-t",
            BUSYBOX_IMAGE,
            &dir.path().to_string_lossy(),
        ]);
    });
    BUSYBOX_IMAGE
}

/// Writes a build context whose Dockerfile makes a busybox image without `tar`:
/// `FROM scratch`, the static binary, its applet links, and `tar` removed.
pub fn write_busybox_context(dir: &Path) {
    assert!(
        Path::new(BUSYBOX).exists(),
        "{BUSYBOX} is missing: install Debian's busybox-static (.ci/run does)"
    );
    std::fs::copy(BUSYBOX, dir.join("busybox")).expect("copy busybox");
    std::fs::write(
        dir.join("Dockerfile"),
        "FROM scratch\n\
         COPY busybox /bin/busybox\n\
         RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
         RUN [\"/bin/busybox\", \"rm\", \"/bin/tar\"]\n\
         ENV PATH=/bin\n\
         CMD [\"sh\"]\n",
    )
    .expect("write Dockerfile");
}

/// Removes containers (with their volumes) and networks labelled `stilt.test=1`.
pub fn cleanup_label() {
    let ids = docker(&["ps", "-aq", "--filter", "label=stilt.test=1"]);
    for id in ids.split_whitespace() {
        let _ = Command::new("docker").args(["rm", "-fv", id]).output();
    }
    let nets = docker(&["network", "ls", "-q", "--filter", "label=stilt.test=1"]);
    for id in nets.split_whitespace() {
        let _ = Command::new("docker").args(["network", "rm", id]).output();
    }
}

/// Containers of a compose project, running or not.
pub fn project_containers(project: &str) -> Vec<String> {
    let filter = format!("label=com.docker.compose.project={project}");
    docker(&["ps", "-aq", "--filter", &filter])
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Networks of a compose project.
pub fn project_networks(project: &str) -> Vec<String> {
    let filter = format!("label=com.docker.compose.project={project}");
    docker(&["network", "ls", "-q", "--filter", &filter])
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}
