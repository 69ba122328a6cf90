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
    /// Host ports the service publishes: apart from the resource's `links`, as in
    /// Tilt's model; the views show them as endpoints unless `infer_links` is off.
    pub published_ports: Vec<u16>,
    /// `dc_resource(infer_links=)`: show the published ports as endpoints.
    pub infer_links: bool,
}

impl ComposeService {
    /// `http://localhost:PORT/` per published port, unless `infer_links=False`.
    pub fn port_urls(&self) -> Vec<String> {
        if !self.infer_links {
            return Vec::new();
        }
        self.published_ports
            .iter()
            .map(|p| format!("http://localhost:{p}/"))
            .collect()
    }
}
