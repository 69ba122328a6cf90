//! Docker Compose: a project (its files, as the compose tool normalized them) and the
//! services that became resources.

use std::path::PathBuf;

/// One `docker_compose(...)` call, after the compose tool resolved it.
#[derive(Debug, Clone, PartialEq)]
pub struct ComposeProject {
    /// `-p`: `project_name=`, else the directory name of the first file (as compose does).
    pub name: String,
    /// `--project-directory`: the directory of the first compose file.
    pub project_dir: PathBuf,
    /// Absolute paths of the compose files (watched: a change reloads the Tiltfile).
    pub files: Vec<PathBuf>,
    pub env_file: Option<PathBuf>,
    pub profiles: Vec<String>,
    /// `wait=True`: readiness waits for health (stilt waits on health anyway when the
    /// service has a healthcheck).
    pub wait: bool,
    /// The normalized model printed by `docker compose config`, as JSON. Deploys feed a
    /// copy of it (with stilt's image tags) to the compose tool on stdin.
    pub model: serde_json::Value,
}

/// A compose service that is a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ComposeService {
    pub project: ComposeProject,
    pub service: String,
    /// The `image_ref` of the ImageSpec stilt builds for this service, if any
    /// (a `docker_build` whose ref equals the service's `image:`, or its `build:` section).
    pub image: Option<String>,
    pub has_healthcheck: bool,
    /// Host ports the service publishes (they become links).
    pub published_ports: Vec<u16>,
}
