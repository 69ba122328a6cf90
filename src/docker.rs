//! The one way stilt connects to the Docker Engine: `DOCKER_HOST` when it is set
//! (unix socket, tcp or http), else the local socket. The composition root (`cli/`)
//! connects once and hands the client to the builder, the live updater and the
//! compose runtime, so they can never talk to two different Engines.

/// The Engine `connect` talks to, for messages.
pub fn host() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

#[derive(Debug, thiserror::Error)]
#[error(
    "cannot reach the Docker Engine at {host}: {source} (is Docker running? is DOCKER_HOST right?)"
)]
pub struct ConnectError {
    pub host: String,
    #[source]
    pub source: bollard::errors::Error,
}

/// A client for the Engine (no request is made yet: an Engine that is down is
/// reported by the first call that needs it).
pub fn connect() -> Result<bollard::Docker, ConnectError> {
    bollard::Docker::connect_with_local_defaults().map_err(|source| ConnectError {
        host: host(),
        source,
    })
}
