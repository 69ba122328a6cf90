//! `stilt ci`'s reports for CI systems: `--output-junit FILE` (one JUnit test case
//! per resource: its runs, time, failure reason and the tail of its log) and
//! `--output-snapshot-on-exit FILE` (the final state as the API's session JSON).
//!
//! Both are written once, when the engine finishes, by [`Reports`], a view wrapped
//! around the CI reporter. The XML is built by a pure function over [`Case`]s, so
//! its shape is tested without running anything.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::engine::View;
use crate::engine::schedule::Decision;
use crate::store::EngineState;
use crate::store::view::{Now, snapshot};
use crate::web::api::{SessionInfo, session_json};

/// Log lines of a resource kept in its test case.
pub const LOG_TAIL: usize = 30;

/// One resource's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    pub runs: u64,
    pub time: Duration,
    /// Why it failed (or was not ready when the run ended); `None`: passed.
    pub failure: Option<String>,
    /// Disabled resources are reported as skipped.
    pub skipped: bool,
    pub log_tail: Vec<String>,
}

/// The cases of the final state: one per resource, plus one for a Tiltfile that failed to load.
pub fn cases(state: &EngineState, decision: &Decision) -> Vec<Case> {
    let now = Now {
        mono: crate::clock::now(),
        wall: std::time::SystemTime::now(),
    };
    let snap = snapshot(state, |n| decision.hold_of(n).map(ToString::to_string), now);
    let mut out = Vec::new();
    if let Some(e) = &state.tiltfile.error {
        out.push(Case {
            name: "(Tiltfile)".into(),
            runs: u64::from(state.tiltfile.loads),
            time: Duration::ZERO,
            failure: Some(e.clone()),
            skipped: false,
            log_tail: tail(state.tiltfile.logs.lines().map(|l| l.text.clone())),
        });
    }
    for (r, view) in state.ordered().zip(&snap.resources) {
        let failure = if view.disabled || view.is_ok() {
            None
        } else if let Some(e) = &view.error {
            Some(e.clone())
        } else {
            let why = view.hold.clone().unwrap_or_else(|| {
                format!(
                    "update {}, runtime {}",
                    crate::web::api::update_status(view),
                    crate::web::api::runtime_status(view)
                )
            });
            Some(format!("not ready when the run ended ({why})"))
        };
        let time = r
            .history
            .iter()
            .filter_map(|run| {
                run.finished
                    .map(|f| f.saturating_duration_since(run.started))
            })
            .sum();
        out.push(Case {
            name: view.name.clone(),
            runs: r.runs,
            time,
            failure,
            skipped: view.disabled,
            log_tail: tail(r.logs.lines().map(|l| l.text.clone())),
        });
    }
    out
}

fn tail(lines: impl DoubleEndedIterator<Item = String>) -> Vec<String> {
    let mut last: Vec<String> = lines.rev().take(LOG_TAIL).collect();
    last.reverse();
    last
}

/// The JUnit XML document for `cases`, as one test suite named `suite`.
pub fn junit_xml(suite: &str, cases: &[Case]) -> String {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped).count();
    let total: Duration = cases.iter().map(|c| c.time).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"stilt ci\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">",
        cases.len(),
        total.as_secs_f64()
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">",
        escape(suite),
        cases.len(),
        total.as_secs_f64()
    );
    for c in cases {
        case_xml(&mut x, suite, c);
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

fn case_xml(x: &mut String, suite: &str, c: &Case) {
    let _ = writeln!(
        x,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\">",
        escape(&c.name),
        escape(suite),
        c.time.as_secs_f64()
    );
    if c.skipped {
        x.push_str("      <skipped message=\"disabled\"/>\n");
    }
    if let Some(f) = &c.failure {
        let first = f.lines().next().unwrap_or_default();
        let _ = writeln!(
            x,
            "      <failure message=\"{}\">{}</failure>",
            escape(first),
            escape(f)
        );
    }
    let _ = writeln!(
        x,
        "      <system-out>runs: {}\n{}</system-out>",
        c.runs,
        escape(&c.log_tail.join("\n"))
    );
    x.push_str("    </testcase>\n");
}

/// XML text or attribute: the five special characters escaped, and the control
/// characters XML 1.0 cannot carry (terminal colour codes among them) dropped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in crate::ansi::strip(s).chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(ch),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// Wraps the CI reporter and writes the reports when the engine finishes.
pub struct Reports<'a> {
    pub inner: &'a mut dyn View,
    pub junit: Option<PathBuf>,
    pub snapshot: Option<PathBuf>,
    pub info: SessionInfo,
}

impl View for Reports<'_> {
    fn update(&mut self, state: &EngineState, decision: &Decision, now: Instant) -> Option<i32> {
        self.inner.update(state, decision, now)
    }

    fn next_wakeup(&self) -> Option<Instant> {
        self.inner.next_wakeup()
    }

    fn finish(&mut self, state: &EngineState, decision: &Decision) {
        self.inner.finish(state, decision);
        if let Some(path) = &self.junit {
            let suite = self.info.tiltfile.clone();
            write(path, junit_xml(&suite, &cases(state, decision)));
        }
        if let Some(path) = &self.snapshot {
            let now = Now {
                mono: crate::clock::now(),
                wall: std::time::SystemTime::now(),
            };
            let snap = snapshot(state, |n| decision.hold_of(n).map(ToString::to_string), now);
            let json =
                serde_json::to_string_pretty(&session_json(&snap, &self.info)).unwrap_or_default();
            write(path, json + "\n");
        }
    }
}

fn write(path: &std::path::Path, text: String) {
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("Error: cannot write the report {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_resource_is_a_failure_with_its_reason_and_log_tail() {
        let cases = [
            Case {
                name: "api".into(),
                runs: 2,
                time: Duration::from_millis(1500),
                failure: Some("exit status 1\nmore".into()),
                skipped: false,
                log_tail: vec!["boom <here>".into()],
            },
            Case {
                name: "web".into(),
                runs: 1,
                time: Duration::from_millis(250),
                failure: None,
                skipped: false,
                log_tail: vec![],
            },
        ];
        let xml = junit_xml("/p/Tiltfile", &cases);
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <testsuites name=\"stilt ci\" tests=\"2\" failures=\"1\" time=\"1.750\">\n  \
             <testsuite name=\"/p/Tiltfile\" tests=\"2\" failures=\"1\" skipped=\"0\" time=\"1.750\">\n    \
             <testcase name=\"api\" classname=\"/p/Tiltfile\" time=\"1.500\">\n      \
             <failure message=\"exit status 1\">exit status 1\nmore</failure>\n      \
             <system-out>runs: 2\nboom &lt;here&gt;</system-out>\n    \
             </testcase>\n    \
             <testcase name=\"web\" classname=\"/p/Tiltfile\" time=\"0.250\">\n      \
             <system-out>runs: 1\n</system-out>\n    \
             </testcase>\n  \
             </testsuite>\n</testsuites>\n"
        );
    }

    #[test]
    fn control_characters_and_colours_do_not_reach_the_xml() {
        assert_eq!(
            escape("\u{1b}[31mred\u{1b}[0m & \u{7}bell"),
            "red &amp; bell"
        );
    }
}
