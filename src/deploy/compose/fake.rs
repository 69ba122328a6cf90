//! Hand-written fakes of [`ComposeDeployer`] and [`ContainerRuntime`] for engine
//! tests: no Docker, no compose tool, every effect recorded or scripted.
//!
//! The two share state the way the real ones share the Engine: a successful
//! [`FakeCompose::up`] makes a new running container that [`FakeRuntime`] reports
//! (and announces with an event), `rm` and `down` make it disappear.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::mpsc;

use super::{ComposeDeployer, ComposeError, ContainerEvent, ContainerRuntime, RuntimeError};
use crate::model::{ComposeProject, ContainerState, ContainerStatus, Health};
use crate::process::{LineSink, Stream};

/// One call made to [`FakeCompose`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComposeCall {
    Up {
        project: String,
        service: String,
        images: BTreeMap<String, String>,
    },
    Rm {
        project: String,
        service: String,
    },
    Down {
        project: String,
        volumes: bool,
    },
}

#[derive(Default)]
struct ComposeState {
    calls: Vec<ComposeCall>,
    /// Services whose `up` fails (any project).
    failing: BTreeSet<String>,
    /// Numbers container ids and start times, so each `up` is a new container.
    started: u64,
}

/// Records calls; `up` starts a fake container in the paired [`FakeRuntime`].
#[derive(Clone)]
pub struct FakeCompose {
    state: Arc<Mutex<ComposeState>>,
    runtime: FakeRuntime,
}

impl FakeCompose {
    pub fn new(runtime: FakeRuntime) -> Self {
        FakeCompose {
            state: Arc::default(),
            runtime,
        }
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<ComposeCall> {
        lock(&self.state).calls.clone()
    }

    /// Makes `up` of `service` fail (`failing = true`) or succeed again.
    pub fn fail_up(&self, service: &str, failing: bool) {
        let mut st = lock(&self.state);
        if failing {
            st.failing.insert(service.to_owned());
        } else {
            st.failing.remove(service);
        }
    }

    /// Records the call; returns the new container's number, or `None` if scripted to fail.
    fn record_up(&self, call: ComposeCall, service: &str) -> Option<u64> {
        let mut st = lock(&self.state);
        st.calls.push(call);
        if st.failing.contains(service) {
            return None;
        }
        st.started += 1;
        Some(st.started)
    }
}

impl ComposeDeployer for FakeCompose {
    fn up<'a>(
        &'a self,
        project: &'a ComposeProject,
        service: &'a str,
        images: &'a BTreeMap<String, String>,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), ComposeError>> {
        let call = ComposeCall::Up {
            project: project.name.clone(),
            service: service.to_owned(),
            images: images.clone(),
        };
        let started = self.record_up(call, service);
        Box::pin(async move {
            let Some(n) = started else {
                log(Stream::Stderr, format!("fake: up of {service} fails"));
                return Err(ComposeError::Failed {
                    command: format!("fake up {service}"),
                    project: project.name.clone(),
                    service: Some(service.to_owned()),
                    exit: "exit code 1".to_owned(),
                    output: vec![format!("fake: up of {service} fails")],
                });
            };
            log(Stream::Stdout, format!("fake: started {service}"));
            let status = ContainerStatus {
                id: format!("fake-{service}-{n}"),
                state: ContainerState::Running,
                health: has_healthcheck(project, service).then_some(Health::Starting),
                started_at: format!("started-{n}"),
                restart_count: 0,
                restart_loses_files: false,
            };
            self.runtime
                .set_status(&project.name, service, Some(status));
            Ok(())
        })
    }

    fn rm<'a>(
        &'a self,
        project: &'a ComposeProject,
        service: &'a str,
        _log: LineSink,
    ) -> BoxFuture<'a, Result<(), ComposeError>> {
        lock(&self.state).calls.push(ComposeCall::Rm {
            project: project.name.clone(),
            service: service.to_owned(),
        });
        self.runtime.set_status(&project.name, service, None);
        Box::pin(async { Ok(()) })
    }

    fn down<'a>(
        &'a self,
        project: &'a ComposeProject,
        volumes: bool,
        _log: LineSink,
    ) -> BoxFuture<'a, Result<(), ComposeError>> {
        lock(&self.state).calls.push(ComposeCall::Down {
            project: project.name.clone(),
            volumes,
        });
        for service in self.runtime.services(&project.name) {
            self.runtime.set_status(&project.name, &service, None);
        }
        Box::pin(async { Ok(()) })
    }
}

/// A service with a `healthcheck` that is not `disable: true` starts unhealthy-yet.
fn has_healthcheck(project: &ComposeProject, service: &str) -> bool {
    let check = project
        .model
        .get("services")
        .and_then(|s| s.get(service))
        .and_then(|s| s.get("healthcheck"));
    check.is_some_and(|c| c.get("disable").and_then(serde_json::Value::as_bool) != Some(true))
}

type EventTx = mpsc::UnboundedSender<Result<ContainerEvent, RuntimeError>>;

#[derive(Default)]
struct RuntimeState {
    /// (project, service) -> the service's current container.
    statuses: BTreeMap<(String, String), ContainerStatus>,
    /// Open `events` streams: (project, sender).
    subscribers: Vec<(String, EventTx)>,
    /// Container id -> the lines its `logs` yields.
    logs: BTreeMap<String, Vec<(Stream, String)>>,
}

/// Container state set by the test (or by [`FakeCompose`]); changes emit events.
#[derive(Clone, Default)]
pub struct FakeRuntime {
    state: Arc<Mutex<RuntimeState>>,
}

impl FakeRuntime {
    pub fn new() -> Self {
        FakeRuntime::default()
    }

    /// Sets (or with `None` removes) a service's container and emits an event for it.
    pub fn set_status(&self, project: &str, service: &str, status: Option<ContainerStatus>) {
        let mut st = lock(&self.state);
        let key = (project.to_owned(), service.to_owned());
        match status {
            Some(s) => st.statuses.insert(key, s),
            None => st.statuses.remove(&key),
        };
        let event = ContainerEvent {
            service: service.to_owned(),
        };
        // Dropped streams are forgotten here.
        st.subscribers
            .retain(|(p, tx)| p != project || tx.send(Ok(event.clone())).is_ok());
    }

    /// The status `status` would report now.
    pub fn current(&self, project: &str, service: &str) -> Option<ContainerStatus> {
        let key = (project.to_owned(), service.to_owned());
        lock(&self.state).statuses.get(&key).cloned()
    }

    /// What `logs(container)` yields (then it ends, as if the container stopped).
    pub fn set_logs(&self, container: &str, lines: Vec<(Stream, String)>) {
        lock(&self.state).logs.insert(container.to_owned(), lines);
    }

    fn services(&self, project: &str) -> Vec<String> {
        let st = lock(&self.state);
        st.statuses
            .keys()
            .filter(|(p, _)| p == project)
            .map(|(_, s)| s.clone())
            .collect()
    }
}

impl ContainerRuntime for FakeRuntime {
    fn status<'a>(
        &'a self,
        project: &'a str,
        service: &'a str,
    ) -> BoxFuture<'a, Result<Option<ContainerStatus>, RuntimeError>> {
        let status = self.current(project, service);
        Box::pin(async move { Ok(status) })
    }

    fn events(&self, project: &str) -> BoxStream<'static, Result<ContainerEvent, RuntimeError>> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.state).subscribers.push((project.to_owned(), tx));
        stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|e| (e, rx)) }).boxed()
    }

    fn logs(
        &self,
        container: &str,
        _since_unix: i64,
    ) -> BoxStream<'static, Result<(Stream, String), RuntimeError>> {
        let lines = lock(&self.state)
            .logs
            .get(container)
            .cloned()
            .unwrap_or_default();
        stream::iter(lines.into_iter().map(Ok)).boxed()
    }
}

/// A panicking test thread must not hide the state from the others.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    fn project() -> ComposeProject {
        ComposeProject {
            name: "p".into(),
            project_dir: "/tmp".into(),
            files: vec![],
            env_file: None,
            profiles: vec![],
            wait: false,
            model: serde_json::json!({"services": {"web": {"healthcheck": {"test": ["CMD", "true"]}}}}),
        }
    }

    fn sink() -> LineSink {
        Arc::new(|_, _| {})
    }

    #[test]
    fn up_starts_a_new_container_and_emits_an_event() {
        let runtime = FakeRuntime::new();
        let compose = FakeCompose::new(runtime.clone());
        let mut events = runtime.events("p");
        let images = BTreeMap::new();
        let p = project();
        for _ in 0..2 {
            compose
                .up(&p, "web", &images, sink())
                .now_or_never()
                .map(Result::ok);
        }
        let s = runtime
            .current("p", "web")
            .map(|s| (s.id, s.state, s.health));
        assert_eq!(
            s,
            Some((
                "fake-web-2".into(),
                ContainerState::Running,
                Some(Health::Starting)
            ))
        );
        let first = events.next().now_or_never().flatten().map(Result::ok);
        assert_eq!(
            first,
            Some(Some(ContainerEvent {
                service: "web".into()
            }))
        );
    }

    #[test]
    fn scripted_failure_fails_up_and_starts_nothing() {
        let runtime = FakeRuntime::new();
        let compose = FakeCompose::new(runtime.clone());
        compose.fail_up("web", true);
        let images = BTreeMap::new();
        let p = project();
        let r = compose.up(&p, "web", &images, sink()).now_or_never();
        assert!(matches!(r, Some(Err(ComposeError::Failed { .. }))));
        assert_eq!(runtime.current("p", "web"), None);
        assert_eq!(compose.calls().len(), 1);
    }

    #[test]
    fn down_removes_every_container_of_the_project() {
        let runtime = FakeRuntime::new();
        let compose = FakeCompose::new(runtime.clone());
        let p = project();
        let images = BTreeMap::new();
        compose.up(&p, "web", &images, sink()).now_or_never();
        compose.down(&p, true, sink()).now_or_never();
        assert_eq!(runtime.current("p", "web"), None);
        assert_eq!(
            compose.calls().last(),
            Some(&ComposeCall::Down {
                project: "p".into(),
                volumes: true
            })
        );
    }
}
