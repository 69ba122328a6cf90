//! The real [`ContainerUpdater`]: the Docker Engine API through bollard.
//!
//! It asks as little of the image as possible: files go in through the archive API
//! (no `tar` in the container), deletions exec `rm` directly (no shell), and only
//! string run steps need `sh`. When a program is missing the error says which one
//! and what needs it, because that is the usual reason live update fails on slim
//! images (Tilt #4303).
//!
//! Files go first through a persistent sync channel (`channel.rs`, the helper of
//! `liveupdate::channel`) kept per container; where the helper cannot run the
//! container falls back to the archive API for good, and the log says why once. A
//! channel that breaks mid-batch is dropped and the batch retried once through the
//! archive API; the next batch opens a new channel (a restarted container).

mod channel;
mod exec;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bollard::Docker;
use bollard::query_parameters::{RestartContainerOptionsBuilder, UploadToContainerOptionsBuilder};
use futures_util::future::BoxFuture;

use crate::model::Cmd;
use crate::process::{LineSink, Stream};

use super::channel::{Batch, Session, failures};
use super::{ContainerUpdater, CopyFile, UpdateError, UpdateTarget, short_id};

/// Seconds a restart waits for the process to stop before killing it: dev servers
/// rarely need a graceful shutdown, and a live update should be quick.
const RESTART_STOP_SECS: i32 = 3;

/// Paths per `rm` exec, well under any argument-length limit.
const RM_BATCH: usize = 500;

/// Patches containers of the local Docker Engine.
#[derive(Debug, Clone)]
pub struct DockerUpdater {
    docker: Docker,
    channels: Arc<Mutex<HashMap<String, Slot>>>,
    /// `STILT_SYNC_HELPER=0`: every batch takes the archive path (for comparison,
    /// or as a way out if the helper misbehaves somewhere).
    helper_off: bool,
}

/// The environment variable that turns the sync helper off when set to `0`.
pub const HELPER_SWITCH: &str = "STILT_SYNC_HELPER";

/// A container's sync channel.
#[derive(Debug)]
enum Slot {
    /// Open and idle (taken out of the map while a batch uses it).
    Open(Session),
    /// The helper cannot run there: every batch takes the archive path.
    Unavailable,
}

impl DockerUpdater {
    pub fn new(docker: Docker) -> Self {
        DockerUpdater {
            docker,
            channels: Arc::default(),
            helper_off: std::env::var_os(HELPER_SWITCH).is_some_and(|v| v == "0"),
        }
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // Nothing panics while holding the lock; keep going if something did.
        self.channels.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a sync channel to `container` is open and idle (for tests and
    /// diagnostics).
    pub fn has_channel(&self, container: &str) -> bool {
        matches!(self.slots().get(container), Some(Slot::Open(_)))
    }

    /// Ends every open channel politely (each helper exits at once).
    pub async fn close_channels(&self) {
        let open: Vec<Session> = self
            .slots()
            .drain()
            .filter_map(|(_, slot)| match slot {
                Slot::Open(session) => Some(session),
                Slot::Unavailable => None,
            })
            .collect();
        for session in open {
            session.bye().await;
        }
    }

    /// The container's idle session, a new one, or `None` when the helper cannot
    /// run there (logged the first time).
    async fn take_session(
        &self,
        container: &str,
        log: &LineSink,
    ) -> Result<Option<Session>, UpdateError> {
        // Bound first: the guard must be dropped before the arms lock again.
        let slot = self.slots().remove(container);
        match slot {
            Some(Slot::Open(session)) => return Ok(Some(session)),
            Some(Slot::Unavailable) => {
                self.slots().insert(container.to_owned(), Slot::Unavailable);
                return Ok(None);
            }
            None => {}
        }
        let opened = if self.helper_off {
            Err(channel::OpenError::CannotRun(format!("{HELPER_SWITCH}=0")))
        } else {
            channel::open(&self.docker, container).await
        };
        match opened {
            Ok(session) => Ok(Some(session)),
            Err(channel::OpenError::Container(e)) => Err(e),
            Err(channel::OpenError::CannotRun(why)) => {
                log(
                    Stream::System,
                    format!(
                        "the sync helper cannot run in container {} ({why}): files go \
                         through the Engine's archive API (about 60 ms more per update)",
                        short_id(container)
                    ),
                );
                self.slots().insert(container.to_owned(), Slot::Unavailable);
                Ok(None)
            }
        }
    }

    /// One batch through the container's channel; the archive path when there is
    /// none, and once more through it when the channel breaks mid-batch.
    async fn sync_batch(
        &self,
        container: &str,
        deletes: &[String],
        copies: &[CopyFile],
        log: LineSink,
    ) -> Result<(), UpdateError> {
        let batch = build_batch(container, deletes, copies).await?;
        if let Some(big) = &batch.oversized {
            log(
                Stream::System,
                format!(
                    "{} is too large for one sync frame: using the archive API",
                    big.display()
                ),
            );
            return self.archive_sync(container, deletes, copies).await;
        }
        let Some(mut session) = self.take_session(container, &log).await? else {
            return self.archive_sync(container, deletes, copies).await;
        };
        match session.send(&batch).await {
            Ok(outcomes) => {
                self.slots()
                    .insert(container.to_owned(), Slot::Open(session));
                match failures(&batch, &outcomes) {
                    None => Ok(()),
                    Some(failures) => Err(UpdateError::SyncFailed {
                        container: container.to_owned(),
                        failures,
                    }),
                }
            }
            Err(broken) => {
                log(
                    Stream::System,
                    format!(
                        "the sync channel to container {} broke ({broken}): retrying the \
                         batch through the Engine's archive API",
                        short_id(container)
                    ),
                );
                self.archive_sync(container, deletes, copies).await
            }
        }
    }

    /// Today's path: `rm` through exec, files through the archive API.
    async fn archive_sync(
        &self,
        container: &str,
        deletes: &[String],
        copies: &[CopyFile],
    ) -> Result<(), UpdateError> {
        if !deletes.is_empty() {
            self.delete_paths(container, deletes).await?;
        }
        if !copies.is_empty() {
            self.copy_files(container, copies).await?;
        }
        Ok(())
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
        // The restart kills the helper; the next batch opens a new channel.
        self.slots().remove(container);
        let options = RestartContainerOptionsBuilder::default()
            .t(RESTART_STOP_SECS)
            .build();
        self.docker
            .restart_container(container, Some(options))
            .await
            .map_err(|e| api_error(container, DOING, e))
    }
}

/// Reads and encodes the batch off the async runtime.
async fn build_batch(
    container: &str,
    deletes: &[String],
    copies: &[CopyFile],
) -> Result<Batch, UpdateError> {
    let (id, deletes, copies) = (container.to_owned(), deletes.to_vec(), copies.to_vec());
    tokio::task::spawn_blocking(move || Batch::build(&id, &deletes, &copies))
        .await
        .map_err(|e| UpdateError::ReadLocal {
            container: container.to_owned(),
            path: "(files to sync)".into(),
            source: std::io::Error::other(e),
        })?
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

    fn sync<'a>(
        &'a self,
        target: &'a UpdateTarget,
        deletes: &'a [String],
        copies: &'a [CopyFile],
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), UpdateError>> {
        let container = target.container_id();
        Box::pin(self.sync_batch(container, deletes, copies, log))
    }
}
