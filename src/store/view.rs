//! Snapshots of engine state for UIs: the one place that reads `EngineState` for them.
//!
//! A UI runs on its own task and must never hold the engine up, so the engine's view
//! adapter copies what a screen shows into a [`Snapshot`] (small: no logs) and hands
//! new log lines over separately through a [`LogCursor`], which remembers the last
//! sequence number it saw. Statuses use Tilt's names, so a user of Tilt reads them
//! as they expect. A new deploy target reports into `Runtime::Containers`, which
//! [`runtime_status`] reads, and every UI follows.

use std::time::{Duration, Instant, SystemTime};

use super::logs::{LogLine, LogSource};
use super::state::{
    ContainerTrack, EngineState, ResourceState, RunOutcome, RunRecord, Runtime, ServePhase,
    UpdatePhase,
};
use crate::model::Stream;
use crate::model::TriggerMode;

/// Where the last (or current) update of a resource stands, as Tilt names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateStatus {
    Pending,
    InProgress,
    Ok,
    Error,
    None,
}

/// Whether what the resource runs (server, container) is up, as Tilt names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeStatus {
    Pending,
    Ok,
    Error,
    None,
    /// A resource with nothing running besides its updates.
    NotApplicable,
}

/// The last (or current) run of a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunView {
    /// "initial run", "3 files changed: src/app.py, ...".
    pub reason: String,
    /// Wall-clock time, so a snapshot can be serialized (the web API) and compared
    /// with the clock of whoever reads it.
    pub started: SystemTime,
    /// `None` while it runs.
    pub took: Option<Duration>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceView {
    pub name: String,
    /// "local", or the name of the deploy target that runs it.
    pub kind: String,
    pub labels: Vec<String>,
    pub update: UpdateStatus,
    pub runtime: RuntimeStatus,
    pub last_run: Option<RunView>,
    /// The finished runs before `last_run`, latest first (at most [`EARLIER_RUNS`]).
    pub earlier_runs: Vec<RunView>,
    /// What runs: a container's short id, `pod NAMESPACE/NAME`, or `pid N` of a server.
    pub container: Option<String>,
    /// Why it waits ("waiting on db", ...), from the scheduler.
    pub hold: Option<String>,
    /// The error of the last run or of its server.
    pub error: Option<String>,
    /// Links and published ports, as text ("http://localhost:8000 (web)").
    pub endpoints: Vec<String>,
    pub disabled: bool,
    pub trigger_mode: TriggerMode,
}

impl ResourceView {
    /// Something is happening that a spinner should show.
    pub fn busy(&self) -> bool {
        !self.disabled
            && (self.update == UpdateStatus::InProgress || self.runtime == RuntimeStatus::Pending)
    }

    pub fn is_error(&self) -> bool {
        self.update == UpdateStatus::Error || self.runtime == RuntimeStatus::Error
    }

    pub fn is_ok(&self) -> bool {
        self.update == UpdateStatus::Ok
            && matches!(
                self.runtime,
                RuntimeStatus::Ok | RuntimeStatus::NotApplicable
            )
    }
}

/// What a screen shows, without logs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot {
    /// The Tiltfile's load error, when the last load failed.
    pub tiltfile_error: Option<String>,
    pub tiltfile_loading: bool,
    /// Critical problems of the session (the inotify limit, ...).
    pub critical: Vec<String>,
    /// In declaration order.
    pub resources: Vec<ResourceView>,
    /// The engine is stopping everything.
    pub quitting: bool,
}

/// Resources by state, for a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub ok: usize,
    pub error: usize,
    pub pending: usize,
    pub disabled: usize,
}

impl Snapshot {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.resources {
            if r.disabled {
                c.disabled += 1;
            } else if r.is_error() {
                c.error += 1;
            } else if r.is_ok() {
                c.ok += 1;
            } else {
                c.pending += 1;
            }
        }
        c
    }

    pub fn busy(&self) -> bool {
        self.tiltfile_loading || self.quitting || self.resources.iter().any(ResourceView::busy)
    }
}

/// The moment a snapshot is taken, on both clocks: the state records monotonic
/// instants, snapshots carry wall-clock times.
#[derive(Debug, Clone, Copy)]
pub struct Now {
    pub mono: Instant,
    pub wall: SystemTime,
}

impl Now {
    /// The wall-clock time of `at`, an instant the state recorded.
    pub fn wall_of(&self, at: Instant) -> SystemTime {
        let ago = self.mono.saturating_duration_since(at);
        self.wall.checked_sub(ago).unwrap_or(SystemTime::UNIX_EPOCH)
    }
}

/// Copies what a UI shows from the state; `hold_of` gives the scheduler's reason a
/// resource waits (`|n| decision.hold_of(n).map(|h| h.to_string())`), passed as a
/// function so the store does not depend on the engine.
pub fn snapshot(
    state: &EngineState,
    hold_of: impl Fn(&str) -> Option<String>,
    now: Now,
) -> Snapshot {
    let base = state.base_dir();
    let resources = state
        .ordered()
        .map(|r| ResourceView {
            name: r.name().to_string(),
            kind: r.spec.kind_label().to_owned(),
            labels: r.spec.labels.clone(),
            update: update_status(r),
            runtime: runtime_status(r),
            last_run: r.last_run().map(|run| run_view(run, &base, &now)),
            earlier_runs: r
                .history
                .iter()
                .skip(1)
                .take(EARLIER_RUNS)
                .map(|run| run_view(run, &base, &now))
                .collect(),
            container: container_of(r),
            hold: hold_of(r.name().as_str()),
            error: r.error(),
            endpoints: endpoints(r),
            disabled: r.disabled,
            trigger_mode: r.trigger_mode(),
        })
        .collect();
    Snapshot {
        tiltfile_error: state.tiltfile.error.clone(),
        tiltfile_loading: state.tiltfile.loading,
        critical: state.critical.iter().map(|p| p.message.clone()).collect(),
        resources,
        quitting: state.quitting,
    }
}

/// Runs a snapshot keeps besides the last one (the dashboard's history).
pub const EARLIER_RUNS: usize = 9;

fn run_view(run: &RunRecord, base: &std::path::Path, now: &Now) -> RunView {
    RunView {
        reason: run.reason.describe(base),
        started: now.wall_of(run.started),
        took: run
            .finished
            .map(|f| f.saturating_duration_since(run.started)),
        error: match &run.outcome {
            Some(RunOutcome::Failed(e) | RunOutcome::LiveUpdateFailed(e)) => Some(e.clone()),
            _ => None,
        },
    }
}

/// What runs for `r` now, as the views name it.
fn container_of(r: &ResourceState) -> Option<String> {
    match &r.runtime {
        Runtime::Containers(c) => c.status.as_ref().map(|s| {
            if s.id.contains('/') {
                format!("pod {}", s.id)
            } else {
                // A Docker id, shown as `docker ps` shows it.
                s.id.get(..12).unwrap_or(&s.id).to_owned()
            }
        }),
        Runtime::Serve(ServePhase::Running { pid: Some(pid), .. }) => Some(format!("pid {pid}")),
        _ => None,
    }
}

pub fn update_status(r: &ResourceState) -> UpdateStatus {
    match &r.update {
        UpdatePhase::Running(_) => UpdateStatus::InProgress,
        _ if r.pending.is_some() && !r.disabled => UpdateStatus::Pending,
        UpdatePhase::Done(RunOutcome::Succeeded) => UpdateStatus::Ok,
        UpdatePhase::Done(RunOutcome::Failed(_)) => UpdateStatus::Error,
        UpdatePhase::Done(RunOutcome::LiveUpdateFailed(_)) => UpdateStatus::Pending,
        UpdatePhase::Idle => UpdateStatus::None,
    }
}

/// Local resources: the `serve_cmd`; deployed resources: their container.
pub fn runtime_status(r: &ResourceState) -> RuntimeStatus {
    let serve = match &r.runtime {
        Runtime::None => return RuntimeStatus::NotApplicable,
        Runtime::Containers(c) => return container_status(r, c),
        Runtime::Serve(s) => s,
    };
    match serve {
        _ if r.disabled => RuntimeStatus::None,
        ServePhase::NotStarted if r.history.is_empty() && r.pending.is_none() => {
            RuntimeStatus::None
        }
        ServePhase::NotStarted | ServePhase::Starting { .. } => RuntimeStatus::Pending,
        ServePhase::Running { ready: true, .. } => RuntimeStatus::Ok,
        ServePhase::Running { ready: false, .. } => RuntimeStatus::Pending,
        ServePhase::Exited { error: Some(_), .. } => RuntimeStatus::Error,
        ServePhase::Exited { error: None, .. } => RuntimeStatus::None,
    }
}

/// A deployed resource's container: ok when ready, error when it failed.
fn container_status(r: &ResourceState, c: &ContainerTrack) -> RuntimeStatus {
    if r.disabled {
        return RuntimeStatus::None;
    }
    if c.error().is_some() {
        return RuntimeStatus::Error;
    }
    match &c.status {
        None if r.history.is_empty() && r.pending.is_none() => RuntimeStatus::None,
        _ if c.is_ready() => RuntimeStatus::Ok,
        _ => RuntimeStatus::Pending,
    }
}

/// The resource's endpoints: a compose service's published ports (unless
/// `infer_links=False`), then the links declared on it.
pub fn endpoints(r: &ResourceState) -> Vec<String> {
    let ports = match &r.spec.kind {
        crate::model::ResourceKind::Compose(c) => c.port_urls(),
        _ => Vec::new(),
    };
    let links = r.spec.links.iter().map(|l| match &l.name {
        Some(n) => format!("{} ({n})", l.url),
        None => l.url.clone(),
    });
    ports.into_iter().chain(links).collect()
}

/// One log line with the resource it belongs to (`None`: the Tiltfile's own log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub seq: u64,
    pub resource: Option<String>,
    pub stream: Stream,
    pub source: LogSource,
    pub text: String,
}

/// Hands out each log line once, in order of arrival across all resources.
#[derive(Debug, Clone, Default)]
pub struct LogCursor {
    last_seq: u64,
}

impl LogCursor {
    /// Lines that arrived since the last call, oldest first.
    pub fn new_lines(&mut self, state: &EngineState) -> Vec<LogEntry> {
        if state.log_seq <= self.last_seq {
            return Vec::new();
        }
        let entry = |name: Option<&str>, l: &LogLine| LogEntry {
            seq: l.seq,
            resource: name.map(str::to_owned),
            stream: l.stream,
            source: l.source,
            text: l.text.clone(),
        };
        let mut out: Vec<LogEntry> = state
            .tiltfile
            .logs
            .since(self.last_seq)
            .map(|l| entry(None, l))
            .collect();
        for r in state.ordered() {
            out.extend(
                r.logs
                    .since(self.last_seq)
                    .map(|l| entry(Some(r.name().as_str()), l)),
            );
        }
        out.sort_by_key(|e| e.seq);
        self.last_seq = state.log_seq;
        out
    }
}

#[cfg(test)]
mod tests;
