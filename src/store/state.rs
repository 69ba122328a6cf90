//! `EngineState`: what the engine knows, owned by the reducer.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::time::Instant;

use super::logs::LogBuffer;
use crate::model::Exit;
use crate::model::{
    ContainerState, ContainerStatus, Health, Project, Resource, ResourceName, TriggerMode,
};

pub type RunId = u64;

/// Runs kept per resource for "why did it run" and the UIs.
pub const HISTORY: usize = 10;
/// Paths kept as a sample of a file-change reason.
pub const SAMPLE: usize = 3;

/// Why a run happened. Reasons for the same pending run merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunReason {
    Initial,
    FilesChanged {
        count: usize,
        sample: Vec<PathBuf>,
    },
    ConfigChanged,
    Triggered,
    /// The container stilt live-updated was replaced outside stilt: the synced
    /// files are put back.
    ContainerReplaced {
        files: usize,
    },
    /// The last run's live update could not be applied (the container could not be
    /// patched): this run rebuilds and redeploys.
    LiveUpdateFailed {
        error: String,
    },
}

impl RunReason {
    /// Combines two reasons for one pending run (the stronger wins; file counts add).
    pub fn merge(self, other: RunReason) -> RunReason {
        use RunReason::*;
        match (self, other) {
            (
                FilesChanged {
                    count: a,
                    mut sample,
                },
                FilesChanged {
                    count: b,
                    sample: s2,
                },
            ) => {
                for p in s2 {
                    if sample.len() < SAMPLE && !sample.contains(&p) {
                        sample.push(p);
                    }
                }
                FilesChanged {
                    count: a + b,
                    sample,
                }
            }
            (Initial, _) | (_, Initial) => Initial,
            (Triggered, _) | (_, Triggered) => Triggered,
            (ConfigChanged, _) | (_, ConfigChanged) => ConfigChanged,
            (l @ LiveUpdateFailed { .. }, _) | (_, l @ LiveUpdateFailed { .. }) => l,
            (c @ ContainerReplaced { .. }, _) | (_, c @ ContainerReplaced { .. }) => c,
        }
    }

    pub fn describe(&self, base: &std::path::Path) -> String {
        match self {
            RunReason::Initial => "initial run".into(),
            RunReason::ConfigChanged => "Tiltfile changed this resource".into(),
            RunReason::Triggered => "triggered".into(),
            RunReason::LiveUpdateFailed { error } => {
                format!("live update failed ({error}), falling back to a full rebuild")
            }
            RunReason::ContainerReplaced { files } => {
                format!("container replaced outside stilt: re-syncing {files} live-updated file(s)")
            }
            RunReason::FilesChanged { count, sample } => {
                let names: Vec<String> = sample
                    .iter()
                    .map(|p| p.strip_prefix(base).unwrap_or(p).display().to_string())
                    .collect();
                let more = if *count > sample.len() { ", ..." } else { "" };
                let s = if *count == 1 { "" } else { "s" };
                format!("{count} file{s} changed: {}{more}", names.join(", "))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    Succeeded,
    Failed(String),
    /// A live update the container could not take (not the user's code failing): the
    /// reducer queues a full rebuild.
    LiveUpdateFailed(String),
}

/// An image's build step, shared by every resource that deploys it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageState {
    /// The tagged reference last built (or found unchanged) in this session.
    pub built: Option<String>,
    /// The tag being built now.
    pub building: Option<String>,
    /// Why the last build failed (cleared by the next success).
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    /// Unique across the session: ties a worker's report to its run.
    pub id: RunId,
    /// The resource's own count of runs (what the log calls "run #3"), as in Tilt.
    pub number: u64,
    pub reason: RunReason,
    pub started: Instant,
    pub finished: Option<Instant>,
    pub outcome: Option<RunOutcome>,
}

/// Where a resource's update stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdatePhase {
    /// Never run (auto_init=False, or waiting for the first run).
    Idle,
    Running(RunId),
    Done(RunOutcome),
}

/// What runs for a resource between its updates, by kind. `is_ready` and `error`
/// read it; each deploy target reports into `Containers` (pods will join it).
#[derive(Debug, Clone, PartialEq)]
pub enum Runtime {
    /// Nothing runs between updates (a local resource with only a `cmd`).
    None,
    /// A local resource's `serve_cmd`.
    Serve(ServePhase),
    /// The containers a deploy target runs for the resource.
    Containers(ContainerTrack),
}

impl Runtime {
    /// The runtime a new resource of this spec starts with.
    pub fn for_spec(spec: &Resource) -> Runtime {
        if spec.deploy_target().is_some() {
            Runtime::Containers(ContainerTrack {
                ignore_readiness: spec.k8s().is_some_and(|k| !k.waits_for_pods()),
                ..ContainerTrack::default()
            })
        } else if spec.local().is_some_and(|l| l.serve_cmd.is_some()) {
            Runtime::Serve(ServePhase::NotStarted)
        } else {
            Runtime::None
        }
    }

    /// Same variant (a reload that keeps the kind keeps what was observed).
    pub fn same_kind(&self, other: &Runtime) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// Where a `serve_cmd` stands. `generation` ties reports to the process they are about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServePhase {
    /// Waiting for a successful run before it can start (again).
    NotStarted,
    /// Asked to start; the previous process (if any) is being stopped first.
    Starting { generation: u64 },
    /// `ready` is true at once without a readiness probe; with one, once it passes.
    Running {
        generation: u64,
        pid: Option<u32>,
        since: Instant,
        ready: bool,
    },
    Exited {
        generation: u64,
        exit: Option<Exit>,
        error: Option<String>,
    },
}

/// What a user chose in a UI for one resource. A reload keeps these: the Tiltfile's
/// values apply only where the user has not chosen (Tilt keeps UI toggles too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UserChoice {
    pub enabled: Option<bool>,
    pub trigger_mode: Option<TriggerMode>,
}

/// What the engine knows of a deployed resource's container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerTrack {
    /// The latest status the Engine reported (`None`: no container).
    pub status: Option<ContainerStatus>,
    /// The container the last deploy or live update targeted.
    pub deployed_id: Option<String>,
    /// Files live-updated into `deployed_id` since its image was built. If that
    /// container is replaced by another (outside stilt), they are synced again.
    pub synced: BTreeSet<PathBuf>,
    /// The content hash of each file as it was last live-updated into `deployed_id`:
    /// a save that leaves a file as it was (`sed -i` with no match) syncs nothing.
    pub synced_content: BTreeMap<PathBuf, String>,
    /// Readiness waits for the container (`false`: Kubernetes `pod_readiness='ignore'`
    /// or a resource without pods, ready once deployed).
    pub ignore_readiness: bool,
}

impl ContainerTrack {
    /// Running, and healthy when it has a healthcheck; or finished with exit code 0.
    pub fn is_ready(&self) -> bool {
        if self.ignore_readiness {
            return true;
        }
        match &self.status {
            Some(s) => match s.state {
                ContainerState::Running => {
                    !matches!(s.health, Some(Health::Starting) | Some(Health::Unhealthy))
                }
                ContainerState::Exited { code } => code == 0,
                _ => false,
            },
            None => false,
        }
    }

    /// The container's failure, if it failed.
    pub fn error(&self) -> Option<String> {
        let s = self.status.as_ref()?;
        if let Some(why) = s.state.failing_wait() {
            return Some(why);
        }
        match s.state {
            ContainerState::Exited { code } if code != 0 => {
                Some(format!("container exited with code {code}"))
            }
            ContainerState::Dead => Some("container is dead".into()),
            ContainerState::Running if s.health == Some(Health::Unhealthy) => {
                Some("container is unhealthy (its healthcheck fails)".into())
            }
            _ => None,
        }
    }

    /// The running container live updates can go into.
    pub fn running_id(&self) -> Option<&str> {
        self.status
            .as_ref()
            .filter(|s| s.state == ContainerState::Running)
            .map(|s| s.id.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct ResourceState {
    pub spec: Resource,
    pub update: UpdatePhase,
    /// What runs between updates: nothing, a server, or deployed containers.
    pub runtime: Runtime,
    /// A run waiting to start, and why.
    pub pending: Option<RunReason>,
    /// Since when `pending` has been waiting.
    pub pending_since: Option<Instant>,
    /// Changes seen while in manual mode, waiting for a trigger.
    pub manual_changes: Option<RunReason>,
    /// Latest first.
    pub history: VecDeque<RunRecord>,
    pub logs: LogBuffer,
    pub disabled: bool,
    /// Was ready at least once (resource_deps wait on the first readiness only, as in Tilt).
    pub ever_ready: bool,
    /// Incremented on each serve start.
    pub serve_generation: u64,
    /// Runs started so far (a reload keeps the count).
    pub runs: u64,
    /// Since when the resource has been waiting to become ready (ci readiness timeout).
    pub not_ready_since: Option<Instant>,
    /// Toggles from a UI, kept across reloads.
    pub user: UserChoice,
    /// Every path changed since the last run started (a live update needs them all,
    /// not just the reason's sample).
    pub pending_files: BTreeSet<PathBuf>,
    /// The paths of the run in progress (moved from `pending_files` when it starts).
    pub run_files: BTreeSet<PathBuf>,
}

impl ResourceState {
    pub fn new(spec: Resource) -> Self {
        Self {
            runtime: Runtime::for_spec(&spec),
            spec,
            update: UpdatePhase::Idle,
            pending: None,
            pending_since: None,
            manual_changes: None,
            history: VecDeque::new(),
            logs: LogBuffer::default(),
            disabled: false,
            ever_ready: false,
            serve_generation: 0,
            runs: 0,
            not_ready_since: None,
            user: UserChoice::default(),
            pending_files: BTreeSet::new(),
            run_files: BTreeSet::new(),
        }
    }

    /// The trigger mode in effect: the user's choice, else the Tiltfile's.
    pub fn trigger_mode(&self) -> TriggerMode {
        self.user.trigger_mode.unwrap_or(self.spec.trigger_mode)
    }

    pub fn name(&self) -> &ResourceName {
        &self.spec.name
    }

    pub fn running(&self) -> Option<RunId> {
        match self.update {
            UpdatePhase::Running(id) => Some(id),
            _ => None,
        }
    }

    pub fn has_serve(&self) -> bool {
        matches!(self.runtime, Runtime::Serve(_))
    }

    /// The `serve_cmd`'s phase, if the resource has one.
    pub fn serve(&self) -> Option<&ServePhase> {
        match &self.runtime {
            Runtime::Serve(s) => Some(s),
            _ => None,
        }
    }

    pub fn serve_mut(&mut self) -> Option<&mut ServePhase> {
        match &mut self.runtime {
            Runtime::Serve(s) => Some(s),
            _ => None,
        }
    }

    /// The deployed containers, if a deploy target runs the resource.
    pub fn containers(&self) -> Option<&ContainerTrack> {
        match &self.runtime {
            Runtime::Containers(c) => Some(c),
            _ => None,
        }
    }

    pub fn containers_mut(&mut self) -> Option<&mut ContainerTrack> {
        match &mut self.runtime {
            Runtime::Containers(c) => Some(c),
            _ => None,
        }
    }

    /// Ready = the last run succeeded and, with a serve_cmd, the server runs and its
    /// probe passes; for deployed resources, the container runs (and is healthy, if
    /// it has a healthcheck).
    pub fn is_ready(&self) -> bool {
        if !matches!(self.update, UpdatePhase::Done(RunOutcome::Succeeded)) {
            return false;
        }
        match &self.runtime {
            Runtime::None => true,
            Runtime::Serve(ServePhase::Running { ready, .. }) => *ready,
            Runtime::Serve(_) => false,
            Runtime::Containers(c) => c.is_ready(),
        }
    }

    /// The resource ran and ended in error (failed run, a server that exited, or a
    /// deployed container that failed).
    pub fn error(&self) -> Option<String> {
        if let UpdatePhase::Done(RunOutcome::Failed(e)) = &self.update {
            return Some(e.clone());
        }
        match &self.runtime {
            Runtime::Serve(ServePhase::Exited { error: Some(e), .. }) => Some(e.clone()),
            Runtime::Containers(c) if matches!(self.update, UpdatePhase::Done(_)) => c.error(),
            _ => None,
        }
    }

    /// The error of a deployed container that waits to restart or start
    /// (`CrashLoopBackOff`, `ErrImageNeverPull`, ...), which may still recover.
    pub fn runtime_wait_error(&self) -> Option<String> {
        if !matches!(self.update, UpdatePhase::Done(RunOutcome::Succeeded)) {
            return None;
        }
        self.containers()?.status.as_ref()?.state.failing_wait()
    }

    pub fn last_run(&self) -> Option<&RunRecord> {
        self.history.front()
    }
}

#[derive(Debug, Clone, Default)]
pub struct TiltfileState {
    pub path: PathBuf,
    /// A load is in progress.
    pub loading: bool,
    /// Files changed that the Tiltfile read: a reload is wanted.
    pub reload_requested: bool,
    pub files_read: Vec<PathBuf>,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub loads: u32,
    pub logs: LogBuffer,
    /// Tiltfile arguments a UI set (`stilt args`); `None`: the command line's.
    pub args: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct EngineState {
    pub tiltfile: TiltfileState,
    /// The last project that loaded without error.
    pub project: Option<Project>,
    pub resources: super::resources::Resources,
    /// Declaration order (a load keeps it).
    pub order: Vec<ResourceName>,
    pub next_run: RunId,
    /// Each image's build step, by image_ref (`web` -> built `web:stilt-0123...`).
    pub images: BTreeMap<String, ImageState>,
    pub log_seq: u64,
    /// Critical problems of this session (the header shows them; ci fails on them).
    pub critical: Vec<super::problem::Problem>,
    pub quitting: bool,
}

impl EngineState {
    pub fn new(tiltfile: PathBuf) -> Self {
        Self {
            tiltfile: TiltfileState {
                path: tiltfile,
                reload_requested: true,
                ..Default::default()
            },
            next_run: 1,
            ..Default::default()
        }
    }

    /// Resources in declaration order.
    pub fn ordered(&self) -> impl Iterator<Item = &ResourceState> {
        self.resources.iter()
    }

    pub fn log_cap(&self) -> usize {
        self.project
            .as_ref()
            .map_or(1 << 20, |p| p.settings.log_cap_bytes)
    }

    pub fn base_dir(&self) -> PathBuf {
        self.tiltfile
            .path
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default()
    }
}
