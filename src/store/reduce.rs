//! The reducer: applies one action to the state. Synchronous, no I/O, no clock.

mod container;
mod serve;

use std::time::Instant;

use super::action::Action;
use super::logs::{LogLine, LogSource};
use super::problem::{Problem, Severity};
use super::state::{
    EngineState, HISTORY, ResourceState, RunOutcome, RunReason, RunRecord, Runtime, SAMPLE,
    ServePhase, UpdatePhase,
};
use crate::model::Stream;
use crate::model::{Project, ResourceName, TriggerMode};

pub fn reduce(state: &mut EngineState, action: Action) {
    match action {
        Action::ConfigLoadStarted => {
            state.tiltfile.loading = true;
            state.tiltfile.reload_requested = false;
        }
        Action::ConfigLoaded {
            project,
            files_read,
            warnings,
            output,
            at,
        } => {
            config_loaded(state, *project, at);
            let t = &mut state.tiltfile;
            t.loading = false;
            t.loads += 1;
            t.error = None;
            t.files_read = files_read;
            t.warnings = warnings.clone();
            for line in output {
                tiltfile_log(state, Stream::Stdout, line);
            }
            for w in warnings {
                tiltfile_log(state, Stream::Stderr, format!("WARNING: {w}"));
            }
        }
        Action::ConfigFailed {
            error,
            files_read,
            output,
        } => {
            let t = &mut state.tiltfile;
            t.loading = false;
            t.loads += 1;
            for f in files_read {
                if !t.files_read.contains(&f) {
                    t.files_read.push(f);
                }
            }
            t.error = Some(error.clone());
            for line in output {
                tiltfile_log(state, Stream::Stdout, line);
            }
            tiltfile_log(state, Stream::Stderr, format!("Tiltfile error:\n{error}"));
        }
        Action::FilesChanged {
            by_resource,
            tiltfile_inputs,
            at,
        } => {
            if !tiltfile_inputs.is_empty() {
                state.tiltfile.reload_requested = true;
            }
            for (name, paths) in by_resource {
                files_changed(state, &name, paths, at);
            }
        }
        Action::Problem(p) => problem(state, p),
        Action::Trigger { resource, at } => {
            if let Some(r) = state.resources.get_mut(&resource).filter(|r| !r.disabled) {
                r.manual_changes = None;
                queue(r, RunReason::Triggered, at);
            }
        }
        Action::SetEnabled { resource, enabled } => {
            if let Some(r) = state.resources.get_mut(&resource) {
                r.user.enabled = Some(enabled);
                // SetEnabled carries no time: the run it queues has no `pending_since`,
                // which only orders it first among equals.
                set_enabled(r, enabled, None);
            }
        }
        Action::SetTriggerMode { resource, mode, at } => {
            if let Some(r) = state.resources.get_mut(&resource) {
                r.user.trigger_mode = Some(mode);
                if mode == TriggerMode::Auto
                    && let Some(reason) = r.manual_changes.take()
                {
                    queue(r, reason, at);
                }
            }
        }
        Action::RunStarted {
            resource,
            reason,
            at,
        } => run_started(state, &resource, reason, at),
        Action::RunFinished {
            resource,
            run,
            outcome,
            at,
        } => run_finished(state, &resource, run, outcome, at),
        Action::ServeRequested { resource } => serve::requested(state, &resource),
        Action::ServeStarted {
            resource,
            generation,
            pid,
            at,
        } => serve::started(state, &resource, generation, pid, at),
        Action::ServeExited {
            resource,
            generation,
            exit,
            error,
        } => serve::exited(state, &resource, generation, exit, error),
        Action::ProbeResult {
            resource,
            generation,
            ready,
        } => serve::probed(state, &resource, generation, ready),
        Action::Log {
            resource: Some(name),
            stream,
            text,
        } => push_log(state, Some(&name), stream, text, None),
        Action::Log {
            resource: None,
            stream,
            text,
        } => tiltfile_log(state, stream, text),
        Action::ImageBuildStarted { image_ref, tagged } => {
            state.images.entry(image_ref).or_default().building = Some(tagged);
        }
        Action::ImageBuilt { image_ref, tagged } => {
            let image = state.images.entry(image_ref).or_default();
            image.building = None;
            image.error = None;
            image.built = Some(tagged);
        }
        Action::ImageBuildFailed { image_ref, error } => {
            let image = state.images.entry(image_ref).or_default();
            image.building = None;
            image.error = Some(error);
        }
        Action::Deployed { resource } => container::deployed(state, &resource),
        Action::LiveUpdated {
            resource,
            container,
            files,
            content,
        } => container::live_updated(state, &resource, container, files, content),
        Action::ContainerObserved {
            resource,
            status,
            at,
        } => container::container_observed(state, &resource, status, at),
        Action::SetArgs { args } => {
            state.tiltfile.args = Some(args);
            state.tiltfile.reload_requested = true;
        }
        Action::Quit => state.quitting = true,
    }
}

/// Logs a problem where it belongs; a critical one is also kept for the UI header
/// and the ci verdict (once: a repeat of the same message is only logged).
fn problem(state: &mut EngineState, p: Problem) {
    let text = match p.severity {
        Severity::Critical => format!("ERROR: {}", p.message),
        _ => p.message.clone(),
    };
    match &p.resource {
        Some(name) => push_log(
            state,
            Some(name),
            Stream::Stderr,
            text,
            Some(LogSource::Runtime),
        ),
        None => tiltfile_log(state, Stream::Stderr, text),
    }
    if p.severity == Severity::Critical && !state.critical.iter().any(|c| c.message == p.message) {
        state.critical.push(p);
    }
}

pub(super) fn settle_readiness(r: &mut ResourceState) {
    if r.is_ready() {
        r.ever_ready = true;
        r.not_ready_since = None;
    }
}

/// Adds new resources, updates changed ones and drops removed ones.
fn config_loaded(state: &mut EngineState, project: Project, at: Instant) {
    let mut old = std::mem::take(&mut state.resources).into_map();
    let mut next = Vec::with_capacity(project.resources.len());
    for spec in &project.resources {
        let name = spec.name.clone();
        let r = match old.remove(&name) {
            None => {
                let mut r = ResourceState::new(spec.clone());
                if spec.auto_init {
                    queue(&mut r, RunReason::Initial, at);
                }
                r
            }
            Some(mut r) if r.spec != *spec => {
                let had_run = !r.history.is_empty() || r.pending.is_some();
                let runtime = Runtime::for_spec(spec);
                if !r.runtime.same_kind(&runtime) {
                    r.runtime = runtime;
                } else if let (Some(c), Runtime::Containers(new)) = (r.containers_mut(), &runtime) {
                    c.ignore_readiness = new.ignore_readiness;
                }
                r.spec = spec.clone();
                if had_run || spec.auto_init {
                    changed(&mut r, RunReason::ConfigChanged, at);
                }
                r
            }
            Some(r) => r,
        };
        let mut r = r;
        let enabled = r
            .user
            .enabled
            .unwrap_or_else(|| project.enabled.as_ref().is_none_or(|e| e.contains(&name)));
        set_enabled(&mut r, enabled, Some(at));
        next.push(r);
    }
    state.order = project.resources.iter().map(|r| r.name.clone()).collect();
    state.resources = super::resources::Resources::from_ordered(next);
    state.project = Some(project);
}

/// Disabling drops pending work and forgets the server (the engine stops it); enabling
/// a disabled resource that has run or would run at start runs it again, which also
/// restarts its server.
fn set_enabled(r: &mut ResourceState, enabled: bool, at: Option<Instant>) {
    let was_disabled = r.disabled;
    r.disabled = !enabled;
    if !enabled {
        r.pending = None;
        r.pending_since = None;
        r.pending_files.clear();
        if let Some(serve) = r.serve_mut().filter(|s| **s != ServePhase::NotStarted) {
            *serve = ServePhase::NotStarted;
            // A new generation, so the stopped server's exit report is ignored.
            r.serve_generation += 1;
        }
    } else if was_disabled && (r.spec.auto_init || !r.history.is_empty()) {
        let reason = if r.history.is_empty() {
            RunReason::Initial
        } else {
            RunReason::Triggered
        };
        match at {
            Some(at) => queue(r, reason, at),
            None => r.pending = Some(reason),
        }
    }
}

fn files_changed(
    state: &mut EngineState,
    name: &ResourceName,
    paths: Vec<std::path::PathBuf>,
    at: Instant,
) {
    let Some(r) = state.resources.get_mut(name).filter(|r| !r.disabled) else {
        return;
    };
    let count = paths.len();
    r.pending_files.extend(paths.iter().cloned());
    let sample = paths.into_iter().take(SAMPLE).collect();
    changed(r, RunReason::FilesChanged { count, sample }, at);
}

/// A change: queued at once in auto mode, held for a trigger in manual mode.
fn changed(r: &mut ResourceState, reason: RunReason, at: Instant) {
    match r.trigger_mode() {
        TriggerMode::Auto => queue(r, reason, at),
        TriggerMode::Manual => {
            r.manual_changes = Some(match r.manual_changes.take() {
                Some(old) => old.merge(reason),
                None => reason,
            });
        }
    }
}

pub(super) fn queue(r: &mut ResourceState, reason: RunReason, at: Instant) {
    r.pending = Some(match r.pending.take() {
        Some(old) => old.merge(reason),
        None => reason,
    });
    r.pending_since.get_or_insert(at);
}

fn run_started(state: &mut EngineState, name: &ResourceName, reason: RunReason, at: Instant) {
    let id = state.next_run;
    let base = state.base_dir();
    let Some(r) = state.resources.get_mut(name) else {
        return;
    };
    state.next_run += 1;
    r.update = UpdatePhase::Running(id);
    r.runs += 1;
    let number = r.runs;
    r.pending = None;
    r.pending_since = None;
    r.run_files = std::mem::take(&mut r.pending_files);
    // A running resource is not ready; the ci readiness timeout counts from here.
    r.not_ready_since.get_or_insert(at);
    let why = reason.describe(&base);
    r.history.push_front(RunRecord {
        id,
        number,
        reason,
        started: at,
        finished: None,
        outcome: None,
    });
    r.history.truncate(HISTORY);
    system_log(state, name, format!("▶ run #{number}: {why}"));
}

fn run_finished(
    state: &mut EngineState,
    name: &ResourceName,
    run: u64,
    outcome: RunOutcome,
    at: Instant,
) {
    let Some(r) = state
        .resources
        .get_mut(name)
        .filter(|r| r.running() == Some(run))
    else {
        return;
    };
    let mut took = None;
    let mut number = run;
    if let Some(rec) = r.history.iter_mut().find(|h| h.id == run) {
        number = rec.number;
        rec.finished = Some(at);
        rec.outcome = Some(outcome.clone());
        took = Some(at.saturating_duration_since(rec.started));
    }
    let succeeded = outcome == RunOutcome::Succeeded;
    if let Some(serve) = r.serve_mut().filter(|_| succeeded) {
        *serve = ServePhase::NotStarted;
    }
    r.update = UpdatePhase::Done(outcome.clone());
    settle_readiness(r);
    let took = took
        .map(|d| format!(" in {:.2}s", d.as_secs_f64()))
        .unwrap_or_default();
    let msg = match outcome {
        RunOutcome::Succeeded => format!("✔ run #{number} succeeded{took}"),
        // The first line: the rest of a long error (a build's failing step, the
        // compose tool's last lines) was streamed into this log just above.
        RunOutcome::Failed(e) => format!("✘ run #{number} failed{took}: {}", first_line(&e)),
        RunOutcome::LiveUpdateFailed(error) => {
            // The container could not be patched: a full rebuild is the way out.
            queue(
                r,
                RunReason::LiveUpdateFailed {
                    error: error.clone(),
                },
                at,
            );
            format!("live update failed: {error}; falling back to a full rebuild")
        }
    };
    system_log(state, name, msg);
}

/// The first non-empty line of a message.
pub fn first_line(text: &str) -> &str {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim_end()
}

/// stilt's own line about a run (build log).
pub(super) fn system_log(state: &mut EngineState, name: &ResourceName, text: String) {
    push_log(
        state,
        Some(name),
        Stream::System,
        text,
        Some(LogSource::Build),
    );
}

/// stilt's own line about a server or container (runtime log).
pub(super) fn runtime_log(state: &mut EngineState, name: &ResourceName, text: String) {
    push_log(
        state,
        Some(name),
        Stream::System,
        text,
        Some(LogSource::Runtime),
    );
}

fn tiltfile_log(state: &mut EngineState, stream: Stream, text: String) {
    push_log(state, None, stream, text, Some(LogSource::Build));
}

/// Output lines carry no source, so it is inferred: a line that arrives while a run is
/// in progress is the run's (its output is drained before `RunFinished`), and so is
/// every line of a resource with nothing running besides its runs; the rest came from
/// its server or container.
fn infer_source(r: &ResourceState) -> LogSource {
    let has_runtime = !matches!(r.runtime, Runtime::None);
    if r.running().is_some() || !has_runtime {
        LogSource::Build
    } else {
        LogSource::Runtime
    }
}

fn push_log(
    state: &mut EngineState,
    name: Option<&ResourceName>,
    stream: Stream,
    text: String,
    source: Option<LogSource>,
) {
    let cap = state.log_cap();
    let (buffer, source) = match name {
        Some(n) => match state.resources.get_mut(n) {
            Some(r) => {
                let source = source.unwrap_or_else(|| infer_source(r));
                (&mut r.logs, source)
            }
            None => return,
        },
        None => (&mut state.tiltfile.logs, LogSource::Build),
    };
    state.log_seq += 1;
    buffer.push(
        LogLine {
            seq: state.log_seq,
            stream,
            text,
            source,
        },
        cap,
    );
}
