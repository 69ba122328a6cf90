//! Reducer steps for a `serve_cmd`: each report carries the generation of the process
//! it is about, so a late report about a replaced server is ignored.

use std::time::Instant;

use super::{runtime_log, settle_readiness};
use crate::model::Exit;
use crate::model::ResourceName;
use crate::store::state::{EngineState, ResourceState, ServePhase};

fn current<'s>(
    state: &'s mut EngineState,
    name: &ResourceName,
    generation: u64,
) -> Option<&'s mut ResourceState> {
    state
        .resources
        .get_mut(name)
        .filter(|r| r.serve_generation == generation)
}

pub(super) fn requested(state: &mut EngineState, name: &ResourceName) {
    if let Some(r) = state.resources.get_mut(name) {
        r.serve_generation += 1;
        let generation = r.serve_generation;
        if let Some(serve) = r.serve_mut() {
            *serve = ServePhase::Starting { generation };
        }
    }
}

pub(super) fn started(
    state: &mut EngineState,
    name: &ResourceName,
    generation: u64,
    pid: Option<u32>,
    at: Instant,
) {
    if let Some(r) = current(state, name, generation) {
        let ready = r.spec.local().is_none_or(|l| l.readiness_probe.is_none());
        if let Some(serve) = r.serve_mut() {
            *serve = ServePhase::Running {
                generation,
                pid,
                since: at,
                ready,
            };
        }
        settle_readiness(r);
    }
}

pub(super) fn exited(
    state: &mut EngineState,
    name: &ResourceName,
    generation: u64,
    exit: Option<Exit>,
    error: Option<String>,
) {
    if let Some(serve) = current(state, name, generation).and_then(|r| r.serve_mut()) {
        *serve = ServePhase::Exited {
            generation,
            exit,
            error: error.clone(),
        };
        if let Some(e) = error {
            runtime_log(state, name, format!("✘ serve_cmd: {e}"));
        }
    }
}

pub(super) fn probed(state: &mut EngineState, name: &ResourceName, generation: u64, ready: bool) {
    if let Some(r) = current(state, name, generation)
        && let Some(ServePhase::Running { ready: was, .. }) = r.serve_mut()
    {
        let changed = *was != ready;
        *was = ready;
        settle_readiness(r);
        if changed {
            let msg = if ready {
                "readiness probe passed"
            } else {
                "readiness probe failing"
            };
            runtime_log(state, name, msg.to_owned());
        }
    }
}
