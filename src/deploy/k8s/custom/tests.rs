use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::*;
use crate::model::Cmd;
use crate::process::fake::{FakeSpawner, Script};

fn cmd(s: &str) -> CustomCmd {
    CustomCmd {
        cmd: Cmd::Shell(s.into()),
        dir: PathBuf::from("/"),
        env: BTreeMap::from([("MODE".to_owned(), "dev".to_owned())]),
    }
}

fn deploy() -> CustomDeploy {
    CustomDeploy {
        apply: cmd("apply"),
        delete: cmd("delete"),
        deps: Vec::new(),
        image_deps: vec!["web".into(), "api".into()],
        image_selector: None,
        container_selector: None,
    }
}

type Lines = Arc<Mutex<Vec<(Stream, String)>>>;

fn recording() -> (LineSink, Lines) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    let sink: LineSink = Arc::new(move |s, t| l.lock().unwrap().push((s, t)));
    (sink, lines)
}

#[test]
fn the_apply_gets_its_env_and_tilt_image_variables() {
    let built = BTreeMap::from([("web".to_owned(), "web:stilt-1".to_owned())]);
    let env = apply_env(&deploy(), &built);
    let want: BTreeMap<String, String> = [
        ("MODE", "dev"),
        ("TILT_IMAGE_MAP_0", "web"),
        ("TILT_IMAGE_0", "web:stilt-1"),
        ("TILT_IMAGE_MAP_1", "api"),
        ("TILT_IMAGE_1", "api"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(env, want);
}

const APPLIED: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: team
  uid: 1234
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      containers:
      - {name: web, image: web:stilt-1}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
---
apiVersion: v1
kind: Pod
metadata:
  name: solo
  labels: {run: solo}
spec:
  containers:
  - {name: c, image: busybox}
";

#[test]
fn workloads_in_the_output_give_pod_selectors_in_their_namespace() {
    let objects = applied_objects("web", "apply", APPLIED).unwrap();
    assert_eq!(objects.len(), 3);
    let got = pod_selectors(&objects, "default");
    assert_eq!(
        got,
        [
            PodSelector {
                namespace: "team".into(),
                labels: BTreeMap::from([
                    ("app".to_owned(), "web".to_owned()),
                    ("tier".to_owned(), "front".to_owned())
                ]),
            },
            PodSelector {
                namespace: "default".into(),
                labels: BTreeMap::from([("run".to_owned(), "solo".to_owned())]),
            },
        ]
    );
    let labels = BTreeMap::from([
        ("app".to_owned(), "web".to_owned()),
        ("tier".to_owned(), "front".to_owned()),
        ("pod-template-hash".to_owned(), "abc".to_owned()),
    ]);
    assert!(got[0].matches("team", Some(&labels)));
    assert!(!got[0].matches("default", Some(&labels)));
    assert!(!got[1].matches("default", Some(&labels)));
}

#[test]
fn output_that_is_not_yaml_objects_is_an_error_naming_the_command() {
    let e = applied_objects("web", "./deploy.sh", "").unwrap_err();
    assert!(e.to_string().contains("printed no object"), "{e}");
    let e = applied_objects("web", "./deploy.sh", "deployment.apps/web created\n").unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("web: apply command `./deploy.sh` must print"),
        "{text}"
    );
}

#[tokio::test]
async fn the_apply_output_is_captured_and_a_failure_quotes_its_tail() {
    let spawner = FakeSpawner::new();
    spawner.script(
        "sh -c apply",
        Script::Exit {
            lines: vec!["kind: ConfigMap".into(), "metadata: {name: a}".into()],
            code: 0,
        },
    );
    let (log, lines) = recording();
    let out = run(
        &spawner,
        "web",
        "apply",
        &cmd("apply"),
        BTreeMap::new(),
        true,
        &log,
    )
    .await
    .unwrap();
    assert_eq!(out, "kind: ConfigMap\nmetadata: {name: a}\n");
    assert!(lines.lock().unwrap().is_empty());

    let many: Vec<String> = (1..=12).map(|i| format!("line {i}")).collect();
    spawner.script(
        "sh -c delete",
        Script::Exit {
            lines: many,
            code: 3,
        },
    );
    let e = run(
        &spawner,
        "web",
        "delete",
        &cmd("delete"),
        BTreeMap::new(),
        false,
        &log,
    )
    .await
    .unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("web: delete command `delete` failed (exit code 3)"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "line 3\nline 4\nline 5\nline 6\nline 7\nline 8\nline 9\nline 10\nline 11\nline 12"
        ),
        "{text}"
    );
    assert_eq!(lines.lock().unwrap().len(), 12);

    spawner.script("sh -c gone", Script::NotFound);
    let e = run(
        &spawner,
        "web",
        "apply",
        &cmd("gone"),
        BTreeMap::new(),
        true,
        &log,
    )
    .await
    .unwrap_err();
    assert!(matches!(e, CustomError::Start { .. }), "{e}");
}

#[tokio::test]
async fn down_runs_every_delete_command_in_order_and_reports_failures() {
    use crate::model::{K8sSpec, Resource, ResourceKind};
    let k8s = |name: &str, spec: K8sSpec| Resource {
        name: name.into(),
        labels: Vec::new(),
        links: Vec::new(),
        resource_deps: Vec::new(),
        trigger_mode: Default::default(),
        auto_init: true,
        kind: ResourceKind::K8s(spec),
    };
    let resource = |name: &str, delete: &str| {
        k8s(
            name,
            K8sSpec {
                custom: Some(CustomDeploy {
                    delete: cmd(delete),
                    ..deploy()
                }),
                ..K8sSpec::default()
            },
        )
    };
    let plain = k8s("plain", K8sSpec::default());
    let spawner = FakeSpawner::new();
    spawner.script(
        "sh -c del-a",
        Script::Exit {
            lines: vec!["oops".into()],
            code: 1,
        },
    );
    let (log, lines) = recording();
    let errors = delete_all(
        &spawner,
        &[resource("a", "del-a"), plain, resource("b", "del-b")],
        &log,
    )
    .await;
    assert_eq!(spawner.spawned(), ["sh -c del-a", "sh -c del-b"]);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].to_string().starts_with("a: delete command"));
    let lines = lines.lock().unwrap();
    assert_eq!(
        lines[0],
        (Stream::System, "a: running delete_cmd: del-a".to_owned())
    );
    assert_eq!(lines[1], (Stream::Stdout, "oops".to_owned()));
}
