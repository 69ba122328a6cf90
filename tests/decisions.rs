//! Pure decisions: scheduling holds, reload semantics and the CI verdict, over states
//! built by feeding `reduce` the actions the engine would send. No tokio, no clock:
//! every `Instant` is `t0 + n seconds`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use stilt::engine::ci::{Limits, Verdict, status, summary, verdict};
use stilt::engine::schedule::{Decision, Hold, schedule};
use stilt::model::{Project, ResourceName, Settings};
use stilt::process::{Exit, Stream};
use stilt::store::{
    Action, EngineState, Problem, ResourceState, RunId, RunOutcome, RunReason, ServePhase,
    Severity, reduce,
};

use crate::support::{TILTFILE, local, project, project_with};

/// An engine state driven by hand, one action at a time.
struct Fixture {
    state: EngineState,
    t0: Instant,
}

impl Fixture {
    /// The first load of `project` has finished (at t0).
    fn loaded(project: Project) -> Self {
        let mut f = Fixture {
            state: EngineState::new(TILTFILE.into()),
            t0: Instant::now(),
        };
        f.load(project, 0);
        f
    }

    fn at(&self, secs: u64) -> Instant {
        self.t0 + Duration::from_secs(secs)
    }

    fn apply(&mut self, action: Action) {
        reduce(&mut self.state, action);
    }

    fn load(&mut self, project: Project, secs: u64) {
        let at = self.at(secs);
        self.apply(Action::ConfigLoadStarted);
        self.apply(Action::ConfigLoaded {
            project: Box::new(project),
            files_read: vec![TILTFILE.into()],
            warnings: vec![],
            output: vec![],
            at,
        });
    }

    fn decide(&self) -> Decision {
        schedule(&self.state)
    }

    fn started(&self) -> Vec<String> {
        self.decide()
            .start
            .iter()
            .map(|(n, _)| n.0.clone())
            .collect()
    }

    fn hold(&self, name: &str) -> Option<Hold> {
        self.decide().hold_of(name).cloned()
    }

    /// Starts what the scheduler says, as the engine does; returns the names.
    fn start_scheduled(&mut self, secs: u64) -> Vec<String> {
        let d = self.decide();
        for (name, reason) in &d.start {
            let at = self.at(secs);
            self.apply(Action::RunStarted {
                resource: name.clone(),
                reason: reason.clone(),
                at,
            });
        }
        d.start.into_iter().map(|(n, _)| n.0).collect()
    }

    fn res(&self, name: &str) -> &ResourceState {
        &self.state.resources[&ResourceName::new(name)]
    }

    fn run_id(&self, name: &str) -> RunId {
        self.res(name)
            .running()
            .unwrap_or_else(|| panic!("{name} is not running"))
    }

    fn finish(&mut self, name: &str, outcome: RunOutcome, secs: u64) {
        let run = self.run_id(name);
        let at = self.at(secs);
        self.apply(Action::RunFinished {
            resource: name.into(),
            run,
            outcome,
            at,
        });
    }

    fn succeed(&mut self, name: &str, secs: u64) {
        self.finish(name, RunOutcome::Succeeded, secs);
    }

    /// The engine asked for the server and the serve worker reported it running.
    fn serve_started(&mut self, name: &str, secs: u64) {
        self.apply(Action::ServeRequested {
            resource: name.into(),
        });
        let generation = self.res(name).serve_generation;
        let at = self.at(secs);
        self.apply(Action::ServeStarted {
            resource: name.into(),
            generation,
            pid: Some(42),
            at,
        });
    }

    fn probe(&mut self, name: &str, ready: bool) {
        let generation = self.res(name).serve_generation;
        self.apply(Action::ProbeResult {
            resource: name.into(),
            generation,
            ready,
        });
    }

    fn change(&mut self, name: &str, paths: &[&str], secs: u64) {
        let by_resource = vec![(name.into(), paths.iter().map(PathBuf::from).collect())];
        let at = self.at(secs);
        self.apply(Action::FilesChanged {
            by_resource,
            tiltfile_inputs: vec![],
            at,
        });
    }

    fn trigger(&mut self, name: &str, secs: u64) {
        let at = self.at(secs);
        self.apply(Action::Trigger {
            resource: name.into(),
            at,
        });
    }

    fn limits(&self, timeout: u64, readiness: u64) -> Limits {
        Limits {
            started: self.t0,
            timeout: Some(Duration::from_secs(timeout)),
            readiness_timeout: Some(Duration::from_secs(readiness)),
            k8s_grace: None,
        }
    }

    /// The verdict at `secs` with a 10 minute timeout and no readiness limit.
    fn verdict_at(&self, secs: u64) -> Verdict {
        let limits = Limits {
            readiness_timeout: None,
            k8s_grace: None,
            ..self.limits(600, 0)
        };
        verdict(&self.state, &self.decide(), &limits, self.at(secs))
    }

    fn summary(&self) -> Vec<String> {
        summary(&self.state, &self.decide())
    }

    fn status(&self, name: &str) -> String {
        status(self.res(name), &self.decide())
    }
}

fn names(v: &[&str]) -> Vec<ResourceName> {
    v.iter().map(|n| ResourceName::new(*n)).collect()
}

fn files(count: usize, sample: &[&str]) -> RunReason {
    RunReason::FilesChanged {
        count,
        sample: sample.iter().map(PathBuf::from).collect(),
    }
}

fn failure(v: Verdict) -> String {
    match v {
        Verdict::Failure(why) => why,
        other => panic!("expected a failure, got {other:?}"),
    }
}

// ---- problems by severity ----

#[test]
fn a_critical_problem_fails_ci_and_a_warning_does_not() {
    let mut f = Fixture::loaded(project([local("api").cmd("make")]));
    f.start_scheduled(1);
    f.succeed("api", 2);
    f.apply(Action::Problem(Problem::new(
        Severity::Warning,
        "file events were dropped; re-scanned",
    )));
    assert_eq!(f.verdict_at(3), Verdict::Success);
    f.apply(Action::Problem(Problem::new(
        Severity::Critical,
        "cannot watch /src: reached the inotify watch limit",
    )));
    assert_eq!(
        failure(f.verdict_at(4)),
        "cannot watch /src: reached the inotify watch limit"
    );
    // A repeat is logged but kept once.
    f.apply(Action::Problem(Problem::new(
        Severity::Critical,
        "cannot watch /src: reached the inotify watch limit",
    )));
    assert_eq!(f.state.critical.len(), 1);
}

// ---- serial, parallel and the max_parallel_updates cap ----

#[test]
fn initial_runs_start_in_declaration_order() {
    let f = Fixture::loaded(project([
        local("zeta").cmd("z").parallel(),
        local("alpha").cmd("a").parallel(),
        local("mid").cmd("m").parallel(),
    ]));
    let d = f.decide();
    let start: Vec<(&str, &RunReason)> = d.start.iter().map(|(n, r)| (n.as_str(), r)).collect();
    assert_eq!(
        start,
        [
            ("zeta", &RunReason::Initial),
            ("alpha", &RunReason::Initial),
            ("mid", &RunReason::Initial)
        ]
    );
    assert!(d.holds.is_empty());
}

#[test]
fn serial_local_resources_run_one_at_a_time_naming_the_running_one() {
    let mut f = Fixture::loaded(project([
        local("a").cmd("a"),
        local("b").cmd("b"),
        local("c").cmd("c"),
    ]));
    assert_eq!(f.start_scheduled(1), ["a"]);
    assert_eq!(
        f.hold("b"),
        Some(Hold::SerialLocal {
            running: "a".into()
        })
    );
    assert_eq!(
        f.hold("c"),
        Some(Hold::SerialLocal {
            running: "a".into()
        })
    );

    f.succeed("a", 2);
    assert_eq!(f.start_scheduled(2), ["b"]);
    assert_eq!(
        f.hold("c"),
        Some(Hold::SerialLocal {
            running: "b".into()
        })
    );
}

#[test]
fn parallel_resources_run_alongside_each_other_but_not_a_serial_one() {
    let mut f = Fixture::loaded(project([
        local("p1").cmd("p1").parallel(),
        local("p2").cmd("p2").parallel(),
        local("s").cmd("s"),
    ]));
    assert_eq!(f.start_scheduled(1), ["p1", "p2"]);
    assert_eq!(
        f.hold("s"),
        Some(Hold::SerialLocal {
            running: "p1".into()
        })
    );
}

#[test]
fn a_running_serial_resource_holds_parallel_ones() {
    let mut f = Fixture::loaded(project([
        local("s").cmd("s"),
        local("p").cmd("p").parallel(),
    ]));
    assert_eq!(f.start_scheduled(1), ["s"]);
    assert_eq!(
        f.hold("p"),
        Some(Hold::SerialLocal {
            running: "s".into()
        })
    );
}

#[test]
fn max_parallel_updates_caps_concurrent_runs() {
    let settings = Settings {
        max_parallel_updates: 2,
        ..Settings::default()
    };
    let mut f = Fixture::loaded(project_with(
        settings,
        ["a", "b", "c", "d"].map(|n| local(n).cmd(n).parallel()),
    ));
    assert_eq!(f.start_scheduled(1), ["a", "b"]);
    assert_eq!(f.hold("c"), Some(Hold::MaxParallel { limit: 2 }));
    assert_eq!(f.hold("d"), Some(Hold::MaxParallel { limit: 2 }));

    f.succeed("b", 2);
    assert_eq!(f.start_scheduled(2), ["c"]);
    assert_eq!(f.hold("d"), Some(Hold::MaxParallel { limit: 2 }));
}

#[test]
fn serve_only_resources_never_block_serial_ones() {
    let mut f = Fixture::loaded(project([
        local("api").serve("./api"),
        local("build").cmd("make"),
        local("docs").serve("./docs"),
    ]));
    assert_eq!(f.start_scheduled(1), ["api", "build", "docs"]);

    // While `build` runs, a serve-only resource still starts at once.
    f.succeed("api", 1);
    f.change("api", &["api.go"], 2);
    assert_eq!(f.started(), ["api"]);
}

// ---- resource_deps ----

#[test]
fn a_dependent_waits_on_deps_until_the_dep_cmd_succeeds() {
    let mut f = Fixture::loaded(project([
        local("web").cmd("web").deps_on(&["db"]),
        local("db").cmd("db"),
    ]));
    assert_eq!(f.start_scheduled(1), ["db"]);
    assert_eq!(f.hold("web"), Some(Hold::WaitingOnDeps(names(&["db"]))));

    f.finish("db", RunOutcome::Failed("cmd exit code 1".into()), 2);
    assert_eq!(f.hold("web"), Some(Hold::WaitingOnDeps(names(&["db"]))));

    f.trigger("db", 3);
    assert_eq!(f.start_scheduled(3), ["db"]);
    f.succeed("db", 4);
    let d = f.decide();
    assert_eq!(d.start, [("web".into(), RunReason::Initial)]);
    assert_eq!(d.hold_of("web"), None);
}

#[test]
fn a_dependent_waits_for_the_readiness_probe_of_a_served_dep() {
    let mut f = Fixture::loaded(project([
        local("db").cmd("migrate").serve("postgres").probe(),
        local("web").cmd("web").deps_on(&["db"]),
    ]));
    assert_eq!(f.start_scheduled(1), ["db"]);
    f.succeed("db", 2);
    assert_eq!(f.hold("web"), Some(Hold::WaitingOnDeps(names(&["db"]))));

    f.serve_started("db", 3);
    assert_eq!(f.hold("web"), Some(Hold::WaitingOnDeps(names(&["db"]))));

    f.probe("db", true);
    assert_eq!(f.started(), ["web"]);
}

#[test]
fn a_served_dep_without_a_probe_is_ready_once_running() {
    let mut f = Fixture::loaded(project([
        local("db").serve("postgres"),
        local("web").cmd("web").deps_on(&["db"]),
    ]));
    assert_eq!(f.start_scheduled(1), ["db"]);
    f.succeed("db", 1);
    assert_eq!(f.hold("web"), Some(Hold::WaitingOnDeps(names(&["db"]))));
    f.serve_started("db", 2);
    assert_eq!(f.started(), ["web"]);
}

#[test]
fn deps_are_waited_on_only_until_they_were_ready_once() {
    let mut f = Fixture::loaded(project([
        local("db").cmd("db").parallel(),
        local("web").cmd("web").parallel().deps_on(&["db"]),
    ]));
    f.start_scheduled(1);
    f.succeed("db", 2);
    assert_eq!(f.start_scheduled(2), ["web"]);
    f.succeed("web", 3);

    // db reruns and fails: no longer ready, but web already saw it ready once.
    f.change("db", &["schema.sql"], 4);
    assert_eq!(f.start_scheduled(4), ["db"]);
    f.change("web", &["main.go"], 5);
    assert_eq!(f.started(), ["web"], "web must not wait for db's rerun");
    f.finish("db", RunOutcome::Failed("boom".into()), 6);
    assert_eq!(f.started(), ["web"]);
}

// ---- trigger modes ----

#[test]
fn a_manual_resource_holds_file_changes_until_triggered() {
    let mut f = Fixture::loaded(project([local("gen").cmd("gen").manual()]));
    assert_eq!(
        f.start_scheduled(1),
        ["gen"],
        "manual resources still run at startup"
    );
    f.succeed("gen", 2);

    f.change("gen", &["a.proto"], 3);
    assert_eq!(f.started(), Vec::<String>::new());
    assert_eq!(f.hold("gen"), Some(Hold::ManualTrigger));

    f.trigger("gen", 4);
    assert_eq!(f.decide().start, [("gen".into(), RunReason::Triggered)]);
    f.start_scheduled(4);
    assert_eq!(
        f.hold("gen"),
        None,
        "the trigger consumed the waiting changes"
    );
}

#[test]
fn auto_init_false_does_not_run_until_triggered() {
    let mut f = Fixture::loaded(project([local("seed").cmd("seed").no_auto_init()]));
    assert_eq!(f.started(), Vec::<String>::new());
    assert_eq!(f.hold("seed"), Some(Hold::NotInitialized));

    f.trigger("seed", 1);
    assert_eq!(f.decide().start, [("seed".into(), RunReason::Triggered)]);
}

#[test]
fn ci_skips_auto_init_false_resources_and_still_succeeds() {
    let mut f = Fixture::loaded(project([
        local("app").cmd("app"),
        local("seed").cmd("seed").no_auto_init(),
    ]));
    f.start_scheduled(1);
    f.succeed("app", 2);
    assert_eq!(f.verdict_at(2), Verdict::Success);
    assert_eq!(
        f.summary(),
        [
            "  app                      ok",
            "  seed                     skipped (auto_init=False, never triggered)",
        ]
    );
}

#[test]
fn ci_fails_when_the_tiltfile_declares_no_resources_instead_of_succeeding() {
    let f = Fixture::loaded(project([]));
    assert_eq!(
        failure(f.verdict_at(0)),
        "No resources found. Check out https://docs.tilt.dev/tutorial.html to get started!"
    );
}

#[test]
fn a_disabled_resource_holds_and_is_not_waited_for() {
    let mut f = Fixture::loaded(project([
        local("a").cmd("a").parallel(),
        local("b").cmd("b").parallel(),
    ]));
    f.apply(Action::SetEnabled {
        resource: "b".into(),
        enabled: false,
    });
    assert_eq!(f.start_scheduled(1), ["a"]);
    assert_eq!(f.hold("b"), Some(Hold::Disabled));
    f.succeed("a", 2);
    assert_eq!(f.verdict_at(2), Verdict::Success);
    assert_eq!(f.status("b"), "disabled");
}

// ---- pending runs ----

#[test]
fn changes_during_a_run_queue_one_run_with_merged_reasons() {
    let mut f = Fixture::loaded(project([local("app").cmd("build")]));
    f.start_scheduled(1);
    f.change("app", &["a.rs", "b.rs"], 2);
    f.change("app", &["c.rs", "d.rs"], 3);
    assert_eq!(f.hold("app"), Some(Hold::AlreadyRunning));
    assert_eq!(f.started(), Vec::<String>::new());

    f.succeed("app", 4);
    let d = f.decide();
    assert_eq!(
        d.start,
        [("app".into(), files(4, &["a.rs", "b.rs", "c.rs"]))]
    );
    f.start_scheduled(4);
    assert_eq!(f.hold("app"), None, "exactly one queued run");
    assert_eq!(f.started(), Vec::<String>::new());
}

#[test]
fn pending_runs_wait_while_the_tiltfile_reloads() {
    let mut f = Fixture::loaded(project([local("app").cmd("build")]));
    f.start_scheduled(1);
    f.succeed("app", 2);

    let at = f.at(3);
    f.apply(Action::FilesChanged {
        by_resource: vec![("app".into(), vec!["main.rs".into()])],
        tiltfile_inputs: vec![TILTFILE.into()],
        at,
    });
    assert_eq!(
        f.hold("app"),
        Some(Hold::TiltfileLoading),
        "reload requested"
    );
    f.apply(Action::ConfigLoadStarted);
    assert_eq!(
        f.hold("app"),
        Some(Hold::TiltfileLoading),
        "reload in progress"
    );

    f.load(project([local("app").cmd("build")]), 4);
    assert_eq!(f.started(), ["app"]);
}

// ---- reloads ----

#[test]
fn reloading_an_unchanged_project_starts_nothing() {
    let mut f = Fixture::loaded(project([local("app").cmd("build")]));
    f.start_scheduled(1);
    f.succeed("app", 2);
    f.load(project([local("app").cmd("build")]), 3);
    assert_eq!(f.decide(), Decision::default());
    assert_eq!(f.state.tiltfile.loads, 2);
}

#[test]
fn a_changed_spec_reruns_with_config_changed() {
    let mut f = Fixture::loaded(project([
        local("app").cmd("build"),
        local("lint").cmd("lint"),
    ]));
    f.start_scheduled(1);
    f.succeed("app", 2);
    f.start_scheduled(2);
    f.succeed("lint", 3);

    f.load(
        project([
            local("app").cmd("build --release"),
            local("lint").cmd("lint"),
        ]),
        4,
    );
    assert_eq!(f.decide().start, [("app".into(), RunReason::ConfigChanged)]);
}

#[test]
fn a_removed_resource_disappears_and_a_new_one_runs_initial() {
    let mut f = Fixture::loaded(project([
        local("old").cmd("old").parallel(),
        local("keep").cmd("keep").parallel(),
    ]));
    f.start_scheduled(1);
    f.succeed("old", 2);
    f.succeed("keep", 2);

    f.load(
        project([
            local("keep").cmd("keep").parallel(),
            local("new").cmd("new").parallel(),
        ]),
        3,
    );
    assert!(!f.state.resources.contains_key(&ResourceName::new("old")));
    assert_eq!(f.state.order, names(&["keep", "new"]));
    assert_eq!(f.decide().start, [("new".into(), RunReason::Initial)]);
    assert_eq!(
        f.summary(),
        [
            "  keep                     ok",
            "  new                      pending"
        ]
    );
}

#[test]
fn a_failed_reload_keeps_the_previous_project_and_fails_ci() {
    let mut f = Fixture::loaded(project([local("app").cmd("build")]));
    f.start_scheduled(1);
    f.succeed("app", 2);

    f.apply(Action::ConfigLoadStarted);
    f.apply(Action::ConfigFailed {
        error: "Tiltfile:3:1: boom".into(),
        files_read: vec![],
        output: vec![],
    });
    assert_eq!(
        f.state.tiltfile.error.as_deref(),
        Some("Tiltfile:3:1: boom")
    );
    assert_eq!(f.state.project.as_ref().map(|p| p.resources.len()), Some(1));
    assert_eq!(f.status("app"), "ok");
    assert_eq!(
        failure(f.verdict_at(3)),
        "Tiltfile failed to load:\nTiltfile:3:1: boom"
    );

    // A good load clears the error.
    f.load(project([local("app").cmd("build")]), 4);
    assert_eq!(f.state.tiltfile.error, None);
    assert_eq!(f.verdict_at(4), Verdict::Success);
}

// ---- the CI verdict ----

#[test]
fn ci_succeeds_only_when_every_resource_is_ready() {
    let mut f = Fixture::loaded(project([
        local("db").cmd("migrate").serve("postgres").probe(),
        local("web").cmd("web").deps_on(&["db"]),
    ]));
    assert_eq!(f.verdict_at(0), Verdict::Running);
    f.start_scheduled(1);
    f.succeed("db", 2);
    assert_eq!(f.verdict_at(2), Verdict::Running);
    f.serve_started("db", 3);
    assert_eq!(f.status("db"), "not ready: readiness probe has not passed");
    assert_eq!(f.verdict_at(3), Verdict::Running);
    f.probe("db", true);
    f.start_scheduled(4);
    assert_eq!(f.verdict_at(4), Verdict::Running, "web is still running");
    f.succeed("web", 5);
    assert_eq!(f.verdict_at(5), Verdict::Success);
}

#[test]
fn ci_fails_at_the_first_failed_run_naming_the_resource() {
    let mut f = Fixture::loaded(project([
        local("a").cmd("a").parallel(),
        local("b").cmd("b").parallel(),
    ]));
    f.start_scheduled(1);
    f.finish("b", RunOutcome::Failed("cmd exit code 2".into()), 2);
    assert_eq!(failure(f.verdict_at(2)), "b failed: cmd exit code 2");
    assert_eq!(
        f.summary(),
        [
            "  a                        running",
            "  b                        error: cmd exit code 2"
        ]
    );
}

#[test]
fn ci_fails_when_a_server_exits() {
    let mut f = Fixture::loaded(project([local("api").serve("./api")]));
    f.start_scheduled(1);
    f.succeed("api", 1);
    f.serve_started("api", 2);
    assert_eq!(f.verdict_at(2), Verdict::Success);

    let generation = f.res("api").serve_generation;
    f.apply(Action::ServeExited {
        resource: "api".into(),
        generation,
        exit: Some(Exit::Code(3)),
        error: Some("serve_cmd exited unexpectedly (exit code 3)".into()),
    });
    assert_eq!(
        failure(f.verdict_at(3)),
        "api failed: serve_cmd exited unexpectedly (exit code 3)"
    );
}

#[test]
fn ci_timeout_lists_what_each_resource_waits_on() {
    let mut f = Fixture::loaded(project([
        local("db").cmd("db"),
        local("web").cmd("web").deps_on(&["db"]),
        local("gen").cmd("gen").manual(),
        local("lint").cmd("lint"),
    ]));
    f.start_scheduled(1);
    assert_eq!(f.verdict_at(599), Verdict::Running);
    assert_eq!(
        failure(f.verdict_at(600)),
        [
            "timed out after 10m",
            "  db                       running",
            "  web                      waiting on db",
            "  gen                      queued: local resources run one at a time (db is running)",
            "  lint                     queued: local resources run one at a time (db is running)",
        ]
        .join("\n")
    );
}

#[test]
fn ci_timeout_during_a_load_says_the_tiltfile_is_still_loading() {
    let mut f = Fixture {
        state: EngineState::new(TILTFILE.into()),
        t0: Instant::now(),
    };
    f.apply(Action::ConfigLoadStarted);
    assert_eq!(f.verdict_at(599), Verdict::Running);
    assert_eq!(
        failure(f.verdict_at(600)),
        "timed out after 10m\n  (Tiltfile)               still loading"
    );
}

#[test]
fn ci_readiness_timeout_names_the_resource_that_never_became_ready() {
    let mut f = Fixture::loaded(project([local("db").serve("postgres").probe()]));
    f.start_scheduled(1);
    f.succeed("db", 1);
    f.serve_started("db", 2);
    let limits = f.limits(600, 30);
    assert_eq!(
        verdict(&f.state, &f.decide(), &limits, f.at(31)),
        Verdict::Running
    );
    assert_eq!(
        failure(verdict(&f.state, &f.decide(), &limits, f.at(32))),
        "db not ready after 30s: not ready: readiness probe has not passed"
    );
}

#[test]
fn summary_says_per_resource_what_it_waits_on() {
    let mut f = Fixture::loaded(project([
        local("ok").cmd("ok"),
        local("gen").cmd("gen").manual(),
        local("seed").cmd("seed").no_auto_init(),
        local("api").serve("./api").probe(),
    ]));
    for name in ["ok", "gen", "api"] {
        f.start_scheduled(1);
        f.succeed(name, 1);
    }
    f.serve_started("api", 2);
    f.change("gen", &["x.proto"], 3);
    assert_eq!(
        f.summary(),
        [
            "  ok                       ok",
            "  gen                      waiting: changes waiting for a manual trigger",
            "  seed                     skipped (auto_init=False, never triggered)",
            "  api                      not ready: readiness probe has not passed",
        ]
    );
}

// ---- reasons, logs and stale reports ----

#[test]
fn run_reasons_describe_themselves() {
    let base = std::path::Path::new("/proj");
    let abs = |p: &str| PathBuf::from(format!("/proj/{p}"));
    let five = RunReason::FilesChanged {
        count: 5,
        sample: vec![abs("a"), abs("b"), abs("c")],
    };
    assert_eq!(five.describe(base), "5 files changed: a, b, c, ...");
    assert_eq!(
        files(3, &["/proj/a", "/proj/b", "/proj/c"]).describe(base),
        "3 files changed: a, b, c"
    );
    assert_eq!(
        files(1, &["/elsewhere/x"]).describe(base),
        "1 file changed: /elsewhere/x"
    );
    assert_eq!(RunReason::Initial.describe(base), "initial run");
    assert_eq!(RunReason::Triggered.describe(base), "triggered");
    assert_eq!(
        RunReason::ConfigChanged.describe(base),
        "Tiltfile changed this resource"
    );
}

#[test]
fn merged_file_reasons_add_counts_and_cap_the_sample() {
    let merged = files(2, &["a", "b"])
        .merge(files(2, &["b", "c"]))
        .merge(files(1, &["d"]));
    assert_eq!(merged, files(5, &["a", "b", "c"]));
    assert_eq!(
        files(1, &["a"]).merge(RunReason::Triggered),
        RunReason::Triggered
    );
    assert_eq!(
        RunReason::ConfigChanged.merge(RunReason::Initial),
        RunReason::Initial
    );
}

#[test]
fn a_run_logs_its_reason_and_outcome() {
    let mut f = Fixture::loaded(project([local("app").cmd("build")]));
    f.start_scheduled(1);
    f.change("app", &["/proj/src/a.rs"], 2);
    f.succeed("app", 3);
    f.start_scheduled(4);
    let lines: Vec<&str> = f.res("app").logs.lines().map(|l| l.text.as_str()).collect();
    assert_eq!(
        lines,
        [
            "▶ run #1: initial run",
            "✔ run #1 succeeded in 2.00s",
            "▶ run #2: 1 file changed: src/a.rs"
        ]
    );
}

#[test]
fn runs_are_numbered_per_resource_as_in_tilt() {
    let mut f = Fixture::loaded(project([
        local("a").cmd("x").parallel(),
        local("b").cmd("y").parallel(),
    ]));
    f.start_scheduled(1);
    f.succeed("a", 2);
    f.succeed("b", 2);
    let first = |f: &Fixture, n: &str| f.res(n).logs.lines().next().map(|l| l.text.clone());
    assert_eq!(first(&f, "a").as_deref(), Some("▶ run #1: initial run"));
    assert_eq!(first(&f, "b").as_deref(), Some("▶ run #1: initial run"));
}

#[test]
fn each_resource_log_is_capped_in_bytes() {
    let settings = Settings {
        log_cap_bytes: 40,
        ..Settings::default()
    };
    let mut f = Fixture::loaded(project_with(
        settings,
        [local("a").cmd("a"), local("b").cmd("b")],
    ));
    for i in 0..10 {
        f.apply(Action::Log {
            resource: Some("a".into()),
            stream: Stream::Stdout,
            text: format!("line {i:04}"),
        });
    }
    f.apply(Action::Log {
        resource: Some("b".into()),
        stream: Stream::Stdout,
        text: "only line".into(),
    });
    let a: Vec<&str> = f.res("a").logs.lines().map(|l| l.text.as_str()).collect();
    assert_eq!(a, ["line 0006", "line 0007", "line 0008", "line 0009"]);
    assert_eq!(f.res("a").logs.dropped, 6);
    assert_eq!(
        f.res("b").logs.lines().count(),
        1,
        "the cap is per resource"
    );
}

#[test]
fn a_finish_report_for_a_stale_run_is_ignored() {
    let mut f = Fixture::loaded(project([local("app").cmd("build")]));
    f.start_scheduled(1);
    let first = f.run_id("app");
    f.finish("app", RunOutcome::Succeeded, 2);
    f.trigger("app", 3);
    f.start_scheduled(3);
    let second = f.run_id("app");
    assert_ne!(first, second);

    let at = f.at(4);
    f.apply(Action::RunFinished {
        resource: "app".into(),
        run: first,
        outcome: RunOutcome::Failed("late".into()),
        at,
    });
    assert_eq!(f.res("app").running(), Some(second));
    assert_eq!(f.verdict_at(4), Verdict::Running);
}

#[test]
fn a_serve_exit_from_an_old_generation_is_ignored() {
    let mut f = Fixture::loaded(project([local("api").cmd("build").serve("./api")]));
    f.start_scheduled(1);
    f.succeed("api", 1);
    f.serve_started("api", 2);
    let old = f.res("api").serve_generation;

    f.trigger("api", 3);
    f.start_scheduled(3);
    f.succeed("api", 4);
    f.serve_started("api", 5);
    f.apply(Action::ServeExited {
        resource: "api".into(),
        generation: old,
        exit: Some(Exit::Signal(15)),
        error: Some("serve_cmd exited unexpectedly (killed by signal 15)".into()),
    });
    assert!(matches!(
        f.res("api").serve(),
        Some(ServePhase::Running { ready: true, .. })
    ));
    assert_eq!(f.verdict_at(5), Verdict::Success);
}

// ---- Kubernetes pods: waiting errors, grace period, pod_readiness ----

fn k8s(name: &str, pod_readiness: stilt::model::PodReadiness) -> crate::support::Res {
    let mut r = local(name);
    r.0.kind = stilt::model::ResourceKind::K8s(stilt::model::K8sSpec {
        workload: Some(0),
        pod_readiness,
        ..Default::default()
    });
    r
}

fn pod(state: stilt::model::ContainerState) -> stilt::model::ContainerStatus {
    stilt::model::ContainerStatus {
        id: "ns/web-1".into(),
        state,
        health: None,
        started_at: String::new(),
        restart_count: 2,
        restart_loses_files: true,
    }
}

impl Fixture {
    fn observe(&mut self, name: &str, status: stilt::model::ContainerStatus, secs: u64) {
        let at = self.at(secs);
        self.apply(Action::ContainerObserved {
            resource: name.into(),
            status: Some(status),
            at,
        });
    }
}

#[test]
fn ci_fails_on_a_crash_looping_pod_at_once_without_a_grace_period() {
    use stilt::model::{ContainerState, PodReadiness};
    let mut f = Fixture::loaded(project(vec![k8s("web", PodReadiness::Wait)]));
    f.start_scheduled(0);
    f.succeed("web", 1);
    let crash = ContainerState::Waiting {
        reason: "CrashLoopBackOff".into(),
        message: "back-off 10s restarting failed container".into(),
    };
    f.observe("web", pod(crash), 2);
    let why = failure(f.verdict_at(2));
    assert!(
        why.contains("web failed: CrashLoopBackOff: back-off"),
        "{why}"
    );
}

#[test]
fn ci_gives_a_failing_pod_the_k8s_grace_period_to_recover() {
    use stilt::model::{ContainerState, Health, PodReadiness};
    let mut f = Fixture::loaded(project(vec![k8s("web", PodReadiness::Wait)]));
    f.start_scheduled(0);
    f.succeed("web", 1);
    let crash = ContainerState::Waiting {
        reason: "CrashLoopBackOff".into(),
        message: String::new(),
    };
    f.observe("web", pod(crash), 2);
    let limits = Limits {
        readiness_timeout: None,
        k8s_grace: Some(Duration::from_secs(30)),
        ..f.limits(600, 0)
    };
    assert_eq!(
        verdict(&f.state, &f.decide(), &limits, f.at(20)),
        Verdict::Running
    );
    let late = failure(verdict(&f.state, &f.decide(), &limits, f.at(40)));
    assert!(late.contains("web failed: CrashLoopBackOff"), "{late}");
    // Recovering inside the period passes.
    let mut ok = pod(ContainerState::Running);
    ok.health = Some(Health::Healthy);
    f.observe("web", ok, 25);
    assert_eq!(
        verdict(&f.state, &f.decide(), &limits, f.at(26)),
        Verdict::Success
    );
}

#[test]
fn a_container_still_being_created_is_pending_not_failed() {
    use stilt::model::{ContainerState, PodReadiness};
    let mut f = Fixture::loaded(project(vec![k8s("web", PodReadiness::Wait)]));
    f.start_scheduled(0);
    f.succeed("web", 1);
    let creating = ContainerState::Waiting {
        reason: "ContainerCreating".into(),
        message: String::new(),
    };
    f.observe("web", pod(creating), 2);
    assert_eq!(f.verdict_at(3), Verdict::Running);
    assert_eq!(f.status("web"), "pending");
}

#[test]
fn pod_readiness_ignore_is_ready_once_deployed() {
    use stilt::model::PodReadiness;
    let mut f = Fixture::loaded(project(vec![k8s("web", PodReadiness::Ignore)]));
    f.start_scheduled(0);
    assert_eq!(f.verdict_at(1), Verdict::Running);
    f.succeed("web", 1);
    assert_eq!(f.verdict_at(2), Verdict::Success);
}

#[test]
fn a_pod_container_restarted_from_its_image_gets_its_synced_files_again() {
    use stilt::model::{ContainerState, PodReadiness};
    let mut f = Fixture::loaded(project(vec![k8s("web", PodReadiness::Wait)]));
    f.start_scheduled(0);
    let mut running = pod(ContainerState::Running);
    running.started_at = "t1".into();
    f.observe("web", running.clone(), 1);
    f.succeed("web", 1);
    f.apply(Action::LiveUpdated {
        resource: "web".into(),
        container: "ns/web-1".into(),
        files: vec![PathBuf::from("/proj/site/index.html")],
        content: vec![],
    });
    // The kubelet restarted the container: a new one, from the image.
    let mut restarted = running.clone();
    restarted.started_at = "t2".into();
    f.observe("web", restarted, 5);
    let r = f.res("web");
    assert!(
        matches!(r.pending, Some(RunReason::ContainerReplaced { files: 1 })),
        "{:?}",
        r.pending
    );
    let log: Vec<&str> = r.logs.lines().map(|l| l.text.as_str()).collect();
    let log = log.join("\n");
    assert!(log.contains("pod web-1: running"), "{log}");
}
