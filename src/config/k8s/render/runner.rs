//! The process behind a render, behind a narrow trait: [`ProcessRunner`] runs the real
//! program; tests use `render::fake::FakeRunner`, which counts runs and answers from a table.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::RenderSpec;

/// How many trailing lines of stderr a failure shows.
const TAIL_LINES: usize = 20;

#[derive(Debug, Clone, thiserror::Error)]
pub enum RenderError {
    #[error("cannot start `{command}` in {}: {message}", dir.display())]
    Start {
        command: String,
        dir: PathBuf,
        message: String,
    },
    #[error("`{command}` failed with {status}{}", stderr_part(stderr))]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("cannot read {}, an input of the render: {source}", path.display())]
    Input {
        path: PathBuf,
        #[source]
        source: std::sync::Arc<std::io::Error>,
    },
}

impl RenderError {
    pub(crate) fn input(path: PathBuf, source: std::io::Error) -> RenderError {
        RenderError::Input {
            path,
            source: std::sync::Arc::new(source),
        }
    }
}

fn stderr_part(stderr: &str) -> String {
    if stderr.trim().is_empty() {
        String::new()
    } else {
        format!(":\n{stderr}")
    }
}

/// Runs a render's command and returns its stdout.
pub trait RenderRunner: Send + Sync {
    fn run(&self, spec: &RenderSpec) -> Result<String, RenderError>;
}

/// The real thing: the program in its own process group (never left behind: it dies
/// with the thread that waits for it), stdin closed, the spec's environment over the
/// process's.
pub struct ProcessRunner;

impl RenderRunner for ProcessRunner {
    fn run(&self, spec: &RenderSpec) -> Result<String, RenderError> {
        let mut cmd = Command::new(&spec.program);
        cmd.args(&spec.args)
            .current_dir(&spec.dir)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        crate::process::group::die_with_this_thread(&mut cmd);
        let out = cmd.output().map_err(|e| RenderError::Start {
            command: spec.shown(),
            dir: spec.dir.clone(),
            message: e.to_string(),
        })?;
        if out.status.success() {
            return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        let start = lines.len().saturating_sub(TAIL_LINES);
        Err(RenderError::Failed {
            command: spec.shown(),
            status: match out.status.code() {
                Some(c) => format!("exit code {c}"),
                None => "no exit code (killed by a signal)".into(),
            },
            stderr: lines[start..].join("\n"),
        })
    }
}
