//! Streaming output: every new log line, prefixed with its resource, plus hold changes.

use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

use crate::engine::View;
use crate::engine::schedule::{Decision, Hold};
use crate::process::Stream;
use crate::store::{EngineState, LogLine};

const TILTFILE: &str = "(Tiltfile)";

pub struct StreamView<W: Write + Send> {
    out: W,
    last_seq: u64,
    /// Per held resource: what its hold waits for (see [`class_of`]) and the turn it
    /// was last seen held.
    holds: HashMap<String, (u64, u64)>,
    turn: u64,
    width: usize,
}

impl<W: Write + Send> StreamView<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            last_seq: 0,
            holds: HashMap::new(),
            turn: 0,
            width: TILTFILE.len(),
        }
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    pub fn out_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Prints what is new since the last call.
    pub fn print_new(&mut self, state: &EngineState, decision: &Decision) {
        self.width = state
            .order
            .iter()
            .map(|n| n.as_str().len())
            .chain([self.width])
            .max()
            .unwrap_or(10)
            .min(32);
        let mut lines: Vec<(&str, &LogLine)> = state
            .tiltfile
            .logs
            .since(self.last_seq)
            .map(|l| (TILTFILE, l))
            .collect();
        for r in state.ordered() {
            lines.extend(r.logs.since(self.last_seq).map(|l| (r.name().as_str(), l)));
        }
        lines.sort_by_key(|(_, l)| l.seq);
        // Every line has the next sequence number: a gap is lines a capped buffer
        // evicted before they could be printed. Say so rather than lose them silently.
        let missing = state
            .log_seq
            .saturating_sub(self.last_seq)
            .saturating_sub(lines.len() as u64);
        if missing > 0 {
            let _ = writeln!(
                self.out,
                "{TILTFILE:>w$} │ • {missing} log lines were dropped before they could be printed \
                 (each resource keeps its last {} bytes)",
                state.log_cap(),
                w = self.width
            );
        }
        for (name, line) in &lines {
            let mark = match line.stream {
                Stream::System => "• ",
                Stream::Stderr | Stream::Stdout => "",
            };
            let _ = writeln!(self.out, "{name:>w$} │ {mark}{}", line.text, w = self.width);
        }
        self.last_seq = self.last_seq.max(state.log_seq);
        self.print_holds(decision);
        let _ = self.out.flush();
    }

    /// A hold is printed when it starts or changes what it waits for, so "waiting on
    /// db" shows once, and a queue behind serial runs shows once per resource, not
    /// again each time another resource takes its turn. Cost: one pass over the
    /// holds, with no allocation unless something is printed.
    fn print_holds(&mut self, decision: &Decision) {
        self.turn += 1;
        for (name, hold) in &decision.holds {
            let class = class_of(hold);
            match self.holds.get_mut(name.as_str()) {
                Some((seen, turn)) => {
                    *turn = self.turn;
                    if *seen == class {
                        continue;
                    }
                    *seen = class;
                }
                None => {
                    self.holds
                        .insert(name.as_str().to_owned(), (class, self.turn));
                }
            }
            let _ = writeln!(self.out, "{name:>w$} │ • {hold}", w = self.width);
        }
        // A resource no longer held prints its next hold again.
        if self.holds.len() > decision.holds.len() {
            let turn = self.turn;
            self.holds.retain(|_, (_, t)| *t == turn);
        }
    }
}

impl<W: Write + Send> View for StreamView<W> {
    fn update(&mut self, state: &EngineState, decision: &Decision, _now: Instant) -> Option<i32> {
        self.print_new(state, decision);
        None
    }

    fn finish(&mut self, state: &EngineState, decision: &Decision) {
        self.print_new(state, decision);
    }
}

/// What a hold waits for, as a number to compare: its kind, and for a wait on
/// dependencies which ones. Which resource holds a serial queue or the parallel cap
/// does not count: that changes with every run.
fn class_of(hold: &Hold) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::mem::discriminant(hold).hash(&mut h);
    match hold {
        Hold::WaitingOnDeps(deps) => deps.hash(&mut h),
        Hold::MaxParallel { limit } => limit.hash(&mut h),
        _ => {}
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::engine::schedule::schedule;
    use crate::model::{Cmd, LocalSpec, Project, Resource, ResourceKind, TriggerMode};
    use crate::store::{Action, RunOutcome, reduce};

    fn serial(name: &str) -> Resource {
        Resource {
            name: name.into(),
            labels: vec![],
            links: vec![],
            resource_deps: vec![],
            trigger_mode: TriggerMode::Auto,
            auto_init: true,
            kind: ResourceKind::Local(LocalSpec {
                cmd: Some(Cmd::Shell("true".into())),
                ..LocalSpec::default()
            }),
        }
    }

    /// Starts what the scheduler says and shows the turn to the view.
    fn turn(state: &mut EngineState, view: &mut StreamView<Vec<u8>>, at: Instant) {
        let d = schedule(state);
        for (name, reason) in d.start {
            let run = state.next_run;
            reduce(
                state,
                Action::RunStarted {
                    resource: name.clone(),
                    reason,
                    at,
                },
            );
            view.update(state, &schedule(state), at);
            reduce(
                state,
                Action::RunFinished {
                    resource: name,
                    run,
                    outcome: RunOutcome::Succeeded,
                    at,
                },
            );
        }
    }

    #[test]
    fn a_queue_behind_serial_runs_is_printed_once_per_resource_not_once_per_run() {
        let t0 = Instant::now();
        let mut state = EngineState::new("/p/Tiltfile".into());
        let project = Project {
            tiltfile: "/p/Tiltfile".into(),
            resources: ["a", "b", "c", "d"].map(serial).to_vec(),
            ..Project::default()
        };
        reduce(&mut state, Action::ConfigLoadStarted);
        reduce(
            &mut state,
            Action::ConfigLoaded {
                project: Box::new(project),
                files_read: vec![],
                warnings: vec![],
                output: vec![],
                at: t0,
            },
        );
        let mut view = StreamView::new(Vec::new());
        for _ in 0..4 {
            turn(&mut state, &mut view, t0);
        }
        let out = String::from_utf8(view.into_inner()).expect("utf-8");
        let queued: Vec<&str> = out.lines().filter(|l| l.contains("queued")).collect();
        // b, c and d wait once each (not again as a, then b, then c take their turn).
        assert_eq!(queued.len(), 3, "{out}");
    }
}
