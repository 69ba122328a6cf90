//! What a resource's pods mean as a [`ContainerStatus`] (pure).
//!
//! The engine knows one container per resource; for Kubernetes that is the newest
//! pod that is not terminating (the one a rollout converges to), summarised: its
//! phase, the first waiting container's reason (init containers first, since they run
//! first), readiness as health, and restart counts. Kept free of I/O so every pod
//! shape is tested from JSON fixtures.

use k8s_openapi::api::core::v1::{ContainerStatus as K8sContainerStatus, Pod, PodStatus};

use crate::model::{ContainerState, ContainerStatus, Health};

/// The pod that stands for the resource: the newest by creation time (then by name,
/// so the choice is stable) among those not being deleted.
pub fn current_pod<'p>(pods: impl IntoIterator<Item = &'p Pod>) -> Option<&'p Pod> {
    pods.into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .max_by(|a, b| {
            let key = |p: &'p Pod| {
                (
                    p.metadata.creation_timestamp.clone(),
                    p.metadata.name.clone(),
                )
            };
            key(a).cmp(&key(b))
        })
}

/// The `id` a pod is reported under: `<namespace>/<name>`.
pub fn pod_id(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.name.as_deref().unwrap_or("")
    )
}

/// The Engine's id of a container the cluster runs through Docker
/// (`docker://<id>` in the pod's status).
pub fn docker_id(container_id: &str) -> Option<&str> {
    container_id
        .strip_prefix("docker://")
        .filter(|id| !id.is_empty())
}

/// `pod` as the engine sees a container.
pub fn pod_status(pod: &Pod) -> ContainerStatus {
    let empty = PodStatus::default();
    let status = pod.status.as_ref().unwrap_or(&empty);
    let state = pod_state(status);
    let health = match state {
        ContainerState::Running if all_ready(status) => Some(Health::Healthy),
        ContainerState::Running => Some(Health::Starting),
        _ => None,
    };
    ContainerStatus {
        id: pod_id(pod),
        state,
        health,
        started_at: started_at(status),
        restart_count: all_containers(status)
            .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
            .sum(),
        // Kubernetes restarts a container by creating a new one from the image.
        restart_loses_files: true,
    }
}

fn pod_state(status: &PodStatus) -> ContainerState {
    let phase = status.phase.as_deref().unwrap_or("Pending");
    match phase {
        "Succeeded" => ContainerState::Exited { code: 0 },
        "Failed" => ContainerState::Exited {
            code: failed_code(status),
        },
        "Running" => first_waiting(status).unwrap_or(ContainerState::Running),
        "Pending" => first_waiting(status).unwrap_or_else(|| not_started(status)),
        other => ContainerState::Waiting {
            reason: other.to_owned(),
            message: status.message.clone().unwrap_or_default(),
        },
    }
}

/// Init containers, then the pod's containers.
fn all_containers(status: &PodStatus) -> impl Iterator<Item = &K8sContainerStatus> {
    let init = status.init_container_statuses.iter().flatten();
    init.chain(status.container_statuses.iter().flatten())
}

fn first_waiting(status: &PodStatus) -> Option<ContainerState> {
    all_containers(status).find_map(|c| {
        let w = c.state.as_ref()?.waiting.as_ref()?;
        Some(ContainerState::Waiting {
            reason: w.reason.clone().unwrap_or_else(|| "Waiting".into()),
            message: w.message.clone().unwrap_or_default(),
        })
    })
}

/// A pending pod with no waiting container: not scheduled yet (the scheduler's
/// reason, such as `Unschedulable`, when it gave one).
fn not_started(status: &PodStatus) -> ContainerState {
    let unscheduled = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False");
    match unscheduled {
        Some(c) => ContainerState::Waiting {
            reason: c.reason.clone().unwrap_or_else(|| "Pending".into()),
            message: c.message.clone().unwrap_or_default(),
        },
        None => ContainerState::Waiting {
            reason: status.reason.clone().unwrap_or_else(|| "Pending".into()),
            message: status.message.clone().unwrap_or_default(),
        },
    }
}

/// The exit code of the first container that failed (1 when none says).
fn failed_code(status: &PodStatus) -> i64 {
    all_containers(status)
        .filter_map(|c| c.state.as_ref()?.terminated.as_ref())
        .map(|t| i64::from(t.exit_code))
        .find(|code| *code != 0)
        .unwrap_or(1)
}

fn all_ready(status: &PodStatus) -> bool {
    let containers = status.container_statuses.as_deref().unwrap_or(&[]);
    !containers.is_empty() && containers.iter().all(|c| c.ready)
}

/// The start time of each container, joined: it changes whenever one (re)starts.
fn started_at(status: &PodStatus) -> String {
    let starts: Vec<String> = status
        .container_statuses
        .iter()
        .flatten()
        .map(|c| {
            let state = c.state.as_ref();
            let last = c.last_state.as_ref().and_then(|s| s.terminated.as_ref());
            let t = state
                .and_then(|s| s.running.as_ref().and_then(|r| r.started_at.as_ref()))
                .or_else(|| state.and_then(|s| s.terminated.as_ref()?.started_at.as_ref()))
                .or_else(|| last.and_then(|t| t.started_at.as_ref()));
            t.map(|t| t.0.to_string()).unwrap_or_default()
        })
        .collect();
    starts.join(",")
}

#[cfg(test)]
mod tests;
