//! The Docker-side systems the engine drives, behind their traits, and the lazy
//! connection to them: a project with no compose resource never talks to Docker,
//! and a Docker Engine that is down is an error on the resources that need it,
//! not on stilt as a whole.

use std::sync::Arc;

use crate::build::ImageBuilder;
use crate::deploy::compose::{ComposeDeployer, ContainerRuntime};
use crate::liveupdate::ContainerUpdater;

#[derive(Clone)]
pub struct DockerDeps {
    pub builder: Arc<dyn ImageBuilder>,
    pub updater: Arc<dyn ContainerUpdater>,
    pub compose: Arc<dyn ComposeDeployer>,
    pub runtime: Arc<dyn ContainerRuntime>,
}

/// Connects to Docker (called when a resource first needs it; retried after a failure).
pub type DockerConnect = Arc<dyn Fn() -> Result<DockerDeps, String> + Send + Sync>;

/// The real systems: the local Docker Engine (`DOCKER_HOST` or the default socket)
/// and the compose tool found on the PATH.
pub fn connect_real() -> Result<DockerDeps, String> {
    let docker = bollard::Docker::connect_with_local_defaults().map_err(|e| {
        format!("cannot reach the Docker Engine: {e} (is Docker running? is DOCKER_HOST right?)")
    })?;
    let compose = crate::deploy::compose::cli::ComposeCli::detect().map_err(|e| e.to_string())?;
    Ok(DockerDeps {
        builder: Arc::new(crate::build::docker::DockerBuilder::new(docker.clone())),
        updater: Arc::new(crate::liveupdate::docker::DockerUpdater::new(
            docker.clone(),
        )),
        compose: Arc::new(compose),
        runtime: Arc::new(crate::deploy::compose::runtime::DockerRuntime::new(docker)),
    })
}
