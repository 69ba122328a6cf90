//! What to run next, and why everything else waits. Pure: a function of the state.

use std::fmt;

use crate::model::ResourceName;
use crate::store::{EngineState, ResourceState, RunOutcome, RunReason, ServePhase, UpdatePhase};

/// Why a resource is not running now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hold {
    Disabled,
    /// Changes are waiting; the resource is in manual trigger mode.
    ManualTrigger,
    /// auto_init=False and never triggered.
    NotInitialized,
    /// The Tiltfile is being (re)loaded; nothing starts until it is done.
    TiltfileLoading,
    /// A run is in progress; the new changes run after it.
    AlreadyRunning,
    /// resource_deps that have not been ready yet.
    WaitingOnDeps(Vec<ResourceName>),
    /// Local resources run one at a time unless allow_parallel=True.
    SerialLocal {
        running: ResourceName,
    },
    MaxParallel {
        limit: usize,
    },
}

impl fmt::Display for Hold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hold::Disabled => f.write_str("disabled"),
            Hold::ManualTrigger => f.write_str("changes waiting for a manual trigger"),
            Hold::NotInitialized => f.write_str("waiting for a trigger (auto_init=False)"),
            Hold::TiltfileLoading => f.write_str("waiting for the Tiltfile to load"),
            Hold::AlreadyRunning => f.write_str("queued behind its current run"),
            Hold::WaitingOnDeps(deps) => {
                let names: Vec<&str> = deps.iter().map(ResourceName::as_str).collect();
                write!(f, "waiting on {}", names.join(", "))
            }
            Hold::SerialLocal { running } => {
                write!(
                    f,
                    "queued: local resources run one at a time ({running} is running)"
                )
            }
            Hold::MaxParallel { limit } => {
                write!(f, "queued: max_parallel_updates={limit} reached")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    pub start: Vec<(ResourceName, RunReason)>,
    /// Servers to (re)start: their resource's run just succeeded.
    pub serve: Vec<ResourceName>,
    pub holds: Vec<(ResourceName, Hold)>,
}

impl Decision {
    pub fn hold_of(&self, name: &str) -> Option<&Hold> {
        self.holds
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, h)| h)
    }
}

/// Runs with no `cmd` (serve-only) are instant and never block others.
fn is_serial(r: &ResourceState) -> bool {
    r.spec
        .local()
        .is_some_and(|l| !l.allow_parallel && l.cmd.is_some())
}

pub fn schedule(state: &EngineState) -> Decision {
    let mut d = Decision::default();
    let limit = state
        .project
        .as_ref()
        .map_or(3, |p| p.settings.max_parallel_updates);
    let mut running: Vec<&ResourceState> =
        state.ordered().filter(|r| r.running().is_some()).collect();
    let mut candidates: Vec<(usize, &ResourceState)> = Vec::new();
    for (i, r) in state.ordered().enumerate() {
        if serve_due(r) {
            d.serve.push(r.name().clone());
        }
        match idle_hold(r) {
            Some(h) => d.holds.push((r.name().clone(), h)),
            None if r.pending.is_some() => candidates.push((i, r)),
            None => {}
        }
    }
    // Initial runs first (declaration order), then triggers, then the oldest change.
    candidates.sort_by_key(|(i, r)| {
        let class = match r.pending {
            Some(RunReason::Initial) => 0,
            Some(RunReason::Triggered) => 1,
            _ => 2,
        };
        (class, r.pending_since, *i)
    });
    for (_, r) in candidates {
        let hold = if state.tiltfile.loading || state.tiltfile.reload_requested {
            Some(Hold::TiltfileLoading)
        } else if r.running().is_some() {
            Some(Hold::AlreadyRunning)
        } else if let Some(deps) = unready_deps(state, r) {
            Some(Hold::WaitingOnDeps(deps))
        } else if let Some(busy) = serial_conflict(r, &running) {
            Some(Hold::SerialLocal {
                running: busy.name().clone(),
            })
        } else if running.len() >= limit {
            Some(Hold::MaxParallel { limit })
        } else {
            None
        };
        match hold {
            Some(h) => d.holds.push((r.name().clone(), h)),
            None => {
                let reason = r.pending.clone().unwrap_or(RunReason::Triggered);
                d.start.push((r.name().clone(), reason));
                running.push(r);
            }
        }
    }
    d
}

/// A `serve_cmd` starts (again) after each successful run of its resource.
fn serve_due(r: &ResourceState) -> bool {
    !r.disabled
        && r.serve() == Some(&ServePhase::NotStarted)
        && r.update == UpdatePhase::Done(RunOutcome::Succeeded)
}

/// Holds that apply to a resource with nothing pending.
fn idle_hold(r: &ResourceState) -> Option<Hold> {
    if r.disabled {
        return Some(Hold::Disabled);
    }
    if r.pending.is_some() {
        return None;
    }
    if r.manual_changes.is_some() {
        return Some(Hold::ManualTrigger);
    }
    if !r.spec.auto_init && r.history.is_empty() && r.update == UpdatePhase::Idle {
        return Some(Hold::NotInitialized);
    }
    None
}

fn unready_deps(state: &EngineState, r: &ResourceState) -> Option<Vec<ResourceName>> {
    let waiting: Vec<ResourceName> = r
        .spec
        .resource_deps
        .iter()
        .filter(|d| {
            state
                .resources
                .get(d)
                .is_some_and(|dep| !dep.ever_ready && !dep.disabled)
        })
        .cloned()
        .collect();
    (!waiting.is_empty()).then_some(waiting)
}

fn serial_conflict<'a>(
    r: &ResourceState,
    running: &[&'a ResourceState],
) -> Option<&'a ResourceState> {
    let me_serial = is_serial(r);
    running
        .iter()
        .filter(|other| other.spec.local().is_some_and(|l| l.cmd.is_some()))
        .find(|other| me_serial || is_serial(other))
        .copied()
        .filter(|_| r.spec.local().is_some_and(|l| l.cmd.is_some()))
}
