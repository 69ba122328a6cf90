use serde_json::json;

use super::*;

fn meta(uid: &str, generation: Option<i64>, rv: &str) -> ObjectMeta {
    ObjectMeta {
        uid: Some(uid.into()),
        generation,
        resource_version: Some(rv.into()),
        ..ObjectMeta::default()
    }
}

#[test]
fn an_object_stilt_applied_and_no_one_changed_is_unchanged() {
    let live = meta("u1", Some(2), "100");
    let last = Applied::of("h".into(), &live);
    // Status updates move the resourceVersion, not the generation.
    let later = meta("u1", Some(2), "150");
    assert!(unchanged(Some(&last), "h", Some(&later)));
}

#[test]
fn a_new_body_or_an_object_changed_behind_stilts_back_is_applied_again() {
    let live = meta("u1", Some(2), "100");
    let last = Applied::of("h".into(), &live);
    assert!(!unchanged(Some(&last), "other", Some(&live)), "new body");
    assert!(!unchanged(Some(&last), "h", None), "deleted");
    assert!(
        !unchanged(Some(&last), "h", Some(&meta("u2", Some(2), "100"))),
        "recreated"
    );
    assert!(
        !unchanged(Some(&last), "h", Some(&meta("u1", Some(3), "120"))),
        "edited"
    );
    assert!(!unchanged(None, "h", Some(&live)), "never applied");
}

#[test]
fn objects_without_a_generation_compare_resource_versions() {
    let live = meta("u1", None, "7");
    let last = Applied::of("h".into(), &live);
    assert!(unchanged(Some(&last), "h", Some(&live)));
    assert!(!unchanged(Some(&last), "h", Some(&meta("u1", None, "8"))));
}

#[test]
fn immutable_field_errors_need_a_recreate() {
    let job = "Job.batch \"j\" is invalid: spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable";
    assert!(needs_recreate(422, "Invalid", job));
    let svc = "Service \"web\" is invalid: spec.clusterIP: Invalid value: \"10.0.0.9\": field is immutable";
    assert!(needs_recreate(422, "Invalid", svc));
    let selector =
        "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: ...: field is immutable";
    assert!(needs_recreate(422, "Invalid", selector));
}

#[test]
fn other_errors_do_not() {
    let bad = "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0";
    assert!(!needs_recreate(422, "Invalid", bad));
    assert!(!needs_recreate(409, "Conflict", "field is immutable"));
    assert!(!needs_recreate(403, "Forbidden", "forbidden"));
}

#[test]
fn the_hash_follows_the_body() {
    let a = json!({"kind": "Service", "metadata": {"name": "a"}});
    let b = json!({"kind": "Service", "metadata": {"name": "b"}});
    assert_eq!(body_hash(&a), body_hash(&a.clone()));
    assert_ne!(body_hash(&a), body_hash(&b));
}

#[test]
fn objects_are_described_with_their_namespace() {
    let key = ObjectKey {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: Some("ns".into()),
        name: "web".into(),
    };
    assert_eq!(key.describe(), "deployment.apps/web in namespace ns");
    let ns = ObjectKey {
        api_version: "v1".into(),
        kind: "Namespace".into(),
        namespace: None,
        name: "x".into(),
    };
    assert_eq!(ns.describe(), "namespace/x");
}
