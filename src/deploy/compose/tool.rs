//! Which compose tool this machine has: the `docker compose` plugin (v2) or the
//! standalone `docker-compose` (v1). Both take the same flags for what stilt uses
//! (`-p`, `--project-directory`, `--env-file`, `--profile`, `-f -`, `config`, `up`,
//! `rm`, `down`); only `config`'s output format differs.

use std::process::Command;
use std::sync::OnceLock;

/// The command prefix that runs the compose tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeTool {
    /// `["docker", "compose"]` or `["docker-compose"]`.
    pub argv: Vec<String>,
    /// v2 prints `config --format json`; v1 prints YAML only.
    pub json_config: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "no Docker Compose tool found: neither `docker compose version` nor \
     `docker-compose version` works (install the compose plugin or docker-compose)"
)]
pub struct NoComposeTool;

impl ComposeTool {
    /// The tool, probed once per process.
    pub fn detect() -> Result<&'static ComposeTool, NoComposeTool> {
        static TOOL: OnceLock<Option<ComposeTool>> = OnceLock::new();
        TOOL.get_or_init(probe).as_ref().ok_or(NoComposeTool)
    }

    /// A `Command` for the tool with `args` appended, pointed at the Engine stilt
    /// itself talks to (see [`crate::docker`]).
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.argv[0]);
        c.args(&self.argv[1..]);
        if let Some(host) = engine_host() {
            c.env("DOCKER_HOST", host);
        }
        c
    }

    /// The same, for tokio.
    pub fn tokio_command(&self) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(&self.argv[0]);
        c.args(&self.argv[1..]);
        if let Some(host) = engine_host() {
            c.env("DOCKER_HOST", host);
        }
        c
    }
}

fn works(argv: &[&str]) -> bool {
    Command::new(argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success())
}

fn probe() -> Option<ComposeTool> {
    if works(&["docker", "compose", "version"]) {
        return Some(ComposeTool {
            argv: vec!["docker".into(), "compose".into()],
            json_config: true,
        });
    }
    // Running `docker-compose version` costs ~0.6 s of Python start-up on every cold
    // load; finding the program is enough, and a broken one fails its first real
    // command (`config`) with its own message.
    let path = std::env::var_os("PATH").unwrap_or_default();
    if on_path("docker-compose", &path) {
        return Some(ComposeTool {
            argv: vec!["docker-compose".into()],
            json_config: false,
        });
    }
    None
}

/// Whether an executable file `name` is in one of `path`'s directories.
fn on_path(name: &str, path: &std::ffi::OsStr) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path).any(|dir| {
        std::fs::metadata(dir.join(name))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// The Engine endpoint resolved from a Docker context, to hand to the tool (with
/// `DOCKER_HOST` set, or no context, the tool resolves it the same way already).
fn engine_host() -> Option<String> {
    let ep = crate::docker::endpoint().ok()?;
    (ep.from != "DOCKER_HOST" && ep.from != "the default socket").then_some(ep.host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_executable_files_on_the_path_count() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        let tool = b.path().join("docker-compose");
        std::fs::write(&tool, "#!/bin/sh\n").expect("write");
        let path = std::env::join_paths([a.path(), b.path()]).expect("join");
        assert!(!on_path("docker-compose", &path), "not executable yet");
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert!(on_path("docker-compose", &path));
        assert!(!on_path("docker-compose", a.path().as_os_str()));
        std::fs::create_dir(a.path().join("dir")).expect("mkdir");
        assert!(
            !on_path("dir", a.path().as_os_str()),
            "a directory is not a program"
        );
    }
}
