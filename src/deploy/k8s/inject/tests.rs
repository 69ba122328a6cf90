use serde_json::json;

use super::*;
use crate::model::K8sObject;

fn spec() -> K8sSpec {
    let body = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {"spec": {
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [
                {"name": "web", "image": "web-image", "imagePullPolicy": "Always"},
                {"name": "side", "image": "sidecar:1.0"}
            ]
        }}}
    });
    K8sSpec {
        objects: vec![K8sObject {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "web".into(),
            namespace: None,
            body,
        }],
        workload: Some(0),
        images: vec!["web-image".into(), "busybox".into()],
        image_slots: vec![
            ImageSlot {
                object: 0,
                pointer: "/spec/template/spec/containers/0/image".into(),
                container: Some("/spec/template/spec/containers/0".into()),
                tag_pointer: None,
                image_ref: "web-image".into(),
            },
            ImageSlot {
                object: 0,
                pointer: "/spec/template/spec/initContainers/0/image".into(),
                container: Some("/spec/template/spec/initContainers/0".into()),
                tag_pointer: None,
                image_ref: "busybox".into(),
            },
        ],
        ..K8sSpec::default()
    }
}

fn built() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("web-image".to_owned(), "web-image:stilt-1a2b".to_owned()),
        ("busybox".to_owned(), "busybox:stilt-3c4d".to_owned()),
    ])
}

#[test]
fn built_images_replace_their_refs_and_are_never_pulled() {
    let out = inject(&spec(), &built(), true).expect("inject");
    let pod = &out[0]["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][0]["image"], "web-image:stilt-1a2b");
    assert_eq!(pod["containers"][0]["imagePullPolicy"], "Never");
    assert_eq!(pod["initContainers"][0]["image"], "busybox:stilt-3c4d");
    assert_eq!(pod["initContainers"][0]["imagePullPolicy"], "Never");
    // A container stilt did not build for is left alone.
    assert_eq!(
        pod["containers"][1],
        json!({"name": "side", "image": "sidecar:1.0"})
    );
}

#[test]
fn without_never_pull_the_pull_policy_is_left_alone() {
    let out = inject(&spec(), &built(), false).expect("inject");
    let pod = &out[0]["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][0]["image"], "web-image:stilt-1a2b");
    assert_eq!(pod["containers"][0]["imagePullPolicy"], "Always");
    assert!(pod["initContainers"][0].get("imagePullPolicy").is_none());
}

#[test]
fn a_slot_whose_image_was_not_built_keeps_its_ref() {
    let images = BTreeMap::from([("web-image".to_owned(), "web-image:t".to_owned())]);
    let out = inject(&spec(), &images, true).expect("inject");
    let pod = &out[0]["spec"]["template"]["spec"];
    assert_eq!(
        pod["initContainers"][0],
        json!({"name": "init", "image": "busybox"})
    );
}

#[test]
fn the_spec_itself_is_not_changed() {
    let s = spec();
    let before = s.clone();
    inject(&s, &built(), true).expect("inject");
    assert_eq!(s, before);
}

#[test]
fn a_slot_that_points_nowhere_is_an_error_naming_the_object() {
    let mut s = spec();
    s.image_slots[0].pointer = "/spec/template/spec/containers/5/image".into();
    let err = inject(&s, &built(), true).expect_err("bad pointer");
    assert_eq!(
        err.to_string(),
        "Deployment/web: no image string at /spec/template/spec/containers/5/image (for image web-image)"
    );
}

#[test]
fn ports_without_a_protocol_get_tcp() {
    let mut svc = json!({"kind": "Service", "spec": {"ports": [
        {"port": 80}, {"port": 53, "protocol": "UDP"}]}});
    default_protocols(&mut svc);
    assert_eq!(
        svc["spec"]["ports"],
        json!([
        {"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}])
    );

    let mut deploy = json!({"kind": "Deployment", "spec": {"template": {"spec": {
        "containers": [{"name": "a", "ports": [{"containerPort": 8080}]}, {"name": "b"}],
        "initContainers": [{"name": "i", "ports": [{"containerPort": 1, "protocol": null}]}]}}}});
    default_protocols(&mut deploy);
    let pod = &deploy["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][0]["ports"][0]["protocol"], "TCP");
    assert_eq!(pod["containers"][1], json!({"name": "b"}));
    assert_eq!(pod["initContainers"][0]["ports"][0]["protocol"], "TCP");

    let mut pod =
        json!({"kind": "Pod", "spec": {"containers": [{"ports": [{"containerPort": 1}]}]}});
    default_protocols(&mut pod);
    assert_eq!(pod["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
}

fn config_map(data: serde_json::Value) -> K8sObject {
    K8sObject {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name: "cfg".into(),
        namespace: None,
        body: json!({"apiVersion": "v1", "kind": "ConfigMap", "data": data}),
    }
}

#[test]
fn images_outside_containers_are_replaced_without_a_pull_policy() {
    let spec = K8sSpec {
        objects: vec![config_map(json!({"image": "web-image"}))],
        image_slots: vec![ImageSlot {
            object: 0,
            pointer: "/data/image".into(),
            container: None,
            tag_pointer: None,
            image_ref: "web-image".into(),
        }],
        ..K8sSpec::default()
    };
    let out = inject(&spec, &built(), true).expect("inject");
    assert_eq!(out[0]["data"], json!({"image": "web-image:stilt-1a2b"}));
}

#[test]
fn image_objects_get_the_repository_and_the_tag_apart() {
    let spec = K8sSpec {
        objects: vec![config_map(json!({"img": {"repo": "web-image"}}))],
        image_slots: vec![ImageSlot {
            object: 0,
            pointer: "/data/img/repo".into(),
            container: None,
            tag_pointer: Some("/data/img/tag".into()),
            image_ref: "web-image".into(),
        }],
        ..K8sSpec::default()
    };
    let images = BTreeMap::from([(
        "web-image".to_owned(),
        "localhost:5000/web-image:stilt-9".to_owned(),
    )]);
    let out = inject(&spec, &images, false).expect("inject");
    assert_eq!(
        out[0]["data"]["img"],
        json!({"repo": "localhost:5000/web-image", "tag": "stilt-9"})
    );
    assert_eq!(
        split_tag("localhost:5000/web"),
        ("localhost:5000/web", "latest")
    );
}
