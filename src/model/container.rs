//! What the Engine says about a container: plain data reported by the runtime watcher.

/// One observation of a service's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerStatus {
    pub id: String,
    pub state: ContainerState,
    /// `None` when the container has no healthcheck.
    pub health: Option<Health>,
    /// The Engine's `State.StartedAt`: changes when the container (re)starts.
    pub started_at: String,
    pub restart_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerState {
    Created,
    Running,
    Paused,
    Restarting,
    Exited { code: i64 },
    Removing,
    Dead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Starting,
    Healthy,
    Unhealthy,
}
