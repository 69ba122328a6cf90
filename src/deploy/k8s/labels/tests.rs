use serde_json::json;

use super::*;

fn is_valid(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 63
        && v.chars().all(is_label_char)
        && v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.ends_with(|c: char| c.is_ascii_alphanumeric())
}

#[test]
fn a_valid_label_value_is_kept_as_is() {
    assert_eq!(label_value("web"), "web");
    assert_eq!(label_value("my_app.v2-x"), "my_app.v2-x");
    let max = "a".repeat(63);
    assert_eq!(label_value(&max), max);
}

#[test]
fn other_characters_are_mapped_and_a_hash_keeps_names_apart() {
    let a = label_value("web:deployment:prod");
    let b = label_value("web-deployment-prod");
    assert!(a.starts_with("web-deployment-prod-"), "{a}");
    assert_eq!(a.len(), "web-deployment-prod-".len() + 8);
    assert_eq!(b, "web-deployment-prod");
    assert_ne!(a, b);
    assert!(is_valid(&a));
}

#[test]
fn long_names_are_truncated_with_a_hash() {
    let long = "x".repeat(100);
    let v = label_value(&long);
    assert_eq!(v.len(), 63);
    assert!(is_valid(&v));
    assert_ne!(v, label_value(&"x".repeat(101)));
}

#[test]
fn values_must_start_and_end_alphanumeric() {
    for name in ["-web-", "_a", "a.", "::", "", "ünïcode"] {
        let v = label_value(name);
        assert!(is_valid(&v), "{name:?} -> {v:?}");
    }
    assert_eq!(label_value("").len(), 8);
}

#[test]
fn a_deployment_and_its_pod_template_are_stamped() {
    let mut body = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"template": {"metadata": {"labels": {"app": "web"}}, "spec": {}}}
    });
    stamp(&mut body, "0123456789abcdef", "web:deployment");
    assert_eq!(
        body["metadata"]["labels"],
        json!({"app": "web", MANAGED_BY: "stilt", PROJECT: "0123456789abcdef"})
    );
    assert_eq!(
        body["metadata"]["annotations"],
        json!({RESOURCE: "web:deployment"})
    );
    assert_eq!(
        body["spec"]["template"]["metadata"]["labels"],
        json!({"app": "web", PROJECT: "0123456789abcdef",
               RESOURCE_ID: label_value("web:deployment")})
    );
}

#[test]
fn a_bare_pod_carries_the_resource_id_on_itself() {
    let mut body = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}});
    stamp(&mut body, "p1", "p");
    assert_eq!(body["metadata"]["labels"][RESOURCE_ID], "p");
    assert_eq!(body["metadata"]["labels"][PROJECT], "p1");
}

#[test]
fn a_cronjob_stamps_its_job_templates_pod_template() {
    let mut body = json!({
        "apiVersion": "batch/v1beta1", "kind": "CronJob", "metadata": {"name": "c"},
        "spec": {"jobTemplate": {"spec": {"template": {"spec": {}}}}}
    });
    stamp(&mut body, "p1", "c");
    assert_eq!(
        body.pointer("/spec/jobTemplate/spec/template/metadata/labels/stilt.dev~1resource-id"),
        Some(&json!("c"))
    );
}

#[test]
fn objects_without_pods_get_no_template_labels() {
    let mut body = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "labels": null},
                          "spec": {"selector": {"app": "web"}}});
    stamp(&mut body, "p1", "s");
    assert_eq!(body["metadata"]["labels"][PROJECT], "p1");
    assert_eq!(body["spec"], json!({"selector": {"app": "web"}}));
}

#[test]
fn the_template_hash_follows_the_pod_template_only() {
    let deployment = |image: &str, replicas: i64| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "web", "image": image}]}}}})
    };
    let mut a = deployment("web:1", 1);
    let hash = stamp_template_hash(&mut a).expect("a template");
    assert_eq!(hash.len(), 16);
    assert_eq!(
        a["spec"]["template"]["metadata"]["labels"][TEMPLATE_HASH],
        hash.as_str()
    );
    // Stamping again (the label already there) gives the same hash.
    assert_eq!(stamp_template_hash(&mut a), Some(hash.clone()));
    let mut scaled = deployment("web:1", 3);
    assert_eq!(
        stamp_template_hash(&mut scaled),
        Some(hash.clone()),
        "replicas are not the template"
    );
    let mut new_image = deployment("web:2", 1);
    assert_ne!(stamp_template_hash(&mut new_image), Some(hash));
}

#[test]
fn a_bare_pod_is_its_own_template_and_a_service_has_none() {
    let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}});
    let hash = stamp_template_hash(&mut pod).expect("pod");
    assert_eq!(pod["metadata"]["labels"][TEMPLATE_HASH], hash.as_str());
    let mut svc =
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {}});
    assert_eq!(stamp_template_hash(&mut svc), None);
    assert!(svc["metadata"].get("labels").is_none());
}
