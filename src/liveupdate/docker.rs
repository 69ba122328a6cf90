//! The real [`ContainerUpdater`]: the Docker Engine API through bollard.
//!
//! It asks as little of the image as possible: files go in through the archive API
//! (no `tar` in the container), deletions exec `rm` directly (no shell), and only
//! string run steps need `sh`. When a program is missing the error says which one
//! and what needs it, because that is the usual reason live update fails on slim
//! images (Tilt #4303).

mod exec;

use bollard::Docker;
use bollard::query_parameters::{RestartContainerOptionsBuilder, UploadToContainerOptionsBuilder};
use futures_util::future::BoxFuture;

use crate::model::Cmd;
use crate::process::{LineSink, Stream};

use super::{ContainerUpdater, CopyFile, UpdateError, UpdateTarget};

/// Seconds a restart waits for the process to stop before killing it: dev servers
/// rarely need a graceful shutdown, and a live update should be quick.
const RESTART_STOP_SECS: i32 = 3;

/// Paths per `rm` exec, well under any argument-length limit.
const RM_BATCH: usize = 500;

/// Patches containers of the local Docker Engine.
#[derive(Debug, Clone)]
pub struct DockerUpdater {
    docker: Docker,
}

impl DockerUpdater {
    pub fn new(docker: Docker) -> Self {
        DockerUpdater { docker }
    }

    /// Fails clearly when the container is missing or stopped: copying into a
    /// stopped container "works" but patches nothing that runs, and restarting one
    /// would start it.
    async fn ensure_running(
        &self,
        container: &str,
        doing: &'static str,
    ) -> Result<(), UpdateError> {
        let inspect = self
            .docker
            .inspect_container(container, None)
            .await
            .map_err(|e| api_error(container, doing, e))?;
        let running = inspect.state.and_then(|s| s.running).unwrap_or(false);
        if running {
            Ok(())
        } else {
            Err(UpdateError::NotRunning {
                container: container.to_owned(),
                doing,
            })
        }
    }

    async fn copy_files(&self, container: &str, files: &[CopyFile]) -> Result<(), UpdateError> {
        const DOING: &str = "copy files";
        self.ensure_running(container, DOING).await?;
        let (owned_id, owned_files) = (container.to_owned(), files.to_vec());
        let tar =
            tokio::task::spawn_blocking(move || super::archive::build(&owned_id, &owned_files))
                .await
                .map_err(|e| UpdateError::ReadLocal {
                    container: container.to_owned(),
                    path: "(files to copy)".into(),
                    source: std::io::Error::other(e),
                })??;
        let options = UploadToContainerOptionsBuilder::default().path("/").build();
        self.docker
            .upload_to_container(container, Some(options), bollard::body_full(tar.into()))
            .await
            .map_err(|e| api_error(container, DOING, e))
    }

    async fn delete_paths(&self, container: &str, paths: &[String]) -> Result<(), UpdateError> {
        const DOING: &str = "delete files";
        for batch in paths.chunks(RM_BATCH) {
            let mut argv = vec!["rm".to_owned(), "-rf".to_owned(), "--".to_owned()];
            argv.extend(batch.iter().cloned());
            let mut output = Vec::new();
            let mut keep = |_: Stream, line: String| output.push(line);
            let finished = exec::run(&self.docker, container, argv, &mut keep)
                .await
                .map_err(|e| api_error(container, DOING, e))?;
            if finished.not_found {
                return Err(UpdateError::MissingTool {
                    container: container.to_owned(),
                    doing: DOING,
                    tool: "rm".to_owned(),
                    why: "deleting synced files needs `rm` in the image",
                });
            }
            if finished.code != 0 {
                return Err(UpdateError::DeleteFailed {
                    container: container.to_owned(),
                    paths: batch.join(" "),
                    code: finished.code,
                    output: output.join("\n"),
                });
            }
        }
        Ok(())
    }

    async fn exec_cmd(
        &self,
        container: &str,
        cmd: &Cmd,
        log: LineSink,
    ) -> Result<i64, UpdateError> {
        const DOING: &str = "run a live-update step";
        let argv = cmd.argv();
        let tool = argv.first().cloned().unwrap_or_default();
        let mut forward = |stream: Stream, line: String| log(stream, line);
        let finished = exec::run(&self.docker, container, argv, &mut forward)
            .await
            .map_err(|e| api_error(container, DOING, e))?;
        if finished.not_found {
            let why = match cmd {
                Cmd::Shell(_) => "a run step given as a string runs with `sh -c`",
                Cmd::Argv(_) => "a run step given as a list runs its first word",
            };
            return Err(UpdateError::MissingTool {
                container: container.to_owned(),
                doing: DOING,
                tool,
                why,
            });
        }
        Ok(finished.code)
    }

    async fn restart_container(&self, container: &str) -> Result<(), UpdateError> {
        const DOING: &str = "restart";
        self.ensure_running(container, DOING).await?;
        let options = RestartContainerOptionsBuilder::default()
            .t(RESTART_STOP_SECS)
            .build();
        self.docker
            .restart_container(container, Some(options))
            .await
            .map_err(|e| api_error(container, DOING, e))
    }
}

/// Turns the Engine's 404 and "is not running" 409 into their own variants.
fn api_error(container: &str, doing: &'static str, source: bollard::errors::Error) -> UpdateError {
    let container = container.to_owned();
    match &source {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        } => UpdateError::NoSuchContainer { container, doing },
        bollard::errors::Error::DockerResponseServerError {
            status_code: 409,
            message,
        } if message.contains("is not running") || message.contains("is paused") => {
            UpdateError::NotRunning { container, doing }
        }
        _ => UpdateError::Api {
            container,
            doing,
            source,
        },
    }
}

impl ContainerUpdater for DockerUpdater {
    fn copy<'a>(
        &'a self,
        target: &'a UpdateTarget,
        files: &'a [CopyFile],
    ) -> BoxFuture<'a, Result<(), UpdateError>> {
        let container = target.container_id();
        Box::pin(self.copy_files(container, files))
    }

    fn delete<'a>(
        &'a self,
        target: &'a UpdateTarget,
        paths: &'a [String],
    ) -> BoxFuture<'a, Result<(), UpdateError>> {
        let container = target.container_id();
        Box::pin(self.delete_paths(container, paths))
    }

    fn exec<'a>(
        &'a self,
        target: &'a UpdateTarget,
        cmd: &'a Cmd,
        log: LineSink,
    ) -> BoxFuture<'a, Result<i64, UpdateError>> {
        let container = target.container_id();
        Box::pin(self.exec_cmd(container, cmd, log))
    }

    fn restart<'a>(&'a self, target: &'a UpdateTarget) -> BoxFuture<'a, Result<(), UpdateError>> {
        let container = target.container_id();
        Box::pin(self.restart_container(container))
    }
}
