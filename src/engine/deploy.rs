//! The deploy controller: drives every deploy target through [`DeployTarget`] and
//! knows none by name. It keeps one watch per target (its changes become
//! `ContainerObserved`), one log follower per running container, removes what a
//! disabled resource ran, and starts deploy runs. It only spawns tasks; they report
//! through actions.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

use super::deploy_run::{Backend, DeployJob, run_deploy, sink};
use super::images::ImageBuilds;
use super::tasks::{Tasks, stopped};
use super::update_plan::decide;
use crate::deploy::{Backends, Change, Connect, DeployTarget};
use crate::liveupdate::UpdateTarget;
use crate::model::{ContainerState, Resource, ResourceName, Stream};
use crate::store::{Action, EngineState, Problem, RunReason, Severity};

pub struct DeployController {
    connect: Connect,
    backends: Option<Backends>,
    builds: ImageBuilds,
    /// Per target: the resources it watches, and the watch task.
    watches: HashMap<String, (Vec<Resource>, AbortHandle)>,
    /// Per resource: the (container id, start time) whose logs are followed.
    followers: HashMap<ResourceName, ((String, String), AbortHandle)>,
    /// Disabled resources whose containers were removed already.
    removed: HashSet<ResourceName>,
}

impl DeployController {
    pub fn new(connect: Connect) -> Self {
        DeployController {
            connect,
            backends: None,
            builds: ImageBuilds::default(),
            watches: HashMap::new(),
            followers: HashMap::new(),
            removed: HashSet::new(),
        }
    }

    fn backends(&mut self) -> Result<Backends, String> {
        if let Some(b) = &self.backends {
            return Ok(b.clone());
        }
        let b = (self.connect)()?;
        self.backends = Some(b.clone());
        Ok(b)
    }

    /// Starts a deployed resource's run (its `RunStarted` is already reduced).
    pub fn start_run(&mut self, state: &EngineState, name: &ResourceName, tasks: &mut Tasks) {
        let Some(r) = state.resources.get(name) else {
            return;
        };
        let Some(run) = r.running() else {
            return;
        };
        let project = state.project.as_ref();
        let images: Vec<_> = r
            .spec
            .images()
            .into_iter()
            .filter_map(|i| project?.image(i))
            .map(|spec| {
                let last = state
                    .images
                    .get(&spec.image_ref)
                    .and_then(|s| s.built.clone());
                (spec.clone(), last)
            })
            .collect();
        // Live update goes into the container of the first image that declares one.
        let live = images.iter().find(|(s, _)| !s.live_update.is_empty());
        let reason = r
            .last_run()
            .map_or(RunReason::Triggered, |h| h.reason.clone());
        let update = decide(
            r,
            live.map(|(s, _)| s),
            live.and_then(|(_, last)| last.as_deref()),
            &reason,
            &state.base_dir(),
            Path::exists,
        );
        let synced = r
            .containers()
            .map(|c| c.synced_content.clone())
            .unwrap_or_default();
        let job = DeployJob {
            run,
            resource: r.spec.clone(),
            images,
            update,
            synced,
            registry: project.and_then(|p| p.settings.k8s.registry.clone()),
        };
        let builds = self.builds.clone();
        let backend = self.backends().and_then(|b| {
            Ok(Backend {
                target: b.target_of(&r.spec)?,
                builder: b.builder,
                builds,
            })
        });
        tasks.spawn(run_deploy(job, backend, tasks.tx(), tasks.shutdown()));
    }

    /// Keeps one watch per target and one log follower per running container, and
    /// removes what disabled resources ran.
    pub fn sync(&mut self, state: &EngineState, tasks: &mut Tasks) {
        // Borrowed: a turn compares specs and clones only to (re)start a watch.
        let mut by_target: BTreeMap<&str, Vec<&Resource>> = BTreeMap::new();
        for r in state.ordered() {
            if let Some(t) = r.spec.deploy_target() {
                by_target.entry(t).or_default().push(&r.spec);
            }
        }
        if by_target.is_empty() && self.watches.is_empty() {
            return;
        }
        let Ok(backends) = self.backends() else {
            return; // each run reports the connection error on its resource
        };
        self.watches.retain(|t, (resources, task)| {
            let keep = by_target
                .get(t.as_str())
                .is_some_and(|now| now.iter().copied().eq(resources.iter()));
            if !keep {
                task.abort();
            }
            keep
        });
        for (name, resources) in by_target {
            let Some(target) = backends.target(name) else {
                continue; // each run reports the missing target on its resource
            };
            if self.watches.contains_key(name) {
                continue;
            }
            let resources: Vec<Resource> = resources.into_iter().cloned().collect();
            let task = tasks.spawn(watch_target(
                target.clone(),
                resources.clone(),
                tasks.tx(),
                tasks.shutdown(),
            ));
            self.watches.insert(name.to_owned(), (resources, task));
        }
        self.sync_removed(state, &backends, tasks);
        self.sync_followers(state, &backends, tasks);
    }

    /// Disabling a deployed resource removes what it runs, as in Tilt; enabling it
    /// again deploys it with the run the reducer queues.
    fn sync_removed(&mut self, state: &EngineState, backends: &Backends, tasks: &mut Tasks) {
        self.removed
            .retain(|n| state.resources.get(n).is_some_and(|r| r.disabled));
        for r in state.ordered().filter(|r| r.disabled) {
            let Some(c) = r.containers() else {
                continue;
            };
            if c.status.is_none() || !self.removed.insert(r.name().clone()) {
                continue;
            }
            let Ok(target) = backends.target_of(&r.spec) else {
                continue;
            };
            let resource = r.spec.clone();
            let log = sink(&tasks.tx(), r.name());
            tasks.spawn(async move {
                if let Err(e) = target.remove(&resource, log.clone()).await {
                    log(
                        Stream::Stderr,
                        format!("removing the disabled resource: {e}"),
                    );
                }
            });
        }
    }

    fn sync_followers(&mut self, state: &EngineState, backends: &Backends, tasks: &mut Tasks) {
        self.followers.retain(|name, (_, task)| {
            let keep = state.resources.contains_key(name);
            if !keep {
                task.abort();
            }
            keep
        });
        for r in state.ordered() {
            let Some(s) = r.containers().and_then(|c| c.status.as_ref()) else {
                continue;
            };
            let Ok(target) = backends.target_of(&r.spec) else {
                continue;
            };
            let whole = target.logs_follow_restarts();
            if !whole && s.state != ContainerState::Running {
                continue;
            }
            let started = if whole { "" } else { s.started_at.as_str() };
            let key = (s.id.clone(), started.to_owned());
            if self.followers.get(r.name()).is_some_and(|(k, _)| *k == key) {
                continue;
            }
            // The same container restarted: its earlier output was shown already.
            let mut since = 0;
            if let Some(((old_id, _), old)) = self.followers.remove(r.name()) {
                old.abort();
                if old_id == s.id {
                    since = crate::clock::unix_now().unwrap_or(0);
                }
            }
            let followed = target.update_target(&s.id);
            let task = tasks.spawn(follow_logs(
                target,
                (followed, since),
                r.name().clone(),
                tasks.tx(),
                tasks.shutdown(),
            ));
            self.followers.insert(r.name().clone(), (key, task));
        }
    }
}

/// Reports every resource's container at start and after each change the target sees.
async fn watch_target(
    target: Arc<dyn DeployTarget>,
    resources: Vec<Resource>,
    tx: mpsc::UnboundedSender<Action>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut changes = target.watch(&resources);
    let by_name: HashMap<&ResourceName, &Resource> =
        resources.iter().map(|r| (&r.name, r)).collect();
    for r in &resources {
        observe(&*target, r, &tx).await;
    }
    loop {
        tokio::select! {
            change = changes.next() => match change {
                Some(Change::Resource(name)) => {
                    if let Some(r) = by_name.get(&name) {
                        observe(&*target, r, &tx).await;
                    }
                }
                Some(Change::Error(e)) => {
                    let message = format!("watching deployed resources: {e}");
                    let _ = tx.send(Action::Problem(Problem::new(Severity::Infra, message)));
                }
                None => return,
            },
            _ = stopped(&mut shutdown) => return,
        }
    }
}

async fn observe(target: &dyn DeployTarget, r: &Resource, tx: &mpsc::UnboundedSender<Action>) {
    let action = match target.status(r).await {
        Ok(status) => Action::ContainerObserved {
            resource: r.name.clone(),
            status,
            at: crate::clock::now(),
        },
        Err(e) => Action::Log {
            resource: Some(r.name.clone()),
            stream: Stream::Stderr,
            text: format!("reading the container's status: {e}"),
        },
    };
    let _ = tx.send(action);
}

async fn follow_logs(
    target: Arc<dyn DeployTarget>,
    (container, since): (UpdateTarget, i64),
    name: ResourceName,
    tx: mpsc::UnboundedSender<Action>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut lines = target.logs(&container, since);
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
