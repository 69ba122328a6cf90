//! A second kind of deploy target, added without touching the engine: resources of
//! the fake target (`deploy::fake::FakeTarget`, registered as "fake") go through a
//! shared image build, deploy, readiness, live update, a live update that falls
//! back to a rebuild, a failing container and teardown. No Docker; every wait is
//! bounded; nothing asserts on speed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stilt::build::fake::FakeBuilder;
use stilt::config::Loaded;
use stilt::deploy::Backends;
use stilt::deploy::fake::{FakeTarget, TargetCall};
use stilt::engine::schedule::Decision;
use stilt::engine::{Deps, EngineOptions, View, run};
use stilt::liveupdate::{FakeOp, FakeUpdater, UpdaterCall};
use stilt::model::{
    Health, ImageSpec, LiveUpdateSpec, Project, Resource, ResourceKind, ResourceName, SyncStep,
    TargetResource, TriggerMode,
};
use stilt::process::fake::FakeSpawner;
use stilt::store::{EngineState, Intent, RunReason};
use stilt::watch::fake::FakeWatch;

const BOUND: Duration = Duration::from_secs(20);

/// What the test reads of the engine's state after each turn.
#[derive(Debug, Clone, Default)]
struct Seen {
    ready: BTreeMap<String, bool>,
    error: BTreeMap<String, Option<String>>,
    reasons: BTreeMap<String, Vec<RunReason>>,
    image_built: Option<String>,
}

struct Recorder(Arc<Mutex<Seen>>);

impl View for Recorder {
    fn update(&mut self, state: &EngineState, _d: &Decision, _now: Instant) -> Option<i32> {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        for r in state.ordered() {
            let name = r.name().to_string();
            seen.ready.insert(name.clone(), r.is_ready());
            seen.error.insert(name.clone(), r.error());
            let reasons = r.history.iter().map(|h| h.reason.clone()).collect();
            seen.reasons.insert(name, reasons);
        }
        seen.image_built = state.images.get("app").and_then(|i| i.built.clone());
        None
    }
}

type Watch = (
    Box<dyn stilt::watch::FileWatch>,
    tokio::sync::mpsc::UnboundedReceiver<stilt::watch::WatchEvent>,
);

/// The engine's systems for `stilt up` over `project`: the fake spawner, a watch,
/// an inbox for intents and `backends`.
// The load closure's signature is `LoadFn`'s, large `Err` and all.
#[allow(clippy::result_large_err)]
fn up_deps(
    project: Project,
    watch: Watch,
    inbox: tokio::sync::mpsc::UnboundedReceiver<Intent>,
    backends: stilt::deploy::Connect,
) -> Deps {
    Deps {
        spawner: Arc::new(FakeSpawner::new()),
        watch: Some(watch),
        inbox: Some(inbox),
        load: Arc::new(move |_| {
            Ok(Loaded {
                project: project.clone(),
                files_read: vec![],
                warnings: vec![],
                output: vec![],
            })
        }),
        backends,
    }
}

/// Runs `stilt up` in `dir` until a `Quit` intent; returns its exit code.
async fn up(dir: &std::path::Path, deps: Deps, mut view: impl View) -> i32 {
    let opts = EngineOptions {
        tiltfile: dir.join("Tiltfile"),
        args: vec![],
        subcommand: "up".into(),
        stop_grace: Duration::from_millis(100),
        k8s: Default::default(),
        load_warn_after: None,
    };
    run(opts, deps, &mut view, std::future::pending()).await
}

fn resource(name: &str) -> Resource {
    Resource {
        name: name.into(),
        labels: vec![],
        links: vec![],
        resource_deps: vec![],
        trigger_mode: TriggerMode::Auto,
        auto_init: true,
        kind: ResourceKind::Target(TargetResource {
            target: "fake".into(),
            images: vec!["app".into()],
            spec: serde_json::json!({}),
        }),
    }
}

struct Fixture {
    dir: tempfile::TempDir,
    builder: FakeBuilder,
    target: FakeTarget,
    updater: FakeUpdater,
    seen: Arc<Mutex<Seen>>,
}

impl Fixture {
    fn seen(&self) -> Seen {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn deploys(&self, name: &str) -> usize {
        let name = ResourceName::from(name);
        let calls = self.target.calls();
        calls
            .iter()
            .filter(|c| matches!(c, TargetCall::Deploy { resource, .. } if *resource == name))
            .count()
    }

    async fn until(&self, what: &str, mut cond: impl FnMut(&Fixture) -> bool) {
        let start = Instant::now();
        while !cond(self) {
            assert!(
                start.elapsed() < BOUND,
                "timed out waiting for {what}; calls: {:?}; seen: {:?}",
                self.target.calls(),
                self.seen()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test(start_paused = true)]
// The load closure's signature is `LoadFn`'s, large `Err` and all.
#[allow(clippy::result_large_err)]
async fn a_fake_target_goes_through_build_deploy_readiness_live_update_failure_and_teardown() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").expect("write");
    std::fs::write(dir.path().join("app.txt"), "v1\n").expect("write");
    let mut image = ImageSpec::docker("app", dir.path());
    image.live_update = LiveUpdateSpec {
        syncs: vec![SyncStep {
            local: dir.path().to_path_buf(),
            remote: "/app".into(),
        }],
        ..LiveUpdateSpec::default()
    };
    let project = Project {
        tiltfile: dir.path().join("Tiltfile"),
        resources: vec![resource("api"), resource("worker")],
        images: vec![image],
        ..Project::default()
    };
    let updater = FakeUpdater::new();
    let fx = Fixture {
        builder: FakeBuilder::new(),
        target: FakeTarget::new(updater.clone()),
        updater,
        seen: Arc::default(),
        dir,
    };
    fx.target.with_healthcheck("api");

    let backends = Backends::new(Arc::new(fx.builder.clone()))
        .with_target("fake", Arc::new(fx.target.clone()));
    let (wtx, wrx) = tokio::sync::mpsc::unbounded_channel();
    let watch = FakeWatch::new(wtx);
    let (itx, irx) = tokio::sync::mpsc::unbounded_channel();
    let deps = up_deps(
        project,
        (Box::new(watch.clone()), wrx),
        irx,
        Arc::new(move || Ok(backends.clone())),
    );
    let dir = fx.dir.path().to_path_buf();
    let view = Recorder(fx.seen.clone());
    let engine = tokio::spawn(async move { up(&dir, deps, view).await });

    // Build once for both resources, then deploy each with the built tag.
    fx.until("both deploys", |f| {
        f.target.current("api").is_some() && f.target.current("worker").is_some()
    })
    .await;
    assert_eq!(fx.builder.builds().len(), 1, "{:?}", fx.builder.builds());
    let tagged = fx.builder.builds()[0].1.clone();
    for c in fx.target.calls() {
        let TargetCall::Deploy { images, .. } = c else {
            panic!("only deploys so far: {c:?}");
        };
        assert_eq!(images.get("app"), Some(&tagged));
    }
    fx.until("the image's state", |f| {
        f.seen().image_built.as_ref() == Some(&tagged)
    })
    .await;

    // Readiness follows the target's health report.
    fx.until("worker ready", |f| {
        f.seen().ready.get("worker") == Some(&true)
    })
    .await;
    assert_eq!(fx.seen().ready.get("api"), Some(&false));
    fx.target.set_health("api", Some(Health::Healthy));
    fx.until("api ready", |f| f.seen().ready.get("api") == Some(&true))
        .await;

    // A saved file is synced into the running container; nothing is redeployed.
    let changed = fx.dir.path().join("app.txt");
    std::fs::write(&changed, "v2\n").expect("write");
    fx.until("the watcher's configuration", |_| {
        watch.last_config().is_some()
    })
    .await;
    watch.emit([changed.clone()]);
    let api_container = fx.target.current("api").expect("api runs").id;
    fx.until("the live update", |f| {
        f.updater.calls().iter().any(
            |c| matches!(c, UpdaterCall::Copy { container, .. } if *container == api_container),
        )
    })
    .await;
    assert_eq!(fx.deploys("api"), 1);

    // A live update the container cannot take: the reducer queues a full rebuild.
    fx.until("both live updates", |f| {
        f.updater
            .calls()
            .iter()
            .filter(|c| matches!(c, UpdaterCall::Copy { .. }))
            .count()
            == 2
    })
    .await;
    // A save that leaves the content as it was synced (`sed -i` with no match) runs
    // but copies nothing.
    let copies = |f: &Fixture| {
        f.updater
            .calls()
            .iter()
            .filter(|c| matches!(c, UpdaterCall::Copy { .. }))
            .count()
    };
    std::fs::write(&changed, "v2\n").expect("write");
    watch.emit([changed.clone()]);
    fx.until("the unchanged save's runs", |f| {
        let seen = f.seen();
        ["api", "worker"]
            .iter()
            .all(|n| seen.reasons.get(*n).map_or(0, Vec::len) == 3 && seen.ready[*n])
    })
    .await;
    assert_eq!(copies(&fx), 2);

    fx.updater.fail_next(FakeOp::Copy);
    fx.updater.fail_next(FakeOp::Copy);
    std::fs::write(&changed, "v3\n").expect("write");
    watch.emit([changed.clone()]);
    fx.until("the fall back to a redeploy", |f| f.deploys("api") == 2)
        .await;
    let reasons = fx.seen().reasons.get("api").cloned().unwrap_or_default();
    assert!(
        matches!(reasons.first(), Some(RunReason::LiveUpdateFailed { .. })),
        "{reasons:?}"
    );

    // A container that exits with an error puts the resource in error.
    fx.until("worker redeployed", |f| f.deploys("worker") == 2)
        .await;
    fx.until("worker ready again", |f| {
        f.seen().ready.get("worker") == Some(&true)
    })
    .await;
    fx.target.exit("worker", 3);
    fx.until("worker's error", |f| {
        f.seen().error.get("worker").cloned().flatten().as_deref()
            == Some("container exited with code 3")
    })
    .await;

    // Disabling a resource tears down what the target runs for it.
    itx.send(Intent::SetEnabled {
        resource: "api".into(),
        enabled: false,
    })
    .expect("send");
    fx.until("api's removal", |f| f.target.current("api").is_none())
        .await;
    assert!(fx.target.calls().contains(&TargetCall::Remove {
        resource: "api".into()
    }));

    itx.send(Intent::Quit).expect("send");
    let code = tokio::time::timeout(BOUND, engine)
        .await
        .expect("the engine ended")
        .expect("the engine task");
    assert_eq!(code, 130);
}

/// Records the critical problems the engine has seen.
struct Critical(Arc<Mutex<Vec<String>>>);

impl View for Critical {
    fn update(&mut self, state: &EngineState, _d: &Decision, _now: Instant) -> Option<i32> {
        let mut seen = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *seen = state.critical.iter().map(|p| p.message.clone()).collect();
        None
    }
}

#[tokio::test(start_paused = true)]
#[allow(clippy::result_large_err)]
async fn the_inotify_limit_is_a_critical_problem_not_just_a_log_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = Project {
        tiltfile: dir.path().join("Tiltfile"),
        resources: vec![
            crate::support::local("api")
                .cmd("make")
                .watches(dir.path())
                .build(),
        ],
        ..Project::default()
    };
    let (wtx, wrx) = tokio::sync::mpsc::unbounded_channel();
    let watch = FakeWatch::new(wtx);
    *watch.fail_next.lock().expect("lock") = Some(stilt::watch::WatchError::WatchLimit {
        path: dir.path().to_path_buf(),
        limit: Some(8192),
        watched: 8192,
    });
    let (itx, irx) = tokio::sync::mpsc::unbounded_channel();
    let deps = up_deps(
        project,
        (Box::new(watch), wrx),
        irx,
        Arc::new(|| Err("no backends".into())),
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let path = dir.path().to_path_buf();
    let view = Critical(seen.clone());
    let engine = tokio::spawn(async move { up(&path, deps, view).await });
    let start = Instant::now();
    while seen.lock().expect("lock").is_empty() {
        assert!(start.elapsed() < BOUND, "no critical problem was reported");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let critical = seen.lock().expect("lock").clone();
    assert_eq!(critical.len(), 1, "{critical:?}");
    assert!(critical[0].contains("inotify watch limit"), "{critical:?}");
    itx.send(Intent::Quit).expect("send");
    tokio::time::timeout(BOUND, engine)
        .await
        .expect("the engine ended")
        .expect("the engine task");
}
