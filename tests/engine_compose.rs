//! The real engine loop over compose resources with every Docker-side system faked
//! (`FakeBuilder`, `FakeCompose` + `FakeRuntime`, `FakeUpdater`): builds, deploys,
//! health-gated readiness and dependencies, failures, and the ci verdict. No Docker;
//! every wait is bounded; nothing asserts on speed.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use stilt::build::fake::FakeBuilder;
use stilt::config::Loaded;
use stilt::deploy::Backends;
use stilt::deploy::compose::fake::{ComposeCall, FakeCompose, FakeRuntime};
use stilt::deploy::compose::target::ComposeTarget;
use stilt::engine::{Deps, EngineOptions, run};
use stilt::liveupdate::fake::FakeUpdater;
use stilt::model::{
    ComposeProject, ComposeService, ContainerState, ContainerStatus, Health, ImageSpec, Project,
    Resource, ResourceKind, ResourceName, TriggerMode,
};
use stilt::process::fake::FakeSpawner;
use stilt::views::ci::CiView;

const BOUND: Duration = Duration::from_secs(20);
const PROJECT: &str = "p";

/// A temp dir holding one build context, and the fakes the engine gets.
struct Fixture {
    dir: tempfile::TempDir,
    builder: FakeBuilder,
    runtime: FakeRuntime,
    compose: FakeCompose,
    updater: FakeUpdater,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").expect("write");
        std::fs::write(dir.path().join("app.txt"), "v1\n").expect("write");
        let runtime = FakeRuntime::new();
        Fixture {
            dir,
            builder: FakeBuilder::new(),
            compose: FakeCompose::new(runtime.clone()),
            runtime,
            updater: FakeUpdater::new(),
        }
    }

    fn image(&self, image_ref: &str) -> ImageSpec {
        ImageSpec::docker(image_ref, self.dir.path())
    }

    // The closure's signature is `LoadFn`'s, large `Err` and all.
    #[allow(clippy::result_large_err)]
    fn deps(&self, project: Project) -> Deps {
        let target = ComposeTarget::new(
            Arc::new(self.compose.clone()),
            Arc::new(self.runtime.clone()),
            Arc::new(self.updater.clone()),
        );
        let backends =
            Backends::new(Arc::new(self.builder.clone())).with_target("compose", Arc::new(target));
        Deps {
            spawner: Arc::new(FakeSpawner::new()),
            watch: None,
            inbox: None,
            load: Arc::new(move |_opts| {
                Ok(Loaded {
                    project: project.clone(),
                    files_read: vec![],
                    warnings: vec![],
                    output: vec![],
                })
            }),
            backends: Arc::new(move || Ok(backends.clone())),
        }
    }

    fn opts(&self, subcommand: &str) -> EngineOptions {
        EngineOptions {
            tiltfile: self.dir.path().join("Tiltfile"),
            args: vec![],
            subcommand: subcommand.into(),
            stop_grace: Duration::from_millis(100),
            k8s: Default::default(),
            load_warn_after: None,
        }
    }

    /// `stilt ci` over `project`: the exit code and the reporter's output.
    async fn ci(&self, project: Project, timeout: Duration) -> (i32, String) {
        self.ci_with(self.deps(project), timeout).await
    }

    async fn ci_with(&self, deps: Deps, timeout: Duration) -> (i32, String) {
        let mut view = CiView::new(Vec::new(), Instant::now(), Some(Some(timeout)));
        let engine = run(self.opts("ci"), deps, &mut view, std::future::pending());
        let code = tokio::time::timeout(BOUND, engine)
            .await
            .expect("the engine did not end");
        (
            code,
            String::from_utf8_lossy(&view.into_inner()).into_owned(),
        )
    }

    fn ups(&self) -> Vec<String> {
        self.compose
            .calls()
            .into_iter()
            .filter_map(|c| match c {
                ComposeCall::Up { service, .. } => Some(service),
                _ => None,
            })
            .collect()
    }
}

fn compose_project(dir: &Path, healthy: &[&str]) -> ComposeProject {
    let mut services = serde_json::Map::new();
    for s in ["web", "db"] {
        let mut svc = serde_json::json!({ "image": s });
        if healthy.contains(&s) {
            svc["healthcheck"] = serde_json::json!({ "test": ["CMD", "true"] });
        }
        services.insert(s.into(), svc);
    }
    ComposeProject {
        name: PROJECT.into(),
        project_dir: dir.to_path_buf(),
        files: vec![dir.join("docker-compose.yml")],
        env_file: None,
        profiles: vec![],
        wait: false,
        model: serde_json::json!({ "services": services }),
    }
}

fn service(project: &ComposeProject, name: &str, image: Option<&str>, deps: &[&str]) -> Resource {
    let has_healthcheck = project.model["services"][name].get("healthcheck").is_some();
    Resource {
        name: ResourceName::new(name),
        labels: vec![],
        links: vec![],
        resource_deps: deps.iter().map(|d| ResourceName::new(*d)).collect(),
        trigger_mode: TriggerMode::Auto,
        auto_init: true,
        kind: ResourceKind::Compose(ComposeService {
            project: project.clone(),
            service: name.into(),
            image: image.map(str::to_owned),
            has_healthcheck,
            published_ports: vec![],
            infer_links: true,
        }),
    }
}

fn project_of(fx: &Fixture, resources: Vec<Resource>, images: Vec<ImageSpec>) -> Project {
    Project {
        tiltfile: fx.dir.path().join("Tiltfile"),
        resources,
        images,
        ..Project::default()
    }
}

fn running(id: &str, health: Option<Health>) -> ContainerStatus {
    ContainerStatus {
        id: id.into(),
        state: ContainerState::Running,
        health,
        started_at: "later".into(),
        restart_count: 0,
        restart_loses_files: false,
    }
}

#[tokio::test(start_paused = true)]
async fn ci_builds_the_image_deploys_it_under_its_content_tag_and_succeeds() {
    let fx = Fixture::new();
    let cp = compose_project(fx.dir.path(), &[]);
    let p = project_of(
        &fx,
        vec![service(&cp, "web", Some("web"), &[])],
        vec![fx.image("web")],
    );
    let (code, out) = fx.ci(p, Duration::from_secs(10)).await;
    assert_eq!(code, 0, "{out}");
    let builds = fx.builder.builds();
    assert_eq!(builds.len(), 1, "{builds:?}");
    let tagged = &builds[0].1;
    assert!(tagged.starts_with("web:stilt-"), "{tagged}");
    let up = fx.compose.calls().into_iter().find_map(|c| match c {
        ComposeCall::Up { images, .. } => Some(images),
        _ => None,
    });
    assert_eq!(
        up.and_then(|i| i.get("web").cloned()).as_ref(),
        Some(tagged)
    );
}

#[tokio::test(start_paused = true)]
async fn a_build_failure_fails_ci_naming_the_resource_and_never_deploys() {
    let fx = Fixture::new();
    fx.builder
        .fail("web", "Step 2/2 : RUN false: returned a non-zero code: 1");
    let cp = compose_project(fx.dir.path(), &[]);
    let p = project_of(
        &fx,
        vec![service(&cp, "web", Some("web"), &[])],
        vec![fx.image("web")],
    );
    let (code, out) = fx.ci(p, Duration::from_secs(10)).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("web failed"), "{out}");
    assert!(out.contains("RUN false"), "{out}");
    assert!(fx.ups().is_empty(), "no deploy after a failed build");
}

#[tokio::test(start_paused = true)]
async fn a_multi_line_build_failure_is_printed_once_with_no_colour_codes_in_the_verdict() {
    let fx = Fixture::new();
    fx.builder.fail(
        "web",
        "\u{1b}[31mStep 2/2 : COPY missing.txt /\u{1b}[0m\nCOPY failed: stat missing.txt: file does not exist",
    );
    let cp = compose_project(fx.dir.path(), &[]);
    let p = project_of(
        &fx,
        vec![service(&cp, "web", Some("web"), &[])],
        vec![fx.image("web")],
    );
    let (code, out) = fx.ci(p, Duration::from_secs(10)).await;
    assert_eq!(code, 1, "{out}");
    // The builder's output streams once; the run line, the headline and the summary
    // name the failure in one line each, without repeating the detail.
    assert_eq!(
        out.matches("COPY failed: stat missing.txt").count(),
        1,
        "{out}"
    );
    let verdict = &out[out.find("\nERROR:").expect("a verdict")..];
    assert!(!verdict.contains('\u{1b}'), "{verdict}");
    assert!(verdict.contains("web failed"), "{verdict}");
}

#[tokio::test(start_paused = true)]
async fn a_dependency_with_a_healthcheck_holds_its_dependents_until_healthy() {
    let fx = Fixture::new();
    let cp = compose_project(fx.dir.path(), &["db"]);
    let p = project_of(
        &fx,
        vec![
            service(&cp, "db", None, &[]),
            service(&cp, "web", None, &["db"]),
        ],
        vec![],
    );
    let runtime = fx.runtime.clone();
    let compose = fx.compose.clone();
    let flip = tokio::spawn(async move {
        // Wait for db's deploy, check web was held, then let db's healthcheck pass.
        let start = Instant::now();
        while !compose
            .calls()
            .iter()
            .any(|c| matches!(c, ComposeCall::Up { service, .. } if service == "db"))
        {
            assert!(start.elapsed() < BOUND, "db was never deployed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let held = !compose
            .calls()
            .iter()
            .any(|c| matches!(c, ComposeCall::Up { service, .. } if service == "web"));
        let id = runtime
            .current(PROJECT, "db")
            .map(|s| s.id)
            .unwrap_or_default();
        runtime.set_status(PROJECT, "db", Some(running(&id, Some(Health::Healthy))));
        held
    });
    let (code, out) = fx.ci(p, Duration::from_secs(10)).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        flip.await.expect("flip task"),
        "web was deployed before db was healthy"
    );
    assert_eq!(fx.ups(), vec!["db".to_owned(), "web".to_owned()]);
}

#[tokio::test(start_paused = true)]
async fn a_container_that_exits_with_an_error_fails_ci_with_its_exit_code() {
    let fx = Fixture::new();
    let cp = compose_project(fx.dir.path(), &["web"]);
    let p = project_of(&fx, vec![service(&cp, "web", None, &[])], vec![]);
    let runtime = fx.runtime.clone();
    let compose = fx.compose.clone();
    tokio::spawn(async move {
        while compose.calls().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut s = runtime.current(PROJECT, "web").expect("deployed");
        s.state = ContainerState::Exited { code: 3 };
        s.health = None;
        runtime.set_status(PROJECT, "web", Some(s));
    });
    let (code, out) = fx.ci(p, Duration::from_secs(10)).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("web failed: container exited with code 3"),
        "{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_container_whose_health_stays_starting_is_not_ready_and_ci_times_out() {
    let fx = Fixture::new();
    let cp = compose_project(fx.dir.path(), &["web"]);
    let p = project_of(&fx, vec![service(&cp, "web", None, &[])], vec![]);
    let (code, out) = fx.ci(p, Duration::from_millis(800)).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("timed out"),
        "health: starting never became ready:\n{out}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unhealthy_container_fails_ci_saying_its_healthcheck_fails() {
    let fx = Fixture::new();
    let cp = compose_project(fx.dir.path(), &["web"]);
    let p = project_of(&fx, vec![service(&cp, "web", None, &[])], vec![]);
    let runtime = fx.runtime.clone();
    let compose = fx.compose.clone();
    tokio::spawn(async move {
        while compose.calls().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let id = runtime
            .current(PROJECT, "web")
            .map(|s| s.id)
            .unwrap_or_default();
        runtime.set_status(PROJECT, "web", Some(running(&id, Some(Health::Unhealthy))));
    });
    let (code, out) = fx.ci(p, Duration::from_secs(10)).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("web failed: container is unhealthy"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn without_docker_a_compose_resource_fails_with_the_connection_error() {
    let fx = Fixture::new();
    let cp = compose_project(fx.dir.path(), &[]);
    let p = project_of(&fx, vec![service(&cp, "web", None, &[])], vec![]);
    let mut deps = fx.deps(p);
    deps.backends = Arc::new(|| Err("cannot reach the Docker Engine: no socket".into()));
    let (code, out) = fx.ci_with(deps, Duration::from_secs(5)).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("cannot reach the Docker Engine"), "{out}");
}

/// A view for `up`: never ends the engine; the test quits through the inbox.
struct Quiet;

impl stilt::engine::View for Quiet {
    fn update(
        &mut self,
        _state: &stilt::store::EngineState,
        _decision: &stilt::engine::schedule::Decision,
        _now: Instant,
    ) -> Option<i32> {
        None
    }
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < BOUND, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn disabling_a_compose_resource_removes_its_container_and_enabling_redeploys_it() {
    use stilt::store::Intent;
    let fx = Fixture::new();
    let cp = compose_project(fx.dir.path(), &[]);
    let p = project_of(&fx, vec![service(&cp, "web", None, &[])], vec![]);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut deps = fx.deps(p);
    deps.inbox = Some(rx);
    let opts = fx.opts("up");
    let engine = tokio::spawn(async move {
        let mut view = Quiet;
        run(opts, deps, &mut view, std::future::pending()).await
    });
    let web = ResourceName::new("web");
    wait_until("the first deploy", || {
        fx.runtime.current(PROJECT, "web").is_some()
    })
    .await;
    let enable = |enabled| Intent::SetEnabled {
        resource: web.clone(),
        enabled,
    };
    tx.send(enable(false)).expect("send");
    wait_until("the container's removal", || {
        fx.runtime.current(PROJECT, "web").is_none()
    })
    .await;
    assert!(
        fx.compose
            .calls()
            .iter()
            .any(|c| matches!(c, ComposeCall::Rm { service, .. } if service == "web")),
        "{:?}",
        fx.compose.calls()
    );
    tx.send(enable(true)).expect("send");
    wait_until("the redeploy", || {
        fx.runtime.current(PROJECT, "web").is_some()
    })
    .await;
    assert_eq!(fx.ups(), vec!["web".to_owned(), "web".to_owned()]);
    tx.send(Intent::Quit).expect("send");
    tokio::time::timeout(BOUND, engine)
        .await
        .expect("the engine ended")
        .expect("join");
}
