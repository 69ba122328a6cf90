//! `stilt ci`: stream the logs, exit 0 when everything is ready, 1 at the first
//! failure or at the timeout, with one line per resource.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::engine::View;
use crate::engine::ci::{Limits, Verdict, summary, verdict};
use crate::engine::schedule::Decision;
use crate::store::EngineState;

use super::stream::StreamView;

pub struct CiView<W: Write + Send> {
    stream: StreamView<W>,
    started: Instant,
    /// `--timeout` from the command line; `None` = take `ci_settings` (default 30m).
    timeout_flag: Option<Option<Duration>>,
    wakeup: Option<Instant>,
    /// The verdict is printed: it is the last thing `ci` prints.
    decided: bool,
}

impl<W: Write + Send> CiView<W> {
    pub fn new(out: W, started: Instant, timeout_flag: Option<Option<Duration>>) -> Self {
        Self {
            stream: StreamView::new(out),
            started,
            timeout_flag,
            wakeup: None,
            decided: false,
        }
    }

    pub fn into_inner(self) -> W {
        self.stream.into_inner()
    }

    fn limits(&self, state: &EngineState) -> Limits {
        let settings = state
            .project
            .as_ref()
            .map(|p| p.settings.clone())
            .unwrap_or_default();
        Limits {
            started: self.started,
            timeout: self.timeout_flag.unwrap_or(settings.ci_timeout),
            readiness_timeout: settings.ci_readiness_timeout,
            k8s_grace: settings.k8s.grace_period,
        }
    }

    /// The next moment a timeout could fire.
    fn next_deadline(&self, state: &EngineState, l: &Limits) -> Option<Instant> {
        let global = l.timeout.map(|t| l.started + t);
        let grace = l.k8s_grace.and_then(|t| {
            state
                .ordered()
                .filter(|r| r.runtime_wait_error().is_some())
                .filter_map(|r| r.not_ready_since)
                .min()
                .map(|s| s + t + Duration::from_millis(1))
        });
        let readiness = l.readiness_timeout.and_then(|t| {
            state
                .ordered()
                .filter_map(|r| r.not_ready_since)
                .min()
                .map(|s| s + t + Duration::from_millis(1))
        });
        [global, readiness, grace].into_iter().flatten().min()
    }
}

impl<W: Write + Send> View for CiView<W> {
    fn update(&mut self, state: &EngineState, decision: &Decision, now: Instant) -> Option<i32> {
        self.stream.print_new(state, decision);
        let limits = self.limits(state);
        self.wakeup = self.next_deadline(state, &limits);
        let (code, headline) = match verdict(state, decision, &limits, now) {
            Verdict::Running => return None,
            Verdict::Success => (0, "SUCCESS: all resources are ready".to_owned()),
            Verdict::Failure(why) => (1, format!("ERROR: {}", crate::ansi::strip(&why))),
        };
        self.decided = true;
        let out = self.stream.out_mut();
        let _ = writeln!(out, "\n{headline}");
        for line in summary(state, decision) {
            let _ = writeln!(out, "{}", crate::ansi::strip(&line));
        }
        let _ = out.flush();
        Some(code)
    }

    fn next_wakeup(&self) -> Option<Instant> {
        self.wakeup
    }

    /// What shutdown logged (processes stopping, watches ending) is not printed after
    /// the verdict: the verdict and its summary are the end of the output.
    fn finish(&mut self, state: &EngineState, decision: &Decision) {
        if !self.decided {
            self.stream.print_new(state, decision);
        }
    }
}
