//! What the Engine says about a container: plain data reported by the runtime watcher.

/// One observation of a service's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerStatus {
    /// The target's id for it: a Docker container id, or `namespace/pod` for a
    /// Kubernetes pod (the views show `pod <name>` then).
    pub id: String,
    pub state: ContainerState,
    /// `None` when the container has no healthcheck.
    pub health: Option<Health>,
    /// The Engine's `State.StartedAt`: changes when the container (re)starts.
    pub started_at: String,
    pub restart_count: u32,
    /// A restart starts from the image again, losing live-updated files (Kubernetes
    /// restarts a container by creating a new one); Docker restarts keep them.
    pub restart_loses_files: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerState {
    Created,
    /// Not started yet or restarting after a crash; `reason` is the runtime's own
    /// word for why (Kubernetes: `ContainerCreating`, `CrashLoopBackOff`,
    /// `ErrImageNeverPull`, ...).
    Waiting {
        reason: String,
        message: String,
    },
    Running,
    Paused,
    Restarting,
    Exited {
        code: i64,
    },
    Removing,
    Dead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Starting,
    Healthy,
    Unhealthy,
}

/// Kubernetes waiting reasons that mean the container will not start by itself.
pub const FAILING_WAIT_REASONS: &[&str] = &[
    "CrashLoopBackOff",
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "ImageInspectError",
];

impl ContainerState {
    /// A waiting state that is a failure (the reason and message), not a step on
    /// the way to running.
    pub fn failing_wait(&self) -> Option<String> {
        match self {
            ContainerState::Waiting { reason, message }
                if FAILING_WAIT_REASONS.contains(&reason.as_str()) =>
            {
                Some(if message.is_empty() {
                    reason.clone()
                } else {
                    format!("{reason}: {message}")
                })
            }
            _ => None,
        }
    }
}
