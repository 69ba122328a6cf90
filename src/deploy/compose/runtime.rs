//! [`ContainerRuntime`] on the Docker Engine API (bollard).
//!
//! Containers are found by the labels both compose versions set
//! (`com.docker.compose.project` / `.service`), never by name: v1 names them
//! `p_web_1`, v2 `p-web-1`. Events are a long-lived stream that reconnects on its own
//! (the engine's runtime worker just re-reads status on each item); logs are split
//! into lines here so every consumer sees whole lines.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::{
    ContainerInspectResponse, ContainerStateStatusEnum, ContainerSummary, EventMessage,
    HealthStatusEnum,
};
use bollard::query_parameters::{
    EventsOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
};
use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt};

use super::{ContainerEvent, ContainerRuntime, RuntimeError};
use crate::clock::unix_now;
use crate::model::{ContainerState, ContainerStatus, Health};
use crate::process::Stream;
use crate::process::lines::MAX_LINE;

const PROJECT_LABEL: &str = "com.docker.compose.project";
const SERVICE_LABEL: &str = "com.docker.compose.service";
const ONEOFF_LABEL: &str = "com.docker.compose.oneoff";
/// First and longest wait before reconnecting to the event stream.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// The Docker Engine, seen through compose's labels.
#[derive(Debug, Clone)]
pub struct DockerRuntime {
    docker: Docker,
}

impl DockerRuntime {
    pub fn new(docker: Docker) -> Self {
        DockerRuntime { docker }
    }

    async fn status_of(
        &self,
        project: &str,
        service: &str,
    ) -> Result<Option<ContainerStatus>, RuntimeError> {
        let filters = HashMap::from([(
            "label",
            vec![
                format!("{PROJECT_LABEL}={project}"),
                format!("{SERVICE_LABEL}={service}"),
            ],
        )]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let list = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|source| RuntimeError::List {
                project: project.to_owned(),
                service: service.to_owned(),
                source,
            })?;
        let Some(id) = newest(list) else {
            return Ok(None);
        };
        match self.docker.inspect_container(&id, None).await {
            Ok(info) => Ok(Some(container_status(id, &info))),
            // Removed between the list and the inspect: there is no container now.
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(source) => Err(RuntimeError::Inspect {
                container: id,
                source,
            }),
        }
    }
}

impl ContainerRuntime for DockerRuntime {
    fn status<'a>(
        &'a self,
        project: &'a str,
        service: &'a str,
    ) -> BoxFuture<'a, Result<Option<ContainerStatus>, RuntimeError>> {
        Box::pin(self.status_of(project, service))
    }

    fn events(&self, project: &str) -> BoxStream<'static, Result<ContainerEvent, RuntimeError>> {
        let state = Events {
            docker: self.docker.clone(),
            project: project.to_owned(),
            inner: None,
            // The Engine connection opens on first poll; events since this call count.
            since: unix_now(),
            backoff: None,
        };
        stream::unfold(state, |mut st| async move {
            let item = st.next().await;
            Some((item, st))
        })
        .boxed()
    }

    fn logs(
        &self,
        container: &str,
        since_unix: i64,
    ) -> BoxStream<'static, Result<(Stream, String), RuntimeError>> {
        let options = LogsOptionsBuilder::default()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .since(i32::try_from(since_unix).unwrap_or(0))
            .tail("all")
            .build();
        let state = Logs {
            container: container.to_owned(),
            raw: self.docker.logs(container, Some(options)).boxed(),
            lines: LineSplitter::default(),
            pending: VecDeque::new(),
            error: None,
            done: false,
        };
        stream::unfold(state, |mut st| async move {
            let item = st.next().await?;
            Some((item, st))
        })
        .boxed()
    }
}

/// The id of the newest non-one-off container; on a tie, a running one.
fn newest(list: Vec<ContainerSummary>) -> Option<String> {
    list.into_iter()
        .filter(|c| {
            let labels = c.labels.as_ref();
            labels.and_then(|l| l.get(ONEOFF_LABEL)).map(String::as_str) != Some("True")
        })
        .max_by_key(|c| (c.created.unwrap_or(0), c.state == Some(RUNNING_SUMMARY)))
        .and_then(|c| c.id)
}

const RUNNING_SUMMARY: bollard::models::ContainerSummaryStateEnum =
    bollard::models::ContainerSummaryStateEnum::RUNNING;

/// What the Engine's inspect says, as stilt's plain status.
fn container_status(id: String, info: &ContainerInspectResponse) -> ContainerStatus {
    let state = info.state.as_ref();
    let exit_code = state.and_then(|s| s.exit_code).unwrap_or(0);
    let status = match state.and_then(|s| s.status) {
        Some(ContainerStateStatusEnum::RUNNING | ContainerStateStatusEnum::STOPPING) => {
            ContainerState::Running
        }
        Some(ContainerStateStatusEnum::PAUSED) => ContainerState::Paused,
        Some(ContainerStateStatusEnum::RESTARTING) => ContainerState::Restarting,
        Some(ContainerStateStatusEnum::EXITED) => ContainerState::Exited { code: exit_code },
        Some(ContainerStateStatusEnum::REMOVING) => ContainerState::Removing,
        Some(ContainerStateStatusEnum::DEAD) => ContainerState::Dead,
        Some(ContainerStateStatusEnum::CREATED | ContainerStateStatusEnum::EMPTY) | None => {
            ContainerState::Created
        }
    };
    let health = match state.and_then(|s| s.health.as_ref()).and_then(|h| h.status) {
        Some(HealthStatusEnum::STARTING) => Some(Health::Starting),
        Some(HealthStatusEnum::HEALTHY) => Some(Health::Healthy),
        Some(HealthStatusEnum::UNHEALTHY) => Some(Health::Unhealthy),
        Some(HealthStatusEnum::NONE | HealthStatusEnum::EMPTY) | None => None,
    };
    ContainerStatus {
        id,
        state: status,
        health,
        started_at: state.and_then(|s| s.started_at.clone()).unwrap_or_default(),
        restart_count: info
            .restart_count
            .map_or(0, |n| u32::try_from(n.max(0)).unwrap_or(u32::MAX)),
        restart_loses_files: false,
    }
}

type RawEvents = BoxStream<'static, Result<EventMessage, DockerError>>;

/// The event stream's state: the current connection, if any, and where to resume.
struct Events {
    docker: Docker,
    project: String,
    inner: Option<RawEvents>,
    /// Unix seconds of the last event seen (at first, of the `events` call): each
    /// connection replays from there, so events before the first poll or during a
    /// reconnect are not lost (a repeat only causes one more status read).
    since: Option<i64>,
    /// `None` until a connection fails; then the wait before the next attempt.
    backoff: Option<Duration>,
}

impl Events {
    async fn next(&mut self) -> Result<ContainerEvent, RuntimeError> {
        loop {
            if self.inner.is_none() {
                self.inner = Some(self.connect().await);
            }
            let Some(inner) = self.inner.as_mut() else {
                continue;
            };
            match inner.next().await {
                Some(Ok(msg)) => {
                    self.backoff = None;
                    self.since = msg.time.or(self.since);
                    if let Some(event) = to_event(msg) {
                        return Ok(event);
                    }
                }
                Some(Err(source)) => {
                    self.inner = None;
                    return Err(RuntimeError::Events {
                        project: self.project.clone(),
                        source,
                    });
                }
                // The Engine closed the stream (e.g. it restarted): reconnect.
                None => self.inner = None,
            }
        }
    }

    async fn connect(&mut self) -> RawEvents {
        if let Some(wait) = self.backoff {
            tokio::time::sleep(wait).await;
        }
        self.backoff = Some(
            self.backoff
                .map_or(BACKOFF_MIN, |b| (b * 2).min(BACKOFF_MAX)),
        );
        let filters = HashMap::from([
            ("type", vec!["container".to_owned()]),
            ("label", vec![format!("{PROJECT_LABEL}={}", self.project)]),
        ]);
        let mut options = EventsOptionsBuilder::default().filters(&filters);
        if let Some(since) = self.since {
            options = options.since(&since.to_string());
        }
        self.docker.events(Some(options.build())).boxed()
    }
}

fn to_event(msg: EventMessage) -> Option<ContainerEvent> {
    let service = msg.actor?.attributes?.remove(SERVICE_LABEL)?;
    Some(ContainerEvent { service })
}

/// The log stream's state: Engine chunks in, whole lines out.
struct Logs {
    container: String,
    raw: BoxStream<'static, Result<LogOutput, DockerError>>,
    lines: LineSplitter,
    pending: VecDeque<(Stream, String)>,
    error: Option<RuntimeError>,
    done: bool,
}

impl Logs {
    async fn next(&mut self) -> Option<Result<(Stream, String), RuntimeError>> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Some(Ok(line));
            }
            if let Some(e) = self.error.take() {
                return Some(Err(e));
            }
            if self.done {
                return None;
            }
            match self.raw.next().await {
                Some(Ok(chunk)) => {
                    let (stream, bytes) = match &chunk {
                        LogOutput::StdErr { message } => (Stream::Stderr, message),
                        LogOutput::StdOut { message }
                        | LogOutput::Console { message }
                        | LogOutput::StdIn { message } => (Stream::Stdout, message),
                    };
                    self.pending.extend(self.lines.push(stream, bytes));
                }
                end => {
                    self.done = true;
                    self.pending.extend(self.lines.finish());
                    if let Some(Err(source)) = end {
                        let container = self.container.clone();
                        self.error = Some(RuntimeError::Logs { container, source });
                    }
                }
            }
        }
    }
}

/// Joins chunks into lines per stream: the Engine cuts its frames anywhere.
#[derive(Debug, Default)]
struct LineSplitter {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl LineSplitter {
    fn push(&mut self, stream: Stream, bytes: &[u8]) -> Vec<(Stream, String)> {
        let partial = match stream {
            Stream::Stderr => &mut self.stderr,
            _ => &mut self.stdout,
        };
        let mut lines = Vec::new();
        let mut rest = bytes;
        while let Some(i) = rest.iter().position(|&b| b == b'\n') {
            append_capped(partial, &rest[..i]);
            lines.push((stream, take_line(partial)));
            rest = &rest[i + 1..];
        }
        append_capped(partial, rest);
        lines
    }

    /// The unterminated last lines, when the stream ends.
    fn finish(&mut self) -> Vec<(Stream, String)> {
        [
            (Stream::Stdout, &mut self.stdout),
            (Stream::Stderr, &mut self.stderr),
        ]
        .into_iter()
        .filter(|(_, partial)| !partial.is_empty())
        .map(|(stream, partial)| (stream, take_line(partial)))
        .collect()
    }
}

fn append_capped(partial: &mut Vec<u8>, bytes: &[u8]) {
    let room = MAX_LINE.saturating_sub(partial.len());
    partial.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

fn take_line(partial: &mut Vec<u8>) -> String {
    if partial.last() == Some(&b'\r') {
        partial.pop();
    }
    let line = String::from_utf8_lossy(partial).into_owned();
    partial.clear();
    line
}

#[cfg(test)]
mod tests;
