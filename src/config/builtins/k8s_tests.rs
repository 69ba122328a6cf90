//! Tests for the Kubernetes builtins, through whole Tiltfile loads.

use super::super::test_util::*;
use crate::config::{LoadFailure, LoadOptions, Loaded, load};
use crate::model::{K8sSettings, K8sSpec, PodReadiness, TriggerMode};

const APP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: example/web:latest
---
apiVersion: v1
kind: Service
metadata: {name: web-svc}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: b}
";

fn opts(p: &Project, context: &str, namespace: Option<&str>) -> LoadOptions {
    LoadOptions {
        tiltfile: p.path().join("Tiltfile"),
        subcommand: "up".into(),
        k8s: K8sSettings {
            context: Some(context.into()),
            namespace: namespace.map(Into::into),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Loads against the test cluster's context (a local one for the guard).
fn load_ok(p: &Project) -> Loaded {
    load(&opts(p, "stilt-test", None)).unwrap_or_else(|f| panic!("load failed: {}", f.error))
}

fn load_err(p: &Project, context: &str) -> LoadFailure {
    match load(&opts(p, context, None)) {
        Ok(l) => panic!("load unexpectedly succeeded: {:?}", l.project.resources),
        Err(f) => f,
    }
}

fn project(tiltfile: &str) -> Project {
    let p = Project::new(tiltfile);
    p.write("app.yaml", APP);
    p
}

fn spec<'a>(l: &'a Loaded, name: &str) -> &'a K8sSpec {
    l.project
        .resource(name)
        .and_then(|r| r.k8s())
        .unwrap_or_else(|| panic!("no k8s resource {name}"))
}

fn names(l: &Loaded) -> Vec<&str> {
    l.project
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .collect()
}

#[test]
fn k8s_yaml_groups_objects_and_watches_the_file() {
    let p = project("k8s_yaml('app.yaml')\n");
    let l = load_ok(&p);
    assert_eq!(names(&l), ["uncategorized", "web"]);
    let web = spec(&l, "web");
    let ids: Vec<String> = web.objects.iter().map(|o| o.selector(false)).collect();
    assert_eq!(ids, ["web:deployment", "web-svc:service"]);
    assert_eq!(web.workload, Some(0));
    assert_eq!(web.pod_readiness, PodReadiness::Wait);
    assert!(has(&l.files_read, &p.path().join("app.yaml")));
    let deps = &l.project.resource("web").unwrap().resource_deps;
    assert_eq!(deps, &vec!["uncategorized".into()]);
}

#[test]
fn a_missing_yaml_file_fails_at_the_call_naming_it() {
    let f = project("x = 1\nk8s_yaml(['app.yaml', 'nope.yaml'])\n").fail();
    assert_fails_at(&f, "nope.yaml", 2, 1);
    assert!(f.files_read.iter().any(|p| p.ends_with("nope.yaml")));
    let f = project("k8s_yaml('apiVersion: v1\\nkind: Secret\\n')\n").fail();
    assert_fails_at(&f, "pass YAML text as blob(...)", 1, 1);
    let l = load_ok(&project(
        "k8s_yaml(blob('apiVersion: v1\\nkind: Secret\\nmetadata: {name: s}\\n'))\n",
    ));
    assert_eq!(names(&l), ["uncategorized"]);
}

#[test]
fn duplicates_fail_unless_allowed() {
    let f = project("k8s_yaml('app.yaml')\nk8s_yaml(read_file('app.yaml'))\n").fail();
    assert_fails_at(&f, "web:deployment in <blob> is already declared", 2, 1);
    let l = load_ok(&project(
        "k8s_yaml('app.yaml')\nk8s_yaml('app.yaml', allow_duplicates=True)\n",
    ));
    assert_eq!(spec(&l, "web").objects.len(), 2);
}

#[test]
fn k8s_resource_may_precede_k8s_yaml_and_images_may_follow() {
    let p = project(
        "k8s_resource('web', port_forwards=8000, labels='fe', trigger_mode=TRIGGER_MODE_MANUAL)\n\
         k8s_yaml('app.yaml')\n\
         docker_build('example/web', '.')\n",
    );
    p.write("Dockerfile", "FROM scratch\n");
    let l = load_ok(&p);
    let web = spec(&l, "web");
    assert_eq!(web.images, ["example/web"]);
    assert_eq!(
        web.image_slots[0].pointer,
        "/spec/template/spec/containers/0/image"
    );
    let r = l.project.resource("web").unwrap();
    assert_eq!(r.labels, ["fe"]);
    assert_eq!(r.trigger_mode, TriggerMode::Manual);
    assert_eq!(r.links[0].url, "http://localhost:8000/");
    assert!(
        l.warnings.iter().all(|w| !w.contains("not used")),
        "{:?}",
        l.warnings
    );
}

#[test]
fn an_unknown_workload_fails_at_the_k8s_resource_call() {
    let f = project("k8s_yaml('app.yaml')\n\nk8s_resource('foo')\n").fail();
    assert_fails_at(
        &f,
        "k8s_resource named \"foo\" not found. Known names: web",
        3,
        1,
    );
}

#[test]
fn port_forwards_take_every_form() {
    let l = load_ok(&project(
        "k8s_yaml('app.yaml')\nk8s_resource('web', port_forwards=['9000', '9001:80', \
         '0.0.0.0:9002:81', 9003, port_forward(9004, 82, name='api', link_path='/v1')])\n",
    ));
    let pfs = &spec(&l, "web").port_forwards;
    let got: Vec<(u16, u16)> = pfs
        .iter()
        .map(|p| (p.local_port, p.container_port()))
        .collect();
    assert_eq!(
        got,
        [
            (9000, 9000),
            (9001, 80),
            (9002, 81),
            (9003, 9003),
            (9004, 82)
        ]
    );
    assert_eq!(pfs[2].host(), "0.0.0.0");
    let link = l
        .project
        .resource("web")
        .unwrap()
        .links
        .last()
        .cloned()
        .unwrap();
    assert_eq!(link.url, "http://localhost:9004/v1");
    assert_eq!(link.name.as_deref(), Some("api"));
    let f = project("k8s_resource('web', port_forwards='90000')\n").fail();
    assert_fails_at(&f, "\"90000\"", 1, 1);
}

#[test]
fn pod_settings_are_read_and_bad_values_named() {
    let l = load_ok(&project(
        "k8s_yaml('app.yaml')\nk8s_resource('web', extra_pod_selectors=[{'a': 'b'}, {'c': 'd'}], \
         pod_readiness='ignore', discovery_strategy='selectors-only')\n",
    ));
    let web = spec(&l, "web");
    assert_eq!(web.extra_pod_selectors.len(), 2);
    assert_eq!(web.pod_readiness, PodReadiness::Ignore);
    assert_eq!(
        web.discovery,
        crate::model::DiscoveryStrategy::SelectorsOnly
    );
    let f = project("k8s_resource('web', pod_readiness='soon')\n").fail();
    assert_fails_at(&f, "must be 'wait', 'ignore' or ''", 1, 1);
    let f = project("k8s_resource('web', discovery_strategy='x')\n").fail();
    assert_fails_at(&f, "'selectors-only'", 1, 1);
    let f = project("k8s_resource('web', extra_pod_selectors='app=web')\n").fail();
    assert_fails_at(&f, "dict of labels", 1, 1);
}

#[test]
fn context_and_namespace_follow_the_flags() {
    let p = project("print(k8s_context())\nprint(k8s_namespace())\n");
    let l = load(&opts(&p, "kind-x", Some("team"))).unwrap();
    assert_eq!(l.output, ["kind-x", "team"]);
}

#[test]
fn the_guard_stops_unknown_contexts_unless_allowed() {
    let f = load_err(&project("k8s_yaml('app.yaml')\n"), "gke_prod");
    let text = f.error.to_string();
    assert!(
        text.contains("Stop! gke_prod might be production"),
        "{text}"
    );
    assert!(text.contains("allow_k8s_contexts('gke_prod')"), "{text}");
    let p = project("allow_k8s_contexts(['other', 'gke_prod'])\nk8s_yaml('app.yaml')\n");
    assert!(load(&opts(&p, "gke_prod", None)).is_ok());
    let no_k8s = Project::new("local_resource('a', cmd='true')\n");
    assert!(load(&opts(&no_k8s, "gke_prod", None)).is_ok());
}

#[test]
fn filter_yaml_splits_matching_objects_from_the_rest() {
    let l = load_ok(&project(
        "svc, rest = filter_yaml('app.yaml', kind='^service$')\n\
         k8s_yaml(rest)\n\
         print(type(svc), 'web-svc' in str(svc), 'web-svc' in str(rest))\n\
         cfg, _ = filter_yaml(read_file('app.yaml'), name='sett', labels={})\n\
         print('settings' in str(cfg), 'web' in str(cfg))\n",
    ));
    assert_eq!(l.output, ["blob True False", "True False"]);
    assert_eq!(spec(&l, "web").objects.len(), 1);
    let f = project("filter_yaml('app.yaml', name='(')\n").fail();
    assert_fails_at(&f, "invalid regular expression", 1, 1);
}

#[test]
fn workload_to_resource_function_names_workloads_before_and_after() {
    let before = "def name(o):\n    return o.name + '-' + o.kind.lower() + '-' + o.labels.get('tier', 'x')\n\
                  workload_to_resource_function(name)\nk8s_yaml('app.yaml')\n";
    let l = load_ok(&project(before));
    assert_eq!(names(&l), ["uncategorized", "web-deployment-x"]);
    let after = "k8s_yaml('app.yaml')\nworkload_to_resource_function(lambda o: 'x-' + o.namespace)\n\
                 k8s_resource('x-default', new_name='y')\n";
    assert_eq!(names(&load_ok(&project(after))), ["uncategorized", "y"]);
    let f = project("k8s_yaml('app.yaml')\nworkload_to_resource_function(lambda o: 3)\n").fail();
    assert_fails_at(&f, "must return a non-empty string", 2, 1);
    let f =
        project("k8s_yaml('app.yaml')\nworkload_to_resource_function(lambda o: o.labels['x'])\n")
            .fail();
    assert_fails_at(
        &f,
        "workload_to_resource_function failed for web:deployment: ",
        2,
        1,
    );
}

#[test]
fn kubernetes_resources_come_before_local_resources_as_in_tilt() {
    let l = load_ok(&project(
        "local_resource('a', cmd='true')\nk8s_yaml('app.yaml')\nlocal_resource('b', cmd='true')\n",
    ));
    assert_eq!(names(&l), ["uncategorized", "web", "a", "b"]);
}

#[test]
fn ci_settings_sets_the_grace_period() {
    let l = load_ok(&project("ci_settings(k8s_grace_period='45s')\n"));
    assert_eq!(
        l.project.settings.k8s.grace_period,
        Some(std::time::Duration::from_secs(45))
    );
}

#[test]
fn objects_only_resources_and_objects_placement() {
    let l = load_ok(&project(
        "k8s_yaml('app.yaml')\nk8s_resource(new_name='config', objects=['settings:ConfigMap'], \
         resource_deps=['web'])\n",
    ));
    assert_eq!(names(&l), ["web", "config"]);
    let cfg = spec(&l, "config");
    assert_eq!(cfg.workload, None);
    assert_eq!(cfg.pod_readiness, PodReadiness::Ignore);
    let deps = &l.project.resource("config").unwrap().resource_deps;
    assert_eq!(deps, &vec!["web".into()]);
}

#[test]
fn an_unknown_resource_dep_fails_at_the_k8s_resource_call() {
    let p = project("k8s_yaml('app.yaml')\nk8s_resource('web', resource_deps=['nope'])\n");
    let f = load_err(&p, "stilt-test");
    assert_fails_at(&f, "nope", 2, 1);
}

#[test]
fn the_trigger_mode_default_is_the_one_in_force_at_the_end() {
    let l = load_ok(&project(
        "k8s_yaml('app.yaml')\ntrigger_mode(TRIGGER_MODE_MANUAL)\n",
    ));
    let web = l.project.resource("web").unwrap();
    assert_eq!(web.trigger_mode, TriggerMode::Manual);
}
