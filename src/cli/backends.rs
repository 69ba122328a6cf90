//! The composition root of the Docker side: one connection to the Docker Engine,
//! shared by the image builder, the live updater and the compose runtime, and every
//! deploy target registered under the name resources give it.

use std::path::Path;
use std::sync::Arc;

use crate::build::docker::DockerBuilder;
use crate::deploy::compose::cli::ComposeCli;
use crate::deploy::compose::runtime::DockerRuntime;
use crate::deploy::compose::target::ComposeTarget;
use crate::deploy::k8s::K8sTarget;
use crate::deploy::{Backends, Connect};
use crate::liveupdate::DockerUpdater;
use crate::model::{COMPOSE_TARGET, K8S_TARGET, K8sSettings};

/// The local Docker Engine (`DOCKER_HOST` or the default socket) and the compose
/// tool found on the PATH; connected when a resource first needs them.
pub fn real(k8s: K8sSettings, tiltfile: &Path) -> Connect {
    let project_id = crate::instance::project_id(tiltfile);
    Arc::new(move || connect(&k8s, &project_id))
}

fn connect(k8s: &K8sSettings, project_id: &str) -> Result<Backends, String> {
    let docker = crate::docker::connect().map_err(|e| e.to_string())?;
    let backends = Backends::new(Arc::new(DockerBuilder::new(docker.clone())));
    let backends = match ComposeCli::detect() {
        Ok(compose) => {
            let compose = ComposeTarget::new(
                Arc::new(compose),
                Arc::new(DockerRuntime::new(docker.clone())),
                Arc::new(DockerUpdater::new(docker.clone())),
            );
            backends.with_target(COMPOSE_TARGET, Arc::new(compose))
        }
        Err(e) => backends.with_unavailable(COMPOSE_TARGET, e.to_string()),
    };
    // Built images go to the cluster in place when it runs on this Docker Engine.
    let backends = match K8sTarget::connect(k8s, project_id, Some(docker)) {
        Ok(t) => backends.with_target(K8S_TARGET, Arc::new(t)),
        Err(e) => backends.with_unavailable(K8S_TARGET, format!("Kubernetes: {e}")),
    };
    Ok(backends)
}
