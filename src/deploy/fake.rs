//! A hand-written [`DeployTarget`] for engine tests: deploys are recorded and make a
//! new running "container" per call, failures and container states are scripted, and
//! every status change is announced to the engine's watch, as a real target's events
//! would. It deploys [`crate::model::TargetResource`]s registered under any name, so
//! a test can add a second kind of deploy target without touching the engine.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::mpsc;

use super::{Change, DeployTarget, TargetError};
use crate::liveupdate::{ContainerUpdater, FakeUpdater, UpdateTarget};
use crate::model::{ContainerState, ContainerStatus, Health, Resource, ResourceName, Stream};
use crate::process::LineSink;

/// One call made to a [`FakeTarget`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetCall {
    Deploy {
        resource: ResourceName,
        images: BTreeMap<String, String>,
    },
    Remove {
        resource: ResourceName,
    },
}

/// A scripted failure of a deploy, as a target would report it.
#[derive(Debug, thiserror::Error)]
#[error("fake deploy of {resource} failed: {why}")]
pub struct FakeDeployError {
    pub resource: ResourceName,
    pub why: String,
}

#[derive(Default)]
struct State {
    calls: Vec<TargetCall>,
    running: BTreeMap<ResourceName, ContainerStatus>,
    failing: BTreeSet<ResourceName>,
    /// Resources whose new containers report a healthcheck that starts as `Starting`.
    health_checked: BTreeSet<ResourceName>,
    logs: BTreeMap<String, Vec<(Stream, String)>>,
    started: u64,
    watchers: Vec<mpsc::UnboundedSender<ResourceName>>,
}

#[derive(Clone)]
pub struct FakeTarget {
    state: Arc<Mutex<State>>,
    updater: FakeUpdater,
}

impl FakeTarget {
    pub fn new(updater: FakeUpdater) -> Self {
        FakeTarget {
            state: Arc::default(),
            updater,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock already failed; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<TargetCall> {
        self.lock().calls.clone()
    }

    /// Makes deploys of `resource` fail (`failing = true`) or succeed again.
    pub fn fail_deploy(&self, resource: &str, failing: bool) {
        let mut st = self.lock();
        let name = ResourceName::from(resource);
        if failing {
            st.failing.insert(name);
        } else {
            st.failing.remove(&name);
        }
    }

    /// New containers of `resource` start with health `Starting` until set otherwise.
    pub fn with_healthcheck(&self, resource: &str) {
        self.lock().health_checked.insert(resource.into());
    }

    /// Lines the next log follower of `container` gets.
    pub fn set_logs(&self, container: &str, lines: Vec<(Stream, String)>) {
        self.lock().logs.insert(container.to_owned(), lines);
    }

    /// The container `resource` runs now.
    pub fn current(&self, resource: &str) -> Option<ContainerStatus> {
        self.lock()
            .running
            .get(&ResourceName::from(resource))
            .cloned()
    }

    /// Changes what runs for `resource` (a crash, a health change) and tells the watch.
    pub fn set_status(&self, resource: &str, status: Option<ContainerStatus>) {
        let name = ResourceName::from(resource);
        let mut st = self.lock();
        match status {
            Some(s) => st.running.insert(name.clone(), s),
            None => st.running.remove(&name),
        };
        st.watchers.retain(|w| w.send(name.clone()).is_ok());
    }

    /// Sets the health of `resource`'s container, keeping the rest.
    pub fn set_health(&self, resource: &str, health: Option<Health>) {
        if let Some(mut s) = self.current(resource) {
            s.health = health;
            self.set_status(resource, Some(s));
        }
    }

    /// Makes `resource`'s container exit with `code`.
    pub fn exit(&self, resource: &str, code: i64) {
        if let Some(mut s) = self.current(resource) {
            s.state = ContainerState::Exited { code };
            self.set_status(resource, Some(s));
        }
    }
}

impl DeployTarget for FakeTarget {
    fn deploy<'a>(
        &'a self,
        resource: &'a Resource,
        images: &'a BTreeMap<String, String>,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        let name = resource.name.clone();
        let started = {
            let mut st = self.lock();
            st.calls.push(TargetCall::Deploy {
                resource: name.clone(),
                images: images.clone(),
            });
            if st.failing.contains(&name) {
                None
            } else {
                st.started += 1;
                Some((st.started, st.health_checked.contains(&name)))
            }
        };
        Box::pin(async move {
            let Some((n, checked)) = started else {
                log(Stream::Stderr, format!("fake: deploy of {name} fails"));
                return Err(TargetError::failed(FakeDeployError {
                    resource: name,
                    why: "scripted failure".into(),
                }));
            };
            log(Stream::Stdout, format!("fake: deployed {name}"));
            let status = ContainerStatus {
                id: format!("fake-{name}-{n}"),
                state: ContainerState::Running,
                health: checked.then_some(Health::Starting),
                started_at: format!("started-{n}"),
                restart_count: 0,
                restart_loses_files: false,
            };
            self.set_status(name.as_str(), Some(status));
            Ok(())
        })
    }

    fn status<'a>(
        &'a self,
        resource: &'a Resource,
    ) -> BoxFuture<'a, Result<Option<ContainerStatus>, TargetError>> {
        let status = self.lock().running.get(&resource.name).cloned();
        Box::pin(async move { Ok(status) })
    }

    fn watch(&self, resources: &[Resource]) -> BoxStream<'static, Change> {
        let mine: BTreeSet<ResourceName> = resources.iter().map(|r| r.name.clone()).collect();
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().watchers.push(tx);
        stream::unfold(rx, |mut rx| async move {
            let name = rx.recv().await?;
            Some((name, rx))
        })
        .filter(move |n| std::future::ready(mine.contains(n)))
        .map(Change::Resource)
        .boxed()
    }

    fn logs(
        &self,
        container: &UpdateTarget,
        _since_unix: i64,
    ) -> BoxStream<'static, Result<(Stream, String), TargetError>> {
        let lines = self
            .lock()
            .logs
            .remove(container.container_id())
            .unwrap_or_default();
        // Like a running container's log: the lines, then it stays open.
        stream::iter(lines.into_iter().map(Ok))
            .chain(stream::pending())
            .boxed()
    }

    fn remove<'a>(
        &'a self,
        resource: &'a Resource,
        _log: LineSink,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        self.lock().calls.push(TargetCall::Remove {
            resource: resource.name.clone(),
        });
        self.set_status(resource.name.as_str(), None);
        Box::pin(async { Ok(()) })
    }

    fn updater(&self) -> Arc<dyn ContainerUpdater> {
        Arc::new(self.updater.clone())
    }
}
