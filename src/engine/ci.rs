//! The `stilt ci` verdict: pure, over the state and the time.
//!
//! Fail at the first error (Tiltfile, run, server exit) or at a timeout; succeed when
//! every enabled resource is ready, skipping resources never run because of
//! auto_init=False. The summary says, one line per resource, what failed, what
//! waited and on what, and what was not ready.

use std::time::{Duration, Instant};

use super::schedule::{Decision, Hold};
use crate::store::{EngineState, ResourceState, ServePhase, UpdatePhase};

/// Tilt's words for a Tiltfile that declares no resource.
pub const NO_RESOURCES: &str =
    "No resources found. Check out https://docs.tilt.dev/tutorial.html to get started!";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Running,
    Success,
    Failure(String),
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub started: Instant,
    pub timeout: Option<Duration>,
    pub readiness_timeout: Option<Duration>,
    /// `ci_settings(k8s_grace_period=)`: how long a container waiting on an error
    /// (`CrashLoopBackOff`, ...) may still recover before `ci` fails.
    pub k8s_grace: Option<Duration>,
}

pub fn verdict(state: &EngineState, decision: &Decision, limits: &Limits, now: Instant) -> Verdict {
    if let Some(e) = &state.tiltfile.error {
        // The location and message; the snippet and traceback are in the log above.
        let first = crate::store::reduce::first_line(e);
        return Verdict::Failure(format!("Tiltfile failed to load:\n{first}"));
    }
    if let Some(p) = state.critical.first() {
        return Verdict::Failure(p.message.clone());
    }
    if state.project.is_none() {
        return timed_out(state, decision, limits, now).unwrap_or(Verdict::Running);
    }
    // As in Tilt, a Tiltfile that declares nothing fails rather than succeeding at once.
    if state.ordered().next().is_none() {
        return Verdict::Failure(NO_RESOURCES.into());
    }
    for r in state.ordered().filter(|r| !r.disabled) {
        if let Some(e) = r.error() {
            if in_grace(r, limits, now) {
                continue;
            }
            // The first line: the rest (a build's failing step, the compose tool's
            // output) was streamed into the resource's log above.
            let first = crate::store::reduce::first_line(&e);
            return Verdict::Failure(format!("{} failed: {first}", r.name()));
        }
        if let (Some(since), Some(limit)) = (r.not_ready_since, limits.readiness_timeout)
            && now.saturating_duration_since(since) > limit
        {
            return Verdict::Failure(format!(
                "{} not ready after {}: {}",
                r.name(),
                human(limit),
                status(r, decision)
            ));
        }
    }
    if state.ordered().filter(|r| counts(r)).all(done) {
        return Verdict::Success;
    }
    timed_out(state, decision, limits, now).unwrap_or(Verdict::Running)
}

/// A container waiting on an error within the grace period may still recover.
fn in_grace(r: &ResourceState, limits: &Limits, now: Instant) -> bool {
    let (Some(grace), Some(since)) = (limits.k8s_grace, r.not_ready_since) else {
        return false;
    };
    r.runtime_wait_error().is_some() && now.saturating_duration_since(since) <= grace
}

fn timed_out(state: &EngineState, d: &Decision, limits: &Limits, now: Instant) -> Option<Verdict> {
    let limit = limits.timeout?;
    if now.saturating_duration_since(limits.started) < limit {
        return None;
    }
    let mut lines = vec![format!("timed out after {}", human(limit))];
    if state.tiltfile.loading {
        lines.push(format!("  {:<24} still loading", "(Tiltfile)"));
    }
    lines.extend(summary(state, d));
    Some(Verdict::Failure(lines.join("\n")))
}

/// Resources the verdict waits for: enabled, and not skipped by auto_init=False.
fn counts(r: &ResourceState) -> bool {
    let never_triggered = r.update == UpdatePhase::Idle && r.pending.is_none() && !r.spec.auto_init;
    !r.disabled && !never_triggered
}

fn done(r: &ResourceState) -> bool {
    r.pending.is_none() && r.running().is_none() && r.is_ready()
}

/// One line per resource: ok, failed, waiting (on what) or not ready.
pub fn summary(state: &EngineState, d: &Decision) -> Vec<String> {
    state
        .ordered()
        .map(|r| format!("  {:<24} {}", r.name().as_str(), status(r, d)))
        .collect()
}

pub fn status(r: &ResourceState, d: &Decision) -> String {
    if r.disabled {
        return "disabled".into();
    }
    if !counts(r) {
        return "skipped (auto_init=False, never triggered)".into();
    }
    if let Some(e) = r.error() {
        // One line per resource: the whole error is in the headline and the log.
        return format!("error: {}", crate::store::reduce::first_line(&e));
    }
    if r.running().is_some() {
        return "running".into();
    }
    if let Some(h) = d.hold_of(r.name().as_str()) {
        return match h {
            Hold::WaitingOnDeps(_) | Hold::SerialLocal { .. } | Hold::MaxParallel { .. } => {
                h.to_string()
            }
            other => format!("waiting: {other}"),
        };
    }
    match r.serve() {
        Some(ServePhase::Running { ready: false, .. }) => {
            "not ready: readiness probe has not passed".into()
        }
        Some(ServePhase::Starting { .. } | ServePhase::NotStarted) if done_cmd(r) => {
            "not ready: serve_cmd starting".into()
        }
        _ if r.is_ready() => "ok".into(),
        _ => "pending".into(),
    }
}

fn done_cmd(r: &ResourceState) -> bool {
    matches!(r.update, UpdatePhase::Done(_))
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{}ms", d.as_millis()),
        1..=119 => format!("{s}s"),
        _ if s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{}m{}s", s / 60, s % 60),
    }
}
