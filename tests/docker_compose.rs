//! The compose deploy target against the real Engine and compose tool: `ComposeCli`
//! (up, rm, down with the model on stdin) and `DockerRuntime` (status, events, logs).
//!
//! Each test owns a `stilt-test-...` project in a temp dir; the fixture's `Drop` runs
//! `down --volumes` so nothing is left behind, even when an assertion fails. Waits
//! are bounded polls: a bug fails a test instead of hanging it.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use stilt::deploy::compose::cli::ComposeCli;
use stilt::deploy::compose::runtime::DockerRuntime;
use stilt::deploy::compose::tool::ComposeTool;
use stilt::deploy::compose::{ComposeDeployer, ComposeError, ContainerEvent, ContainerRuntime};
use stilt::model::{ComposeProject, ContainerState, ContainerStatus, Health};
use stilt::process::{LineSink, Stream};
use tempfile::TempDir;

use crate::docker_support::{busybox_image, docker, project_containers, project_networks};

/// Upper bound on any one wait; generous, the machine is shared.
const BOUND: Duration = Duration::from_secs(90);

/// A compose project in a temp dir, resolved by the compose tool's own `config`.
struct Fixture {
    dir: TempDir,
    project: ComposeProject,
    cli: ComposeCli,
    runtime: DockerRuntime,
    log: Arc<Mutex<Vec<(Stream, String)>>>,
    /// Image tags the test made, removed on drop.
    tags: Vec<String>,
}

impl Fixture {
    /// `yaml` with `IMAGE` standing for the busybox test image.
    async fn new(yaml: &str) -> Fixture {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "stilt-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("docker-compose.yml");
        std::fs::write(&file, yaml.replace("IMAGE", busybox_image())).expect("write compose file");
        let tool = ComposeTool::detect().expect("a compose tool").clone();
        let model = resolve(&tool, &file);
        let project = ComposeProject {
            name,
            project_dir: dir.path().to_owned(),
            files: vec![file],
            env_file: None,
            profiles: vec![],
            wait: false,
            model,
        };
        let runtime = DockerRuntime::new(stilt::docker::connect().expect("Docker Engine"));
        Fixture {
            dir,
            project,
            cli: ComposeCli::new(tool),
            runtime,
            log: Arc::default(),
            tags: vec![],
        }
    }

    fn sink(&self) -> LineSink {
        let log = self.log.clone();
        Arc::new(move |stream, line| log.lock().expect("log").push((stream, line)))
    }

    async fn up_with(
        &self,
        service: &str,
        images: &BTreeMap<String, String>,
    ) -> Result<(), ComposeError> {
        let up = self.cli.up(&self.project, service, images, self.sink());
        bounded("compose up", up).await
    }

    async fn up(&self, service: &str) {
        self.up_with(service, &BTreeMap::new())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }

    async fn status(&self, service: &str) -> Option<ContainerStatus> {
        let status = self.runtime.status(&self.project.name, service);
        bounded("status", status).await.expect("status")
    }

    /// Polls `status` until `done` holds for it; returns that status.
    async fn wait_for(
        &self,
        service: &str,
        what: &str,
        done: impl Fn(&Option<ContainerStatus>) -> bool,
    ) -> Option<ContainerStatus> {
        let poll = async {
            loop {
                let s = self.status(service).await;
                if done(&s) {
                    return s;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        bounded(what, poll).await
    }

    async fn running(&self, service: &str) -> ContainerStatus {
        let running = |s: &Option<ContainerStatus>| {
            s.as_ref()
                .is_some_and(|s| s.state == ContainerState::Running)
        };
        self.wait_for(service, "running", running)
            .await
            .expect("status")
    }

    fn volumes(&self) -> Vec<String> {
        let filter = format!("label=com.docker.compose.project={}", self.project.name);
        let out = docker(&["volume", "ls", "-q", "--filter", &filter]);
        out.split_whitespace().map(str::to_owned).collect()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let tool = ComposeTool::detect().expect("a compose tool");
        let file = self.dir.path().join("docker-compose.yml");
        let _ = tool
            .command()
            .args(["-p", &self.project.name, "-f"])
            .arg(&file)
            .args(["down", "--remove-orphans", "--volumes", "-t", "0"])
            .output();
        for tag in &self.tags {
            let _ = std::process::Command::new("docker")
                .args(["rmi", tag])
                .output();
        }
    }
}

/// The normalized model, as stilt's config loader gets it from the tool.
fn resolve(tool: &ComposeTool, file: &PathBuf) -> serde_json::Value {
    let mut cmd = tool.command();
    cmd.arg("-f").arg(file).arg("config");
    if tool.json_config {
        cmd.args(["--format", "json"]);
    }
    let out = cmd.output().expect("run compose config");
    assert!(
        out.status.success(),
        "config: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_saphyr::from_str::<serde_json::Value>(&text).expect("parse config output")
}

async fn bounded<T>(what: &str, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(BOUND, f)
        .await
        .unwrap_or_else(|_| panic!("{what}: no result within {BOUND:?}"))
}

const SLEEPER: &str = "services:
  web:
    image: IMAGE
    command: [\"sh\", \"-c\", \"echo hello; sleep 3600\"]
    labels:
      stilt.test: \"1\"
";

#[tokio::test]
async fn up_starts_a_running_container_that_status_finds_by_labels() {
    let fx = Fixture::new(SLEEPER).await;
    fx.up("web").await;
    let status = fx.running("web").await;
    assert_eq!(status.health, None);
    assert!(!status.started_at.is_empty());
    let labels = docker(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"com.docker.compose.project\"}} \
         {{index .Config.Labels \"com.docker.compose.service\"}}",
        &status.id,
    ]);
    assert_eq!(labels.trim(), format!("{} web", fx.project.name));
    assert_eq!(fx.status("other").await, None);
    // Compose's own progress lines reach the log sink.
    assert!(!fx.log.lock().expect("log").is_empty());
}

#[tokio::test]
async fn health_goes_from_starting_to_healthy_once_the_check_passes() {
    let fx = Fixture::new(
        "services:
  web:
    image: IMAGE
    command: [\"sh\", \"-c\", \"sleep 3600\"]
    labels:
      stilt.test: \"1\"
    healthcheck:
      test: [\"CMD\", \"sh\", \"-c\", \"test -e /ok\"]
      interval: 1s
      retries: 100000
",
    )
    .await;
    fx.up("web").await;
    let status = fx.running("web").await;
    assert_eq!(status.health, Some(Health::Starting));
    docker(&["exec", &status.id, "touch", "/ok"]);
    let healthy =
        |s: &Option<ContainerStatus>| s.as_ref().and_then(|s| s.health) == Some(Health::Healthy);
    fx.wait_for("web", "healthy", healthy).await;
}

#[tokio::test]
async fn killed_container_emits_an_event_and_reports_its_exit_code() {
    let fx = Fixture::new(SLEEPER).await;
    let mut events = fx.runtime.events(&fx.project.name);
    // Not polled yet: the stream still reports what happened since it was made.
    fx.up("web").await;
    let first = bounded("event of up", events.next()).await.expect("event");
    assert_eq!(
        first.expect("event"),
        ContainerEvent {
            service: "web".into()
        }
    );
    let status = fx.running("web").await;
    // Drain what `up` caused, so the next event is the kill's.
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_secs(1), events.next()).await {}
    docker(&["kill", &status.id]);
    let event = bounded("event of kill", events.next())
        .await
        .expect("event");
    assert_eq!(
        event.expect("event"),
        ContainerEvent {
            service: "web".into()
        }
    );
    let exited = fx
        .wait_for("web", "exited", |s| {
            s.as_ref()
                .is_some_and(|s| matches!(s.state, ContainerState::Exited { .. }))
        })
        .await;
    assert_eq!(
        exited.map(|s| s.state),
        Some(ContainerState::Exited { code: 137 })
    );
}

#[tokio::test]
async fn logs_yield_each_output_line_and_end_when_the_container_stops() {
    // Every line ends in a newline: the Engine flushes an unterminated last line at
    // exit, racing the end of the follow. Joining split chunks is unit-tested instead.
    let fx = Fixture::new(
        "services:
  job:
    image: IMAGE
    command: [\"sh\", \"-c\", \"echo hello; sleep 1; echo oops >&2; sleep 1; echo bye\"]
    labels:
      stilt.test: \"1\"
",
    )
    .await;
    fx.up("job").await;
    let status = fx.status("job").await.expect("a container");
    let lines: Vec<_> = bounded("logs to end", fx.runtime.logs(&status.id, 0).collect()).await;
    let lines: Vec<_> = lines.into_iter().map(|l| l.expect("log line")).collect();
    assert_eq!(
        lines,
        vec![
            (Stream::Stdout, "hello".to_owned()),
            (Stream::Stderr, "oops".to_owned()),
            (Stream::Stdout, "bye".to_owned()),
        ]
    );
}

#[tokio::test]
async fn up_runs_the_image_stilt_built_instead_of_building() {
    let mut fx = Fixture::new(
        "services:
  web:
    build: .
    image: stilt-test-never-built:1
    command: [\"sh\", \"-c\", \"sleep 3600\"]
    labels:
      stilt.test: \"1\"
",
    )
    .await;
    let tag = format!("stilt-test-compose-{}:stilt-1", fx.project.name);
    docker(&["tag", busybox_image(), &tag]);
    fx.tags.push(tag.clone());
    let images = BTreeMap::from([("web".to_owned(), tag.clone())]);
    fx.up_with("web", &images)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = fx.running("web").await;
    let image = docker(&["inspect", "-f", "{{.Config.Image}}", &status.id]);
    assert_eq!(image.trim(), tag);
}

#[tokio::test]
async fn down_removes_containers_and_networks_and_volumes_only_when_asked() {
    let fx = Fixture::new(
        "services:
  web:
    image: IMAGE
    command: [\"sh\", \"-c\", \"sleep 3600\"]
    labels:
      stilt.test: \"1\"
    volumes: [\"data:/data\"]
volumes:
  data: {}
",
    )
    .await;
    fx.up("web").await;
    assert_eq!(fx.volumes().len(), 1);
    assert_eq!(project_networks(&fx.project.name).len(), 1);
    let down = fx.cli.down(&fx.project, false, fx.sink());
    bounded("down", down)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(project_containers(&fx.project.name).is_empty());
    assert!(project_networks(&fx.project.name).is_empty());
    assert_eq!(fx.volumes().len(), 1, "down without volumes keeps them");
    fx.up("web").await;
    let down = fx.cli.down(&fx.project, true, fx.sink());
    bounded("down -v", down)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(project_containers(&fx.project.name).is_empty());
    assert!(fx.volumes().is_empty(), "down with volumes removes them");
}

#[tokio::test]
async fn rm_removes_only_that_services_container() {
    let fx = Fixture::new(
        "services:
  a:
    image: IMAGE
    command: [\"sh\", \"-c\", \"sleep 3600\"]
    labels:
      stilt.test: \"1\"
  b:
    image: IMAGE
    command: [\"sh\", \"-c\", \"sleep 3600\"]
    labels:
      stilt.test: \"1\"
",
    )
    .await;
    fx.up("a").await;
    fx.up("b").await;
    let b = fx.running("b").await;
    let rm = fx.cli.rm(&fx.project, "a", fx.sink());
    bounded("rm", rm).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(fx.status("a").await, None);
    assert_eq!(project_containers(&fx.project.name).len(), 1);
    assert_eq!(fx.running("b").await.id, b.id);
}

#[tokio::test]
async fn up_of_a_missing_image_fails_naming_the_service_with_compose_output() {
    let fx = Fixture::new(
        "services:
  bad:
    image: stilt-test-no-such-image:nope
    labels:
      stilt.test: \"1\"
",
    )
    .await;
    let err = fx
        .up_with("bad", &BTreeMap::new())
        .await
        .expect_err("up fails");
    let ComposeError::Failed {
        service, output, ..
    } = &err
    else {
        panic!("not a compose failure: {err}");
    };
    assert_eq!(service.as_deref(), Some("bad"));
    assert!(!output.is_empty());
    let message = err.to_string();
    assert!(message.contains("service \"bad\""), "{message}");
    assert!(message.contains(&fx.project.name), "{message}");
    assert!(message.contains("stilt-test-no-such-image"), "{message}");
}
