use super::*;
use crate::config::k8s::yaml::parse_objects;

fn decls(yaml: &str) -> Vec<ObjectDecl> {
    parse_objects(yaml, "test.yaml")
        .expect("yaml")
        .into_iter()
        .map(|object| ObjectDecl {
            object,
            name_override: None,
        })
        .collect()
}

fn deployment(name: &str, app: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n    spec:\n      containers:\n      - name: main\n        image: {image}\n---\n"
    )
}

fn service(name: &str, app: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app: {app}\n  ports:\n  - port: 80\n---\n"
    )
}

fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n---\n")
}

/// `name: [object selectors]` per resource, in order.
fn shape(g: &Grouped) -> Vec<String> {
    g.resources
        .iter()
        .map(|(r, _)| {
            let k = r.k8s().expect("k8s");
            let objs: Vec<String> = k.objects.iter().map(|o| o.selector(false)).collect();
            format!("{}: {}", r.name, objs.join(", "))
        })
        .collect()
}

fn run(yaml: &str, calls: &[K8sResourceOpts]) -> Result<Grouped, GroupError> {
    group(&decls(yaml), calls, &["web".into()], TriggerMode::Auto)
}

#[test]
fn a_service_goes_with_the_workload_it_selects_and_the_rest_is_uncategorized() {
    let yaml = deployment("web", "web", "web")
        + &service("web-svc", "web")
        + &config_map("cfg")
        + &service("lonely", "nobody");
    let g = run(&yaml, &[]).expect("groups");
    assert_eq!(
        shape(&g),
        [
            "uncategorized: cfg:configmap, lonely:service",
            "web: web:deployment, web-svc:service"
        ]
    );
    let (web, _) = &g.resources[1];
    assert_eq!(web.resource_deps, [ResourceName::new("uncategorized")]);
    let k = web.k8s().expect("k8s");
    assert_eq!(k.workload, Some(0));
    assert_eq!(k.images, ["web"]);
    assert_eq!(
        k.image_slots[0].pointer,
        "/spec/template/spec/containers/0/image"
    );
    assert_eq!(g.used_images, ["web"]);
}

#[test]
fn colliding_workload_names_get_the_kind_then_the_namespace() {
    let yaml = deployment("api", "a", "x")
        + "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n      - name: j\n        image: x\n---\n"
        + "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: one\nspec:\n  template:\n    spec:\n      containers: []\n---\n"
        + "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: two\nspec:\n  template:\n    spec:\n      containers: []\n";
    let g = run(&yaml, &[]).expect("groups");
    let names: Vec<&str> = g.resources.iter().map(|(r, _)| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "api:deployment",
            "api:job",
            "db:statefulset:one",
            "db:statefulset:two"
        ]
    );
}

#[test]
fn objects_places_an_object_and_can_make_an_objects_only_resource() {
    let yaml = deployment("web", "web", "web") + &config_map("cfg") + &config_map("other");
    let calls = [
        K8sResourceOpts {
            workload: "web".into(),
            objects: vec!["cfg:configmap".into()],
            ..Default::default()
        },
        K8sResourceOpts {
            new_name: Some("settings".into()),
            objects: vec!["other".into()],
            ..Default::default()
        },
    ];
    let g = run(&yaml, &calls).expect("groups");
    assert_eq!(
        shape(&g),
        [
            "web: web:deployment, cfg:configmap",
            "settings: other:configmap"
        ]
    );
}

#[test]
fn an_unknown_workload_lists_the_known_names() {
    let yaml = deployment("web", "web", "web") + &config_map("cfg");
    let calls = [K8sResourceOpts {
        workload: "wbe".into(),
        ..Default::default()
    }];
    let e = run(&yaml, &calls).expect_err("unknown");
    assert_eq!(
        e.message,
        "k8s_resource named \"wbe\" not found. Known names: uncategorized, web"
    );
    assert_eq!(e.opts, Some(0));
}

#[test]
fn an_objects_selector_that_matches_nothing_or_several_is_an_error() {
    let yaml = config_map("cfg") + "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cfg\n---\n";
    let call = |sel: &str| K8sResourceOpts {
        new_name: Some("x".into()),
        objects: vec![sel.into()],
        ..Default::default()
    };
    let e = run(&yaml, &[call("nope")]).expect_err("nothing");
    assert!(
        e.message.contains("no object is identified by \"nope\""),
        "{}",
        e.message
    );
    let e = run(&yaml, &[call("cfg")]).expect_err("several");
    assert!(
        e.message.contains("(cfg:configmap, cfg:secret)"),
        "{}",
        e.message
    );
    assert!(run(&yaml, &[call("cfg:Secret")]).is_ok());
}

#[test]
fn options_rename_forward_ports_and_merge_across_calls() {
    let yaml = deployment("web", "web", "web");
    let pf = PortForward {
        local_port: 8000,
        container_port: Some(80),
        name: Some("site".into()),
        link_path: None,
        host: None,
    };
    let calls = [
        K8sResourceOpts {
            workload: "web".into(),
            port_forwards: vec![pf.clone()],
            ..Default::default()
        },
        K8sResourceOpts {
            workload: "web".into(),
            new_name: Some("frontend".into()),
            pod_readiness: Some(PodReadiness::Ignore),
            labels: Some(vec!["fe".into()]),
            ..Default::default()
        },
    ];
    let g = run(&yaml, &calls).expect("groups");
    let (r, at) = &g.resources[0];
    assert_eq!(r.name.as_str(), "frontend");
    assert_eq!(*at, Some(1));
    assert_eq!(r.labels, ["fe"]);
    assert_eq!(r.links[0].url, "http://localhost:8000/");
    let k = r.k8s().expect("k8s");
    assert_eq!(k.port_forwards, [pf]);
    assert_eq!(k.pod_readiness, PodReadiness::Ignore);
    assert!(r.resource_deps.is_empty(), "no uncategorized, no dep");
}

#[test]
fn images_in_init_containers_cronjobs_and_pods_get_slots_and_others_are_left() {
    let yaml = "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers:\n          - name: init\n            image: web:old\n          containers:\n          - name: run\n            image: busybox\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: solo\nspec:\n  containers:\n  - name: c\n    image: docker.io/library/web\n";
    let g = run(yaml, &[]).expect("groups");
    let cron = g.resources[0].0.k8s().expect("k8s").clone();
    assert_eq!(cron.image_slots.len(), 1);
    assert_eq!(
        cron.image_slots[0].pointer,
        "/spec/jobTemplate/spec/template/spec/initContainers/0/image"
    );
    let pod = g.resources[1].0.k8s().expect("k8s").clone();
    assert_eq!(pod.image_slots[0].pointer, "/spec/containers/0/image");
}

#[test]
fn namespaces_and_crds_are_applied_first_within_a_resource() {
    let yaml = config_map("cfg")
        + "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.x.io\n---\n"
        + "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n";
    let g = run(&yaml, &[]).expect("groups");
    assert_eq!(
        shape(&g),
        ["uncategorized: team:namespace, things.x.io:customresourcedefinition, cfg:configmap"]
    );
}

#[test]
fn workload_to_resource_function_names_win() {
    let mut d = decls(&deployment("web", "web", "web"));
    d[0].name_override = Some("frontend-web".into());
    let g = group(&d, &[], &[], TriggerMode::Manual).expect("groups");
    assert_eq!(g.resources[0].0.name.as_str(), "frontend-web");
    assert_eq!(g.resources[0].0.trigger_mode, TriggerMode::Manual);
}
