//! The engine's Docker side: the lazy connection, one watcher per compose project
//! (Engine events -> `ContainerObserved`), one log follower per running container,
//! and the start of compose runs. Owned by the loop's effects; everything here only
//! spawns tasks and sends actions.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};

use super::compose_plan::decide;
use super::compose_run::{ComposeJob, run_compose};
use super::docker::{DockerConnect, DockerDeps};
use crate::deploy::compose::ContainerRuntime;
use crate::model::{ContainerState, ResourceName};
use crate::process::Stream;
use crate::store::{Action, EngineState};

pub struct Containers {
    connect: DockerConnect,
    docker: Option<DockerDeps>,
    /// Per compose project: the services it watches, and the watcher task.
    watchers: HashMap<String, (BTreeMap<String, ResourceName>, AbortHandle)>,
    /// Per resource: the (container id, start time) whose logs are followed.
    followers: HashMap<ResourceName, ((String, String), AbortHandle)>,
    /// Disabled compose resources whose service stilt has removed (`rm`) already.
    removed: HashSet<ResourceName>,
}

pub struct Ctx<'a> {
    pub tasks: &'a mut JoinSet<()>,
    pub tx: &'a mpsc::UnboundedSender<Action>,
    pub shutdown: watch::Receiver<bool>,
}

impl Containers {
    pub fn new(connect: DockerConnect) -> Self {
        Self {
            connect,
            docker: None,
            watchers: HashMap::new(),
            followers: HashMap::new(),
            removed: HashSet::new(),
        }
    }

    fn docker(&mut self) -> Result<DockerDeps, String> {
        if let Some(d) = &self.docker {
            return Ok(d.clone());
        }
        let d = (self.connect)()?;
        self.docker = Some(d.clone());
        Ok(d)
    }

    /// Starts a compose resource's run (its `RunStarted` is already reduced).
    pub fn start_run(&mut self, state: &EngineState, name: &ResourceName, cx: Ctx<'_>) {
        let Some(r) = state.resources.get(name) else {
            return;
        };
        let (Some(run), Some(svc)) = (r.running(), r.spec.compose()) else {
            return;
        };
        let reason = r.last_run().map(|h| h.reason.clone());
        let image = svc
            .image
            .as_ref()
            .and_then(|i| state.project.as_ref()?.image(i))
            .cloned();
        let last_tag = image
            .as_ref()
            .and_then(|i| state.images.get(&i.image_ref))
            .cloned();
        let update = decide(
            r,
            image.as_ref(),
            last_tag.as_deref(),
            &reason.unwrap_or(crate::store::RunReason::Triggered),
            &state.base_dir(),
            Path::exists,
        );
        let job = ComposeJob {
            name: name.clone(),
            run,
            service: svc.clone(),
            image,
            last_tag,
            update,
        };
        let docker = self.docker();
        cx.tasks
            .spawn(run_compose(job, docker, cx.tx.clone(), cx.shutdown));
    }

    /// Keeps one watcher per compose project and one log follower per running container.
    pub fn sync(&mut self, state: &EngineState, cx: Ctx<'_>) {
        let mut projects: HashMap<String, BTreeMap<String, ResourceName>> = HashMap::new();
        for r in state.ordered() {
            if let Some(svc) = r.spec.compose() {
                projects
                    .entry(svc.project.name.clone())
                    .or_default()
                    .insert(svc.service.clone(), r.name().clone());
            }
        }
        if projects.is_empty() && self.watchers.is_empty() {
            return;
        }
        let Ok(docker) = self.docker() else {
            return; // each run reports the connection error on its resource
        };
        self.watchers.retain(|p, (services, task)| {
            let keep = projects.get(p) == Some(services);
            if !keep {
                task.abort();
            }
            keep
        });
        for (project, services) in projects {
            if self.watchers.contains_key(&project) {
                continue;
            }
            let task = cx.tasks.spawn(watch_project(
                project.clone(),
                services.clone(),
                docker.runtime.clone(),
                cx.tx.clone(),
                cx.shutdown.clone(),
            ));
            self.watchers.insert(project, (services, task));
        }
        self.sync_removed(state, &docker, &mut *cx.tasks, cx.tx);
        self.sync_followers(state, &docker, cx);
    }

    /// Disabling a compose resource removes its service's container, as in Tilt;
    /// enabling it again deploys it with the run the reducer queues.
    fn sync_removed(
        &mut self,
        state: &EngineState,
        docker: &DockerDeps,
        tasks: &mut JoinSet<()>,
        tx: &mpsc::UnboundedSender<Action>,
    ) {
        self.removed
            .retain(|n| state.resources.get(n).is_some_and(|r| r.disabled));
        for r in state.ordered().filter(|r| r.disabled) {
            let Some(svc) = r.spec.compose() else {
                continue;
            };
            if r.container.status.is_none() || !self.removed.insert(r.name().clone()) {
                continue;
            }
            let compose = docker.compose.clone();
            let (project, service) = (svc.project.clone(), svc.service.clone());
            let log = super::compose_run::sink(tx, r.name());
            tasks.spawn(async move {
                if let Err(e) = compose.rm(&project, &service, log.clone()).await {
                    log(
                        Stream::Stderr,
                        format!("removing the disabled service: {e}"),
                    );
                }
            });
        }
    }

    fn sync_followers(&mut self, state: &EngineState, docker: &DockerDeps, cx: Ctx<'_>) {
        self.followers.retain(|name, (_, task)| {
            let keep = state.resources.contains_key(name);
            if !keep {
                task.abort();
            }
            keep
        });
        for r in state.ordered() {
            let Some(s) = r.container.status.as_ref() else {
                continue;
            };
            if s.state != ContainerState::Running {
                continue;
            }
            let key = (s.id.clone(), s.started_at.clone());
            if self.followers.get(r.name()).is_some_and(|(k, _)| *k == key) {
                continue;
            }
            // The same container restarted: its earlier output was shown already.
            let mut since = 0;
            if let Some(((old_id, _), old)) = self.followers.remove(r.name()) {
                old.abort();
                if old_id == s.id {
                    since = unix_now();
                }
            }
            let task = cx.tasks.spawn(follow_logs(
                docker.runtime.clone(),
                (s.id.clone(), since),
                r.name().clone(),
                cx.tx.clone(),
                cx.shutdown.clone(),
            ));
            self.followers.insert(r.name().clone(), (key, task));
        }
    }
}

/// Reports every service's container at start and after each Engine event.
async fn watch_project(
    project: String,
    services: BTreeMap<String, ResourceName>,
    runtime: std::sync::Arc<dyn ContainerRuntime>,
    tx: mpsc::UnboundedSender<Action>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut events = runtime.events(&project);
    for (service, name) in &services {
        observe(&*runtime, &project, service, name, &tx).await;
    }
    loop {
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                    if let Some(name) = services.get(&ev.service) {
                        observe(&*runtime, &project, &ev.service, name, &tx).await;
                    }
                }
                Some(Err(e)) => {
                    let _ = tx.send(Action::Log { resource: None, stream: Stream::Stderr,
                        text: format!("compose project {project}: Engine events: {e}") });
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                None => return,
            },
            _ = stopped(&mut shutdown) => return,
        }
    }
}

async fn observe(
    runtime: &dyn ContainerRuntime,
    project: &str,
    service: &str,
    name: &ResourceName,
    tx: &mpsc::UnboundedSender<Action>,
) {
    match runtime.status(project, service).await {
        Ok(status) => {
            let _ = tx.send(Action::ContainerObserved {
                resource: name.clone(),
                status,
                at: Instant::now(),
            });
        }
        Err(e) => {
            let _ = tx.send(Action::Log {
                resource: Some(name.clone()),
                stream: Stream::Stderr,
                text: format!("reading the container's status: {e}"),
            });
        }
    }
}

/// Resolves when the engine shuts down (the guard `wait_for` returns is not `Send`,
/// so it must not live in a select branch that awaits).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

async fn follow_logs(
    runtime: std::sync::Arc<dyn ContainerRuntime>,
    (container, since): (String, i64),
    name: ResourceName,
    tx: mpsc::UnboundedSender<Action>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut lines = runtime.logs(&container, since);
    loop {
        tokio::select! {
            line = lines.next() => match line {
                Some(Ok((stream, text))) => {
                    let _ = tx.send(Action::Log { resource: Some(name.clone()), stream, text });
                }
                Some(Err(e)) => {
                    let _ = tx.send(Action::Log { resource: Some(name.clone()), stream: Stream::System,
                        text: format!("container logs ended: {e}") });
                    return;
                }
                None => return,
            },
            _ = stopped(&mut shutdown) => return,
        }
    }
}
