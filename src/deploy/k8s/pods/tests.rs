use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::model::{K8sObject, K8sSpec};

const PROJECT_ID: &str = "0123456789abcdef";

fn resource(name: &str, spec: K8sSpec) -> Resource {
    Resource {
        name: ResourceName::from(name),
        labels: vec![],
        links: vec![],
        resource_deps: vec![],
        trigger_mode: crate::model::TriggerMode::Auto,
        auto_init: true,
        kind: crate::model::ResourceKind::K8s(spec),
    }
}

fn deployment(ns: Option<&str>) -> K8sSpec {
    K8sSpec {
        objects: vec![K8sObject {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "web".into(),
            namespace: ns.map(str::to_owned),
            body: json!({}),
        }],
        workload: Some(0),
        ..K8sSpec::default()
    }
}

fn pod(ns: &str, name: &str, labels: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns, "labels": labels}
    }))
    .expect("pod")
}

fn ours(ns: &str, name: &str, resource_id: &str) -> Pod {
    pod(
        ns,
        name,
        json!({PROJECT: PROJECT_ID, RESOURCE_ID: resource_id}),
    )
}

#[test]
fn a_workloads_pods_are_found_by_the_project_and_resource_labels() {
    let m = Member::of(&resource("web", deployment(None)), "dflt").expect("member");
    assert_eq!(m.id.as_deref(), Some("web"));
    assert_eq!(m.namespaces, BTreeSet::from(["dflt".to_owned()]));
    assert!(m.owns(PROJECT_ID, &ours("dflt", "web-1", "web")));
    assert!(
        !m.owns(PROJECT_ID, &ours("dflt", "api-1", "api")),
        "other resource"
    );
    assert!(
        !m.owns(PROJECT_ID, &ours("other", "web-1", "web")),
        "other namespace"
    );
    let foreign = pod(
        "dflt",
        "web-1",
        json!({PROJECT: "ffffffffffffffff", RESOURCE_ID: "web"}),
    );
    assert!(!m.owns(PROJECT_ID, &foreign), "other project");
    assert_eq!(
        m.list_selectors(PROJECT_ID),
        [format!("{PROJECT}={PROJECT_ID},{RESOURCE_ID}=web")]
    );
}

#[test]
fn extra_pod_selectors_add_pods_and_selectors_only_drops_the_workloads() {
    let mut spec = deployment(Some("team"));
    spec.extra_pod_selectors = vec![BTreeMap::from([
        ("app".to_owned(), "db".to_owned()),
        ("tier".to_owned(), "data".to_owned()),
    ])];
    let m = Member::of(&resource("web", spec.clone()), "dflt").expect("member");
    assert!(m.owns(
        PROJECT_ID,
        &pod("team", "db-0", json!({"app": "db", "tier": "data"}))
    ));
    assert!(
        !m.owns(PROJECT_ID, &pod("team", "db-0", json!({"app": "db"}))),
        "all labels must match"
    );
    assert_eq!(m.list_selectors(PROJECT_ID).len(), 2);

    spec.discovery = DiscoveryStrategy::SelectorsOnly;
    let m = Member::of(&resource("web", spec), "dflt").expect("member");
    assert!(!m.owns(PROJECT_ID, &ours("team", "web-1", "web")));
    assert_eq!(m.list_selectors(PROJECT_ID), ["app=db,tier=data"]);
}

#[test]
fn resources_without_pods_are_not_members() {
    let spec = K8sSpec {
        workload: None,
        ..deployment(None)
    };
    assert!(Member::of(&resource("uncategorized", spec), "dflt").is_none());
}

#[test]
fn one_watcher_per_namespace_and_selector() {
    let a = Member::of(&resource("a", deployment(Some("x"))), "dflt").expect("a");
    let b = Member::of(&resource("b", deployment(None)), "dflt").expect("b");
    let mut spec = deployment(None);
    spec.extra_pod_selectors = vec![BTreeMap::from([("app".to_owned(), "db".to_owned())])];
    let c = Member::of(&resource("c", spec), "dflt").expect("c");
    let project = format!("{PROJECT}={PROJECT_ID}");
    assert_eq!(
        sources(&[a, b, c], PROJECT_ID),
        BTreeSet::from([
            ("dflt".to_owned(), project.clone()),
            ("dflt".to_owned(), "app=db".to_owned()),
            ("x".to_owned(), project),
        ])
    );
}

#[test]
fn the_cache_answers_only_once_every_watcher_has_listed() {
    let cache = PodCache::default();
    let m = Member::of(&resource("web", deployment(None)), "dflt").expect("member");
    assert!(cache.pods_of(&m, PROJECT_ID).is_none(), "no watch");
    let (_, ids) = cache.begin(std::slice::from_ref(&m), 1);
    let id = ids[0];
    assert!(cache.pods_of(&m, PROJECT_ID).is_none(), "not listed yet");
    cache.apply(id, Event::Init);
    cache.apply(id, Event::InitApply(ours("dflt", "web-1", "web")));
    assert!(cache.pods_of(&m, PROJECT_ID).is_none(), "list in progress");
    let changed = cache.apply(id, Event::InitDone);
    assert_eq!(changed.len(), 1);
    let names = |c: &PodCache| -> Vec<String> {
        let mut v: Vec<String> = c
            .pods_of(&m, PROJECT_ID)
            .expect("synced")
            .iter()
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&cache), ["web-1"]);
    cache.apply(id, Event::Apply(ours("dflt", "web-2", "web")));
    cache.apply(id, Event::Apply(ours("dflt", "api-1", "api")));
    assert_eq!(names(&cache), ["web-1", "web-2"]);
    cache.apply(id, Event::Delete(ours("dflt", "web-1", "web")));
    assert_eq!(names(&cache), ["web-2"]);
    // A re-list after a dropped connection replaces what the watcher knew.
    cache.apply(id, Event::Init);
    cache.apply(id, Event::InitApply(ours("dflt", "web-3", "web")));
    let changed = cache.apply(id, Event::InitDone);
    assert_eq!(changed.len(), 3, "the old pods and the new one");
    assert_eq!(names(&cache), ["web-3"]);
}

#[test]
fn a_dropped_watch_stops_answering() {
    let cache = PodCache::default();
    let m = Member::of(&resource("web", deployment(None)), "dflt").expect("member");
    let (generation, ids) = cache.begin(std::slice::from_ref(&m), 1);
    cache.apply(ids[0], Event::Init);
    cache.apply(ids[0], Event::InitDone);
    assert_eq!(cache.pods_of(&m, PROJECT_ID).map(|p| p.len()), Some(0));
    cache.end(generation, &ids);
    assert!(cache.pods_of(&m, PROJECT_ID).is_none());
}

#[test]
fn changed_pods_name_their_resources() {
    let web = Member::of(&resource("web", deployment(None)), "dflt").expect("web");
    let api = Member::of(&resource("api", deployment(None)), "dflt").expect("api");
    let changed = [ours("dflt", "web-1", "web")];
    assert_eq!(
        affected(&[web, api], PROJECT_ID, &changed),
        [ResourceName::from("web")]
    );
}

#[test]
fn only_pods_of_the_latest_deploy_count_once_there_was_one() {
    let mut spec = deployment(None);
    spec.extra_pod_selectors = vec![BTreeMap::from([("app".to_owned(), "db".to_owned())])];
    let m = Member::of(&resource("web", spec), "dflt").expect("member");
    let with_hash = |name: &str, hash: &str| {
        pod(
            "dflt",
            name,
            json!({PROJECT: PROJECT_ID, RESOURCE_ID: "web", TEMPLATE_HASH: hash}),
        )
    };
    let latest = HashSet::from(["h2".to_owned()]);
    assert!(m.of_latest_deploy(&with_hash("new", "h2"), Some(&latest)));
    assert!(!m.of_latest_deploy(&with_hash("old", "h1"), Some(&latest)));
    assert!(!m.of_latest_deploy(&ours("dflt", "unlabelled", "web"), Some(&latest)));
    // No deploy yet in this session: every pod is a candidate.
    assert!(m.of_latest_deploy(&with_hash("old", "h1"), None));
    // A pod found by an extra selector is never filtered.
    assert!(m.of_latest_deploy(&pod("dflt", "db-0", json!({"app": "db"})), Some(&latest)));
}

#[test]
fn a_custom_deploy_watches_every_pod_of_the_default_namespace() {
    use crate::model::{Cmd, CustomCmd, CustomDeploy};
    let run = CustomCmd {
        cmd: Cmd::Shell("true".into()),
        dir: "/".into(),
        env: BTreeMap::new(),
    };
    let spec = K8sSpec {
        custom: Some(CustomDeploy {
            apply: run.clone(),
            delete: run,
            deps: vec![],
            image_deps: vec![],
            image_selector: None,
            container_selector: None,
        }),
        ..K8sSpec::default()
    };
    let m = Member::of(&resource("custom", spec), "dflt").expect("member");
    assert_eq!(m.id, None);
    assert!(m.all_pods);
    assert_eq!(m.namespaces, BTreeSet::from(["dflt".to_owned()]));
    assert!(m.owns(PROJECT_ID, &pod("dflt", "any", json!({"app": "x"}))));
    assert!(!m.owns(PROJECT_ID, &pod("other", "any", json!({"app": "x"}))));
    assert_eq!(m.list_selectors(PROJECT_ID), [String::new()]);
    assert_eq!(
        sources(&[m], PROJECT_ID),
        BTreeSet::from([("dflt".to_owned(), String::new())])
    );
}
