//! Reducer steps for images and deployed containers: what was built,
//! what was deployed or live-updated, and what the Engine says about containers.

use std::path::PathBuf;
use std::time::Instant;

use super::{queue, runtime_log, settle_readiness};
use crate::model::{ContainerState, ContainerStatus, Health, ResourceName};
use crate::store::state::{EngineState, RunReason, UpdatePhase};

/// A full deploy: the image holds every file now, so nothing needs re-syncing, and
/// the next container observed is the one this deploy made.
pub(super) fn deployed(state: &mut EngineState, name: &ResourceName) {
    if let Some(c) = state
        .resources
        .get_mut(name)
        .and_then(|r| r.containers_mut())
    {
        c.synced.clear();
        c.synced_content.clear();
        c.deployed_id = None;
    }
}

pub(super) fn live_updated(
    state: &mut EngineState,
    name: &ResourceName,
    container: String,
    files: Vec<PathBuf>,
    content: Vec<(PathBuf, String)>,
) {
    if let Some(c) = state
        .resources
        .get_mut(name)
        .and_then(|r| r.containers_mut())
    {
        if c.deployed_id.as_deref() != Some(container.as_str()) {
            c.synced_content.clear();
        }
        c.synced.extend(files);
        c.synced_content.extend(content);
        c.deployed_id = Some(container);
    }
}

pub(super) fn container_observed(
    state: &mut EngineState,
    name: &ResourceName,
    status: Option<ContainerStatus>,
    at: Instant,
) {
    let Some(r) = state.resources.get_mut(name) else {
        return;
    };
    let ours = matches!(r.update, UpdatePhase::Running(_));
    let disabled = r.disabled;
    let Some(c) = r.containers_mut() else {
        return;
    };
    let old = c.status.take();
    let note = describe_change(old.as_ref(), status.as_ref());
    // The same container started again from its image (a Kubernetes restart): what
    // was synced into it is gone.
    let restarted_fresh = match (&old, &status) {
        (Some(o), Some(n)) => {
            n.restart_loses_files
                && o.id == n.id
                && o.started_at != n.started_at
                && n.state == ContainerState::Running
        }
        _ => false,
    };
    let new_running = status
        .as_ref()
        .filter(|s| s.state == ContainerState::Running)
        .map(|s| s.id.clone());
    c.status = status;
    let mut replaced = None;
    if let Some(id) = new_running {
        match &c.deployed_id {
            None => c.deployed_id = Some(id),
            Some(known) if *known != id => {
                if !ours && !c.synced.is_empty() && !disabled {
                    replaced = Some(c.synced.clone());
                }
                // A new container holds the image's files, not what was synced.
                c.synced_content.clear();
                c.deployed_id = Some(id);
            }
            Some(_) if restarted_fresh => {
                if !ours && !c.synced.is_empty() && !disabled {
                    replaced = Some(c.synced.clone());
                }
                c.synced_content.clear();
            }
            Some(_) => {}
        }
    }
    if let Some(files) = replaced {
        r.pending_files.extend(files.iter().cloned());
        queue(r, RunReason::ContainerReplaced { files: files.len() }, at);
    }
    settle_readiness(r);
    if let Some(note) = note {
        runtime_log(state, name, note);
    }
}

/// A log line when the container's lifecycle visibly changed.
fn describe_change(old: Option<&ContainerStatus>, new: Option<&ContainerStatus>) -> Option<String> {
    let summary = |s: &ContainerStatus| {
        (
            s.id.clone(),
            s.state.clone(),
            s.health,
            s.started_at.clone(),
        )
    };
    if old.map(summary) == new.map(summary) {
        return None;
    }
    let Some(s) = new else {
        return Some("container removed".into());
    };
    let who = match s.id.split_once('/') {
        Some((_, pod)) => format!("pod {pod}"),
        None => format!("container {}", s.id.chars().take(12).collect::<String>()),
    };
    let what = match (&s.state, s.health) {
        (ContainerState::Waiting { reason, message }, _) if message.is_empty() => {
            format!("waiting: {reason}")
        }
        (ContainerState::Waiting { reason, message }, _) => format!("waiting: {reason}: {message}"),
        (ContainerState::Running, Some(Health::Starting)) => "running, health: starting".into(),
        (ContainerState::Running, Some(Health::Healthy)) => "running, healthy".into(),
        (ContainerState::Running, Some(Health::Unhealthy)) => "running, UNHEALTHY".into(),
        (ContainerState::Running, None) => "running".into(),
        (ContainerState::Exited { code }, _) => format!("exited with code {code}"),
        (other, _) => format!("{other:?}").to_lowercase(),
    };
    Some(format!("{who}: {what}"))
}
