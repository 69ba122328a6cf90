//! Docker Compose as a [`DeployTarget`]: deploys through the compose tool
//! ([`ComposeDeployer`]), reads containers, events and logs through the Engine
//! ([`ContainerRuntime`]) and patches containers with a [`ContainerUpdater`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt};

use super::{ComposeDeployer, ContainerRuntime};
use crate::deploy::{Change, DeployTarget, TargetError};
use crate::liveupdate::{ContainerUpdater, UpdateTarget};
use crate::model::{
    COMPOSE_TARGET, ComposeService, ContainerStatus, Resource, ResourceName, Stream,
};
use crate::process::LineSink;

#[derive(Clone)]
pub struct ComposeTarget {
    compose: Arc<dyn ComposeDeployer>,
    runtime: Arc<dyn ContainerRuntime>,
    updater: Arc<dyn ContainerUpdater>,
}

impl ComposeTarget {
    pub fn new(
        compose: Arc<dyn ComposeDeployer>,
        runtime: Arc<dyn ContainerRuntime>,
        updater: Arc<dyn ContainerUpdater>,
    ) -> Self {
        ComposeTarget {
            compose,
            runtime,
            updater,
        }
    }
}

fn service(resource: &Resource) -> Result<&ComposeService, TargetError> {
    resource.compose().ok_or_else(|| TargetError::WrongKind {
        resource: resource.name.clone(),
        target: COMPOSE_TARGET,
    })
}

impl DeployTarget for ComposeTarget {
    fn deploy<'a>(
        &'a self,
        resource: &'a Resource,
        images: &'a BTreeMap<String, String>,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async move {
            let svc = service(resource)?;
            // The compose tool knows images by service: the service's own image.
            let by_service: BTreeMap<String, String> = svc
                .image
                .as_ref()
                .and_then(|i| images.get(i))
                .map(|tagged| (svc.service.clone(), tagged.clone()))
                .into_iter()
                .collect();
            self.compose
                .up(&svc.project, &svc.service, &by_service, log)
                .await
                .map_err(TargetError::failed)
        })
    }

    fn status<'a>(
        &'a self,
        resource: &'a Resource,
    ) -> BoxFuture<'a, Result<Option<ContainerStatus>, TargetError>> {
        Box::pin(async move {
            let svc = service(resource)?;
            self.runtime
                .status(&svc.project.name, &svc.service)
                .await
                .map_err(TargetError::failed)
        })
    }

    /// One Engine event stream per compose project, merged; each event names the
    /// resource of the service it is about.
    fn watch(&self, resources: &[Resource]) -> BoxStream<'static, Change> {
        let mut projects: HashMap<String, HashMap<String, ResourceName>> = HashMap::new();
        for r in resources {
            if let Some(svc) = r.compose() {
                projects
                    .entry(svc.project.name.clone())
                    .or_default()
                    .insert(svc.service.clone(), r.name.clone());
            }
        }
        let streams = projects.into_iter().map(|(project, services)| {
            self.runtime
                .events(&project)
                .filter_map(move |ev| {
                    let change = match ev {
                        Ok(ev) => services.get(&ev.service).cloned().map(Change::Resource),
                        Err(e) => Some(Change::Error(TargetError::failed(e))),
                    };
                    std::future::ready(change)
                })
                .boxed()
        });
        stream::select_all(streams).boxed()
    }

    fn logs(
        &self,
        container: &UpdateTarget,
        since_unix: i64,
    ) -> BoxStream<'static, Result<(Stream, String), TargetError>> {
        self.runtime
            .logs(container.container_id(), since_unix)
            .map(|line| line.map_err(TargetError::failed))
            .boxed()
    }

    fn remove<'a>(
        &'a self,
        resource: &'a Resource,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async move {
            let svc = service(resource)?;
            self.compose
                .rm(&svc.project, &svc.service, log)
                .await
                .map_err(TargetError::failed)
        })
    }

    fn updater(&self) -> Arc<dyn ContainerUpdater> {
        self.updater.clone()
    }
}
