use serde_json::{Value, json};

use super::*;

fn pod(name: &str, created: &str, status: Value) -> Pod {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "ns", "creationTimestamp": created},
        "spec": {"containers": [{"name": "web", "image": "web:t"}]},
        "status": status
    }))
    .expect("pod fixture")
}

fn waiting(name: &str, reason: &str, message: &str) -> Value {
    json!({"name": name, "image": "web:t", "imageID": "", "ready": false, "restartCount": 0,
           "state": {"waiting": {"reason": reason, "message": message}}})
}

fn running(name: &str, ready: bool, started: &str, restarts: i32) -> Value {
    json!({"name": name, "image": "web:t", "imageID": "", "ready": ready, "restartCount": restarts,
           "containerID": "docker://abc123",
           "state": {"running": {"startedAt": started}}})
}

fn terminated(name: &str, code: i32) -> Value {
    json!({"name": name, "image": "web:t", "imageID": "", "ready": false, "restartCount": 0,
           "state": {"terminated": {"exitCode": code, "startedAt": "2026-01-01T00:00:00Z"}}})
}

const T0: &str = "2026-01-01T00:00:00Z";

#[test]
fn a_pending_pod_reports_its_first_waiting_containers_reason() {
    let p = pod(
        "web-1",
        T0,
        json!({"phase": "Pending",
        "containerStatuses": [waiting("web", "ContainerCreating", "")]}),
    );
    let s = pod_status(&p);
    assert_eq!(s.id, "ns/web-1");
    assert_eq!(
        s.state,
        ContainerState::Waiting {
            reason: "ContainerCreating".into(),
            message: String::new()
        }
    );
    assert_eq!(s.health, None);
}

#[test]
fn an_image_that_must_not_be_pulled_and_is_missing_is_err_image_never_pull() {
    let msg = "Container image \"web:t\" is not present with pull policy of Never";
    let p = pod(
        "web-1",
        T0,
        json!({"phase": "Pending",
        "containerStatuses": [waiting("web", "ErrImageNeverPull", msg)]}),
    );
    let s = pod_status(&p);
    assert_eq!(
        s.state,
        ContainerState::Waiting {
            reason: "ErrImageNeverPull".into(),
            message: msg.into()
        }
    );
    assert_eq!(
        s.state.failing_wait().as_deref(),
        Some(format!("ErrImageNeverPull: {msg}").as_str())
    );
}

#[test]
fn init_containers_come_first() {
    let p = pod(
        "web-1",
        T0,
        json!({"phase": "Pending",
        "initContainerStatuses": [waiting("init", "CreateContainerConfigError", "secret \"x\" not found")],
        "containerStatuses": [waiting("web", "PodInitializing", "")]}),
    );
    assert_eq!(
        pod_status(&p).state,
        ContainerState::Waiting {
            reason: "CreateContainerConfigError".into(),
            message: "secret \"x\" not found".into()
        }
    );
}

#[test]
fn a_running_pod_whose_container_crashes_is_crash_loop_back_off() {
    let mut c = waiting(
        "web",
        "CrashLoopBackOff",
        "back-off 10s restarting failed container",
    );
    c["restartCount"] = json!(3);
    c["lastState"] = json!({"terminated": {"exitCode": 2, "startedAt": "2026-01-01T00:01:00Z"}});
    let p = pod(
        "web-1",
        T0,
        json!({"phase": "Running", "containerStatuses": [c]}),
    );
    let s = pod_status(&p);
    assert!(
        matches!(&s.state, ContainerState::Waiting { reason, .. } if reason == "CrashLoopBackOff")
    );
    assert_eq!(s.restart_count, 3);
    assert_eq!(s.health, None);
    assert_eq!(s.started_at, "2026-01-01T00:01:00Z");
}

#[test]
fn running_but_not_ready_is_starting_and_all_ready_is_healthy() {
    let p = pod(
        "web-1",
        T0,
        json!({"phase": "Running", "containerStatuses": [
        running("web", true, T0, 0), running("side", false, T0, 0)]}),
    );
    let s = pod_status(&p);
    assert_eq!(s.state, ContainerState::Running);
    assert_eq!(s.health, Some(Health::Starting));

    let p = pod(
        "web-1",
        T0,
        json!({"phase": "Running", "containerStatuses": [
        running("web", true, T0, 1), running("side", true, "2026-01-01T00:00:05Z", 2)]}),
    );
    let s = pod_status(&p);
    assert_eq!(s.health, Some(Health::Healthy));
    assert_eq!(s.restart_count, 3);
    assert_eq!(s.started_at, "2026-01-01T00:00:00Z,2026-01-01T00:00:05Z");
}

#[test]
fn a_restart_changes_started_at() {
    let before = pod(
        "web-1",
        T0,
        json!({"phase": "Running",
        "containerStatuses": [running("web", true, T0, 0)]}),
    );
    let after = pod(
        "web-1",
        T0,
        json!({"phase": "Running",
        "containerStatuses": [running("web", true, "2026-01-01T00:02:00Z", 1)]}),
    );
    assert_ne!(
        pod_status(&before).started_at,
        pod_status(&after).started_at
    );
}

#[test]
fn succeeded_is_exited_zero_without_health() {
    let p = pod(
        "job-1",
        T0,
        json!({"phase": "Succeeded", "containerStatuses": [terminated("web", 0)]}),
    );
    let s = pod_status(&p);
    assert_eq!(s.state, ContainerState::Exited { code: 0 });
    assert_eq!(s.health, None);
}

#[test]
fn failed_is_the_failed_containers_exit_code_or_one() {
    let p = pod(
        "job-1",
        T0,
        json!({"phase": "Failed", "containerStatuses": [
        terminated("side", 0), terminated("web", 7)]}),
    );
    assert_eq!(pod_status(&p).state, ContainerState::Exited { code: 7 });
    let evicted = pod("job-1", T0, json!({"phase": "Failed", "reason": "Evicted"}));
    assert_eq!(
        pod_status(&evicted).state,
        ContainerState::Exited { code: 1 }
    );
}

#[test]
fn an_unscheduled_pod_says_why() {
    let p = pod(
        "web-1",
        T0,
        json!({"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
         "message": "0/1 nodes are available"}]}),
    );
    assert_eq!(
        pod_status(&p).state,
        ContainerState::Waiting {
            reason: "Unschedulable".into(),
            message: "0/1 nodes are available".into()
        }
    );
    let bare = pod("web-1", T0, json!({}));
    assert!(
        matches!(pod_status(&bare).state, ContainerState::Waiting { reason, .. } if reason == "Pending")
    );
}

#[test]
fn the_newest_pod_that_is_not_terminating_wins() {
    let old = pod("web-old", T0, json!({"phase": "Running"}));
    let new = pod(
        "web-new",
        "2026-01-01T00:05:00Z",
        json!({"phase": "Pending"}),
    );
    let mut newest_terminating = pod(
        "web-gone",
        "2026-01-01T00:09:00Z",
        json!({"phase": "Running"}),
    );
    newest_terminating.metadata.deletion_timestamp = new.metadata.creation_timestamp.clone();
    let pods = [old.clone(), newest_terminating, new];
    assert_eq!(
        current_pod(&pods).and_then(|p| p.metadata.name.as_deref()),
        Some("web-new")
    );
    assert_eq!(
        current_pod(std::slice::from_ref(&old))
            .map(pod_id)
            .as_deref(),
        Some("ns/web-old")
    );
    assert!(current_pod(&[] as &[Pod]).is_none());
}

#[test]
fn docker_ids_come_from_docker_container_ids_only() {
    assert_eq!(docker_id("docker://abc123"), Some("abc123"));
    assert_eq!(docker_id("containerd://abc123"), None);
    assert_eq!(docker_id("docker://"), None);
}
