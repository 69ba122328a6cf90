use serde_json::json;

use super::*;

fn obj(kind: &str, name: &str, ns: Option<&str>, body: Value) -> K8sObject {
    K8sObject {
        api_version: if kind == "Deployment" {
            "apps/v1"
        } else {
            "v1"
        }
        .into(),
        kind: kind.into(),
        name: name.into(),
        namespace: ns.map(Into::into),
        body,
    }
}

fn deploy(name: &str, app: &str) -> K8sObject {
    obj(
        "Deployment",
        name,
        None,
        json!({"spec": {"template": {"metadata": {"labels": {"app": app, "x": "y"}},
            "spec": {"containers": [{"image": "web"}]}}}}),
    )
}

fn service(name: &str, app: &str) -> K8sObject {
    obj(
        "Service",
        name,
        None,
        json!({"spec": {"selector": {"app": app}}}),
    )
}

fn plain(kind: &str, name: &str) -> K8sObject {
    obj(kind, name, None, json!({}))
}

/// `name: [object selectors]` per group, for compact assertions.
fn summary(objects: &[K8sObject], groups: &[Group]) -> Vec<(String, Vec<String>)> {
    groups
        .iter()
        .map(|g| {
            let ids = g
                .objects
                .iter()
                .map(|&i| objects[i].selector(false))
                .collect();
            (g.name.clone(), ids)
        })
        .collect()
}

fn s(name: &str, ids: &[&str]) -> (String, Vec<String>) {
    (name.into(), ids.iter().map(|s| (*s).to_owned()).collect())
}

#[test]
fn services_join_the_workload_their_selector_picks() {
    let objects = vec![
        service("web-svc", "web"),
        deploy("web", "web"),
        deploy("db", "db"),
        service("other", "nothing"),
        plain("ConfigMap", "cfg"),
    ];
    let groups = group(&objects, &[], &[]).unwrap();
    assert_eq!(
        summary(&objects, &groups),
        [
            s("uncategorized", &["other:service", "cfg:configmap"]),
            s("web", &["web-svc:service", "web:deployment"]),
            s("db", &["db:deployment"]),
        ]
    );
    assert_eq!(groups[1].workload, Some(1));
    assert_eq!(groups[0].workload, None);
}

#[test]
fn namespaces_and_crds_apply_first() {
    let objects = vec![
        plain("ConfigMap", "a"),
        plain("CustomResourceDefinition", "crd"),
        plain("Namespace", "ns"),
    ];
    let groups = group(&objects, &[], &[]).unwrap();
    assert_eq!(groups[0].objects, [2, 1, 0]);
}

#[test]
fn colliding_names_get_the_kind_then_the_namespace() {
    let mut job = deploy("app", "x");
    job.kind = "Job".into();
    let mut other_ns = deploy("app", "y");
    other_ns.namespace = Some("b".into());
    let mut one_ns = deploy("app", "y");
    one_ns.namespace = Some("a".into());
    let objects = vec![job, one_ns, other_ns, deploy("solo", "z")];
    let workloads = [0, 1, 2, 3];
    assert_eq!(
        workload_names(&objects, &workloads, &[]),
        ["app:job", "app:deployment:a", "app:deployment:b", "solo"]
    );
    let custom = vec![Some("x".into()), None, None, Some("y".into())];
    assert_eq!(
        workload_names(&objects, &workloads, &custom),
        ["x", "app:deployment:a", "app:deployment:b", "y"]
    );
}

#[test]
fn objects_are_placed_by_selector_and_new_name_renames() {
    let objects = vec![
        deploy("web", "web"),
        plain("ConfigMap", "cfg"),
        plain("Secret", "cfg"),
    ];
    let calls = [Placement {
        workload: "web".into(),
        new_name: Some("frontend".into()),
        objects: vec!["cfg:configmap".into()],
    }];
    let groups = group(&objects, &[], &calls).unwrap();
    assert_eq!(
        summary(&objects, &groups),
        [
            s("uncategorized", &["cfg:secret"]),
            s("frontend", &["web:deployment", "cfg:configmap"]),
        ]
    );
    assert_eq!(groups[1].calls, [0]);
}

#[test]
fn a_resource_of_objects_only_can_be_made_and_found_again() {
    let objects = vec![plain("ConfigMap", "a"), plain("Secret", "b")];
    let calls = [
        Placement {
            workload: String::new(),
            new_name: Some("config".into()),
            objects: vec!["a".into()],
        },
        Placement {
            workload: "config".into(),
            new_name: None,
            objects: vec!["b".into()],
        },
    ];
    let groups = group(&objects, &[], &calls).unwrap();
    assert_eq!(
        summary(&objects, &groups),
        [s("config", &["a:configmap", "b:secret"])]
    );
    assert_eq!(groups[0].calls, [0, 1]);
    assert_eq!(groups[0].workload, None);
}

#[test]
fn an_unknown_workload_lists_the_known_names() {
    let objects = vec![deploy("a", "a"), deploy("b", "b")];
    let calls = [Placement {
        workload: "foo".into(),
        ..Default::default()
    }];
    let e = group(&objects, &[], &calls).unwrap_err();
    assert_eq!(e.call, Some(0));
    assert_eq!(
        e.message,
        "k8s_resource named \"foo\" not found. Known names: a, b"
    );
}

#[test]
fn bad_object_selectors_are_errors_naming_them() {
    let mut cm2 = plain("ConfigMap", "cfg");
    cm2.namespace = Some("other".into());
    let objects = vec![deploy("web", "web"), plain("ConfigMap", "cfg"), cm2];
    let fail = |sel: &str| {
        let calls = [Placement {
            workload: "web".into(),
            new_name: None,
            objects: vec![sel.into()],
        }];
        group(&objects, &[], &calls).unwrap_err().message
    };
    assert!(fail("nope").contains("no object matches \"nope\""));
    assert!(fail("cfg").contains("matches several objects (cfg:configmap, cfg:configmap:other)"));
    assert!(fail("web").contains("is a workload"));
    assert!(fail("a:b:c:d").contains("not an object selector"));
}

#[test]
fn an_object_placed_twice_is_an_error() {
    let objects = vec![
        deploy("a", "a"),
        deploy("b", "b"),
        plain("ConfigMap", "cfg"),
    ];
    let place = |w: &str| Placement {
        workload: w.into(),
        new_name: None,
        objects: vec!["cfg".into()],
    };
    let e = group(&objects, &[], &[place("a"), place("b")]).unwrap_err();
    assert_eq!(e.call, Some(1));
    assert!(
        e.message.contains("already placed in resource \"a\""),
        "{e}"
    );
}

#[test]
fn uncategorized_can_be_configured_when_it_exists() {
    let objects = vec![plain("ConfigMap", "cfg")];
    let calls = [Placement {
        workload: "uncategorized".into(),
        ..Default::default()
    }];
    assert_eq!(group(&objects, &[], &calls).unwrap()[0].calls, [0]);
    let e = group(&[deploy("a", "a")], &[], &calls).unwrap_err();
    assert!(e.message.contains("\"uncategorized\" not found"), "{e}");
    let rename = [Placement {
        workload: "uncategorized".into(),
        new_name: Some("x".into()),
        objects: vec![],
    }];
    let e = group(&objects, &[], &rename).unwrap_err();
    assert!(
        e.message.contains("takes neither new_name= nor objects="),
        "{e}"
    );
}

#[test]
fn objects_only_needs_new_name_and_objects() {
    let calls = [Placement {
        workload: String::new(),
        new_name: Some("x".into()),
        objects: vec![],
    }];
    let e = group(&[], &[], &calls).unwrap_err();
    assert!(e.message.contains("needs workload="), "{e}");
}
