//! [`ComposeDeployer`] through the compose tool's command line.
//!
//! Every command gets the model on stdin (`-f -`, JSON, which both v1 and v2 read),
//! so stilt's image tags reach compose without a file left behind, and compose sees
//! exactly the project `config` resolved. The tool runs in its own process group,
//! which is killed if the future is dropped (a cancelled deploy leaves no compose
//! process, nor the `docker` plugin child `docker compose` starts).

use std::collections::BTreeMap;
use std::process::Stdio;

use futures_util::future::BoxFuture;
use tokio::io::AsyncWriteExt;

use super::deploy_model::for_deploy;
use super::tool::ComposeTool;
use super::{ComposeDeployer, ComposeError};
use crate::model::ComposeProject;
use crate::process::group::GroupGuard;
use crate::process::lines::{Tail, pump};
use crate::process::{Exit, LineSink, Stream};

/// How many of the tool's last output lines a failure carries.
const TAIL_LINES: usize = 20;

/// Runs `docker compose` (v2) or `docker-compose` (v1).
#[derive(Debug, Clone)]
pub struct ComposeCli {
    tool: ComposeTool,
}

impl ComposeCli {
    pub fn new(tool: ComposeTool) -> Self {
        ComposeCli { tool }
    }

    /// The compose tool this machine has (see [`ComposeTool::detect`]).
    pub fn detect() -> Result<Self, ComposeError> {
        Ok(ComposeCli::new(ComposeTool::detect()?.clone()))
    }

    /// The full argv for `command` (e.g. `["up", "-d", "web"]`) on `project`.
    pub fn argv(&self, project: &ComposeProject, command: &[&str]) -> Vec<String> {
        let mut argv = self.tool.argv.clone();
        argv.extend(["-p".to_owned(), project.name.clone()]);
        argv.push("--project-directory".to_owned());
        argv.push(project.project_dir.to_string_lossy().into_owned());
        if let Some(env_file) = &project.env_file {
            argv.push("--env-file".to_owned());
            argv.push(env_file.to_string_lossy().into_owned());
        }
        for profile in &project.profiles {
            argv.extend(["--profile".to_owned(), profile.clone()]);
        }
        argv.extend(["-f".to_owned(), "-".to_owned()]);
        argv.extend(command.iter().map(|s| (*s).to_owned()));
        argv
    }
}

impl ComposeDeployer for ComposeCli {
    fn up<'a>(
        &'a self,
        project: &'a ComposeProject,
        service: &'a str,
        images: &'a BTreeMap<String, String>,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), ComposeError>> {
        Box::pin(async move {
            let model = for_deploy(project, images);
            let argv = self.argv(project, &["up", "-d", "--no-deps", "--no-build", service]);
            run(project, Some(service), argv, &model, log).await
        })
    }

    fn rm<'a>(
        &'a self,
        project: &'a ComposeProject,
        service: &'a str,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), ComposeError>> {
        Box::pin(async move {
            // Short flags: v1 and v2 both know `-s` (stop first) and `-f` (no prompt).
            let argv = self.argv(project, &["rm", "-s", "-f", service]);
            run(project, Some(service), argv, &project.model, log).await
        })
    }

    fn down<'a>(
        &'a self,
        project: &'a ComposeProject,
        volumes: bool,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), ComposeError>> {
        Box::pin(async move {
            let mut command = vec!["down", "--remove-orphans"];
            if volumes {
                command.push("--volumes");
            }
            let argv = self.argv(project, &command);
            run(project, None, argv, &project.model, log).await
        })
    }
}

/// Runs `argv` with `model` on stdin; output lines go to `log`.
async fn run(
    project: &ComposeProject,
    service: Option<&str>,
    argv: Vec<String>,
    model: &serde_json::Value,
    log: LineSink,
) -> Result<(), ComposeError> {
    let command = argv.join(" ");
    let io_err = |source| ComposeError::Io {
        command: command.clone(),
        project: project.name.clone(),
        source,
    };
    let input = serde_json::to_vec(model).map_err(|e| io_err(e.into()))?;
    let mut child = spawn(project, &argv, &command)?;
    let mut group = GroupGuard::new(child.id());
    let tail = Tail::new(TAIL_LINES);
    let stdin = child.stdin.take();
    let feed = async move {
        if let Some(mut stdin) = stdin {
            stdin.write_all(&input).await?;
            stdin.shutdown().await?;
        }
        Ok::<_, std::io::Error>(())
    };
    let out = pump(child.stdout.take(), Stream::Stdout, &log, &tail);
    let err = pump(child.stderr.take(), Stream::Stderr, &log, &tail);
    // A write error (the tool exited before reading stdin) shows in its exit status.
    let (_fed, (), (), status) = tokio::join!(feed, out, err, child.wait());
    let status = status.map_err(io_err)?;
    group.disarm();
    if status.success() {
        return Ok(());
    }
    let output = tail.lines();
    Err(ComposeError::Failed {
        command,
        project: project.name.clone(),
        service: service.map(str::to_owned),
        exit: Exit::from_status(status).to_string(),
        output,
    })
}

fn spawn(
    project: &ComposeProject,
    argv: &[String],
    command: &str,
) -> Result<tokio::process::Child, ComposeError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| ComposeError::ToolNotFound {
            program: String::new(),
            project: project.name.clone(),
        })?;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(&project.project_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    crate::process::group::die_with_stilt(&mut cmd);
    cmd.spawn().map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound && project.project_dir.is_dir() {
            ComposeError::ToolNotFound {
                program: program.clone(),
                project: project.name.clone(),
            }
        } else {
            ComposeError::Spawn {
                command: command.to_owned(),
                project: project.name.clone(),
                source,
            }
        }
    })
}

#[cfg(test)]
mod tests;
