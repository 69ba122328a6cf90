//! The real engine loop (`stilt::engine::run`) over the scripted `FakeSpawner`: no
//! processes, no watcher, a fixed Tiltfile result. Every wait is bounded, so a bug
//! fails a test instead of hanging it; nothing asserts on speed.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use stilt::config::{ConfigError, LoadFailure, Loaded};
use stilt::engine::schedule::Decision;
use stilt::engine::{Deps, EngineOptions, LoadFn, View, run};
use stilt::model::{Project, Settings};
use stilt::process::fake::{Event, FakeSpawner, Script};
use stilt::store::EngineState;
use stilt::views::ci::CiView;
use tokio::sync::oneshot;

use crate::support::{TILTFILE, local, project, project_with};

/// Upper bound on any one engine run in these tests.
const BOUND: Duration = Duration::from_secs(10);
/// The `stilt ci --timeout` the CI runs get: a stuck engine fails the verdict first.
const CI_TIMEOUT: Duration = Duration::from_secs(5);

/// The fake spawner and what the Tiltfile "loads" to.
struct Fixture {
    spawner: FakeSpawner,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            spawner: FakeSpawner::new(),
        }
    }

    fn exits(self, command: &str, code: i32, lines: &[&str]) -> Self {
        let lines = lines.iter().map(|l| (*l).to_owned()).collect();
        self.spawner.script(command, Script::Exit { lines, code });
        self
    }

    fn serves(self, command: &str) -> Self {
        self.spawner.script(
            command,
            Script::Serve {
                lines: vec![format!("{command} listening")],
            },
        );
        self
    }

    fn not_found(self, command: &str) -> Self {
        self.spawner.script(command, Script::NotFound);
        self
    }

    fn opts(subcommand: &str) -> EngineOptions {
        EngineOptions {
            tiltfile: TILTFILE.into(),
            args: vec![],
            subcommand: subcommand.into(),
            stop_grace: Duration::from_millis(100),
            k8s: Default::default(),
            load_warn_after: None,
        }
    }

    // The closure's signature is `LoadFn`'s, large `Err` and all.
    #[allow(clippy::result_large_err)]
    fn deps(&self, load: Result<Project, String>) -> Deps {
        Deps {
            spawner: Arc::new(self.spawner.clone()),
            watch: None,
            inbox: None,
            backends: Arc::new(|| Err("no Docker in the fake engine tests".into())),
            load: Arc::new(move |_opts| match &load {
                Ok(project) => Ok(Loaded {
                    project: project.clone(),
                    files_read: vec![PathBuf::from(TILTFILE)],
                    warnings: vec![],
                    output: vec![],
                }),
                Err(message) => Err(LoadFailure {
                    error: ConfigError::Eval {
                        rendered: message.clone(),
                        location: None,
                    },
                    files_read: vec![PathBuf::from(TILTFILE)],
                    output: vec![],
                }),
            }),
        }
    }

    /// `stilt ci` over `load`: the exit code and what the CI reporter printed.
    async fn ci(&self, load: Result<Project, String>) -> (i32, String) {
        self.ci_with_timeout(load, CI_TIMEOUT).await
    }

    async fn ci_with_timeout(
        &self,
        load: Result<Project, String>,
        timeout: Duration,
    ) -> (i32, String) {
        let mut view = CiView::new(Vec::new(), Instant::now(), Some(Some(timeout)));
        let engine = run(
            Self::opts("ci"),
            self.deps(load),
            &mut view,
            std::future::pending(),
        );
        let code = tokio::time::timeout(BOUND, engine)
            .await
            .expect("the engine did not end");
        (
            code,
            String::from_utf8_lossy(&view.into_inner()).into_owned(),
        )
    }

    fn events(&self) -> Vec<Event> {
        self.spawner.events()
    }
}

fn spawned(c: &str) -> Event {
    Event::Spawned(c.into())
}

fn stopped(c: &str) -> Event {
    Event::Stopped(c.into())
}

/// A view for `up`: never ends the engine itself; fires `signal` once `when` holds.
struct Watcher {
    when: fn(&EngineState) -> bool,
    signal: Option<oneshot::Sender<()>>,
}

impl View for Watcher {
    fn update(&mut self, state: &EngineState, _decision: &Decision, _now: Instant) -> Option<i32> {
        if (self.when)(state)
            && let Some(s) = self.signal.take()
        {
            let _ = s.send(());
        }
        None
    }
}

#[tokio::test(start_paused = true)]
async fn ci_exits_0_when_every_resource_is_ok() {
    let f = Fixture::new().exits("make", 0, &["compiled"]);
    let p = project([local("build").cmd("make"), local("lint").cmd("lint")]);
    let (code, out) = f.ci(Ok(p)).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("build │ compiled"), "{out}");
    assert!(out.contains("SUCCESS: all resources are ready"), "{out}");
    assert!(
        out.contains("  build                    ok\n  lint                     ok\n"),
        "{out}"
    );
    assert_eq!(f.events(), [spawned("make"), spawned("lint")]);
}

#[tokio::test(start_paused = true)]
async fn ci_prints_every_line_of_a_flood_of_output_in_order() {
    let lines: Vec<String> = (0..200_000).map(|i| format!("line {i}")).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let f = Fixture::new().exits("flood", 0, &refs);
    let (code, out) = f.ci(Ok(project([local("gen").cmd("flood")]))).await;
    assert_eq!(code, 0, "{}", &out[out.len().saturating_sub(2000)..]);
    let printed: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("       gen │ "))
        .filter(|l| l.starts_with("line "))
        .collect();
    assert_eq!(printed.len(), lines.len());
    assert!(printed.iter().zip(&lines).all(|(p, l)| p == l));
    assert!(!out.contains("dropped"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn ci_says_how_many_lines_a_capped_log_dropped_instead_of_losing_them_silently() {
    let lines: Vec<String> = (0..5_000).map(|i| format!("line {i:05}")).collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let f = Fixture::new().exits("flood", 0, &refs);
    let settings = Settings {
        log_cap_bytes: 200,
        ..Settings::default()
    };
    let p = project_with(settings, [local("gen").cmd("flood")]);
    let (code, out) = f.ci(Ok(p)).await;
    assert_eq!(code, 0, "{out}");
    let printed = out.lines().filter(|l| l.contains("│ line ")).count();
    let dropped: u64 = out
        .lines()
        .filter_map(|l| {
            l.split("• ")
                .nth(1)?
                .split(" log lines were dropped")
                .next()
        })
        .filter_map(|n| n.parse::<u64>().ok())
        .sum();
    assert!(dropped > 0, "{out}");
    assert_eq!(printed as u64 + dropped, lines.len() as u64, "{out}");
}

#[tokio::test(start_paused = true)]
async fn ci_exits_1_naming_the_failed_cmd() {
    let f = Fixture::new().exits("make", 2, &["error: nope"]);
    let (code, out) = f.ci(Ok(project([local("build").cmd("make")]))).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("build │ error: nope"), "{out}");
    assert!(
        out.contains("ERROR: build failed: cmd exit code 2"),
        "{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn ci_exits_1_when_the_tiltfile_fails_to_load() {
    let f = Fixture::new();
    let (code, out) = f
        .ci(Err("Tiltfile:1:1: name 'oops' is not defined".into()))
        .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("ERROR: Tiltfile failed to load:\nTiltfile:1:1: name 'oops' is not defined"),
        "{out}"
    );
    assert_eq!(f.events(), []);
}

#[tokio::test(start_paused = true)]
async fn a_tiltfile_error_with_its_snippet_is_printed_once() {
    let f = Fixture::new();
    let error = "Tiltfile:1:1: name 'oops' is not defined\n  |\n1 | oops()\n  | ^^^^";
    let (code, out) = f.ci(Err(error.into())).await;
    assert_eq!(code, 1, "{out}");
    assert_eq!(out.matches("1 | oops()").count(), 1, "{out}");
    assert!(
        out.contains("ERROR: Tiltfile failed to load:\nTiltfile:1:1: name 'oops' is not defined"),
        "{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_command_fails_the_resource_with_command_not_found() {
    let f = Fixture::new().not_found("protoc --go_out=.");
    let (code, out) = f
        .ci(Ok(project([local("gen").cmd("protoc --go_out=.")])))
        .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("ERROR: gen failed: command not found: \"protoc\""),
        "{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_missing_serve_cmd_fails_the_resource() {
    let f = Fixture::new().not_found("api-server");
    let (code, out) = f.ci(Ok(project([local("api").serve("api-server")]))).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("ERROR: api failed: serve_cmd could not start: command not found"),
        "{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn serve_cmd_starts_after_its_cmd_succeeded_and_stops_at_shutdown() {
    let f = Fixture::new().serves("run-api");
    let (code, out) = f
        .ci(Ok(project([local("api")
            .cmd("build-api")
            .serve("run-api")])))
        .await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        f.events(),
        [spawned("build-api"), spawned("run-api"), stopped("run-api")]
    );
}

#[tokio::test(start_paused = true)]
async fn serve_cmd_never_starts_when_its_cmd_fails() {
    let f = Fixture::new().exits("build-api", 1, &[]).serves("run-api");
    let (code, out) = f
        .ci(Ok(project([local("api")
            .cmd("build-api")
            .serve("run-api")])))
        .await;
    assert_eq!(code, 1, "{out}");
    assert_eq!(f.events(), [spawned("build-api")]);
}

#[tokio::test(start_paused = true)]
async fn a_dependent_is_spawned_only_after_its_dependency_is_ready() {
    let f = Fixture::new().serves("postgres");
    let p = project([
        local("web").cmd("build-web").parallel().deps_on(&["db"]),
        local("db").cmd("migrate").serve("postgres").parallel(),
    ]);
    let (code, out) = f.ci(Ok(p)).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("web │ • waiting on db"), "{out}");
    let spawns = f.spawner.spawned();
    assert_eq!(spawns, ["migrate", "postgres", "build-web"]);
    assert_eq!(f.events().last(), Some(&stopped("postgres")));
}

#[tokio::test(start_paused = true)]
async fn ci_times_out_and_stops_a_cmd_that_never_ends() {
    let f = Fixture::new().serves("sleep-forever");
    let p = project([
        local("stuck").cmd("sleep-forever"),
        local("next").cmd("next"),
    ]);
    let (code, out) = f.ci_with_timeout(Ok(p), Duration::from_millis(300)).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "ERROR: timed out after 300ms\n  \
             stuck                    running\n  \
             next                     queued: local resources run one at a time (stuck is running)"
        ),
        "{out}"
    );
    assert_eq!(
        f.events(),
        [spawned("sleep-forever"), stopped("sleep-forever")]
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_running_servers_and_commands() {
    let f = Fixture::new().serves("run-api").serves("watch-css");
    let p = project([
        local("api").serve("run-api"),
        local("css").cmd("watch-css").parallel(),
    ]);
    let (tx, rx) = oneshot::channel();
    let mut view = Watcher {
        when: |s| {
            s.ordered().all(|r| r.is_ready() || r.running().is_some())
                && s.ordered().any(|r| r.is_ready())
        },
        signal: Some(tx),
    };
    let shutdown = async {
        let _ = rx.await;
    };
    let engine = run(Fixture::opts("up"), f.deps(Ok(p)), &mut view, shutdown);
    let code = tokio::time::timeout(BOUND, engine)
        .await
        .expect("run() did not return after shutdown");
    assert_eq!(code, 130);
    let events = f.events();
    for e in [
        spawned("run-api"),
        spawned("watch-css"),
        stopped("run-api"),
        stopped("watch-css"),
    ] {
        assert!(events.contains(&e), "{e:?} missing from {events:?}");
    }
}

/// A load that runs until it is cancelled, as a Tiltfile stuck in a loop does; sets
/// `saw_cancel` when its control tells it to stop. It gives up after 30 s so that an
/// engine that never cancels fails the test instead of hanging the test runtime.
// The closure's signature is `LoadFn`'s, large `Err` and all.
#[allow(clippy::result_large_err)]
fn hanging_load(saw_cancel: Arc<AtomicBool>) -> LoadFn {
    Arc::new(move |opts| {
        let give_up = Instant::now() + Duration::from_secs(30);
        while !opts.control.is_cancelled() && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(10));
        }
        saw_cancel.store(opts.control.is_cancelled(), Ordering::SeqCst);
        Err(LoadFailure {
            error: ConfigError::Cancelled,
            files_read: vec![],
            output: vec![],
        })
    })
}

// Real time: a blocking load holds tokio's paused clock still (auto-advance waits for
// blocking tasks), and this load blocks until it is cancelled.
#[tokio::test]
async fn ci_timeout_cancels_a_hanging_load_and_reports_where_it_is() {
    let f = Fixture::new();
    let saw_cancel = Arc::new(AtomicBool::new(false));
    let mut deps = f.deps(Err("unused".into()));
    deps.load = hanging_load(saw_cancel.clone());
    let opts = EngineOptions {
        load_warn_after: Some(Duration::from_millis(100)),
        ..Fixture::opts("ci")
    };
    let timeout = Duration::from_millis(500);
    let mut view = CiView::new(Vec::new(), Instant::now(), Some(Some(timeout)));
    let engine = run(opts, deps, &mut view, std::future::pending());
    let code = tokio::time::timeout(BOUND, engine)
        .await
        .expect("the engine did not end");
    let out = String::from_utf8_lossy(&view.into_inner()).into_owned();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("ERROR: timed out after 500ms"), "{out}");
    assert!(
        out.contains("(Tiltfile) │ Tiltfile load has been running for "),
        "{out}"
    );
    assert!(
        saw_cancel.load(Ordering::SeqCst),
        "the engine ended without cancelling the load"
    );
}

// Real time: a blocking load holds tokio's paused clock still (auto-advance waits for
// blocking tasks), and this load blocks until it is cancelled.
#[tokio::test]
async fn up_quit_during_a_hanging_load_cancels_it() {
    let f = Fixture::new();
    let saw_cancel = Arc::new(AtomicBool::new(false));
    let mut deps = f.deps(Err("unused".into()));
    deps.load = hanging_load(saw_cancel.clone());
    let (tx, rx) = oneshot::channel();
    let mut view = Watcher {
        when: |s| s.tiltfile.loading,
        signal: Some(tx),
    };
    let quit = async {
        let _ = rx.await;
    };
    let engine = run(Fixture::opts("up"), deps, &mut view, quit);
    let code = tokio::time::timeout(BOUND, engine)
        .await
        .expect("the engine did not end");
    assert_eq!(code, 130);
    assert!(
        saw_cancel.load(Ordering::SeqCst),
        "the engine ended without cancelling the load"
    );
}
