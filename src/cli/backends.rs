//! The composition root of the Docker side: one connection to the Docker Engine,
//! shared by the image builder, the live updater and the compose runtime, and every
//! deploy target registered under the name resources give it.

use std::sync::Arc;

use crate::build::docker::DockerBuilder;
use crate::deploy::compose::cli::ComposeCli;
use crate::deploy::compose::runtime::DockerRuntime;
use crate::deploy::compose::target::ComposeTarget;
use crate::deploy::{Backends, Connect};
use crate::liveupdate::DockerUpdater;
use crate::model::COMPOSE_TARGET;

/// The local Docker Engine (`DOCKER_HOST` or the default socket) and the compose
/// tool found on the PATH; connected when a resource first needs them.
pub fn real() -> Connect {
    Arc::new(connect)
}

fn connect() -> Result<Backends, String> {
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
    Ok(backends)
}
