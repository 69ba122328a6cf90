//! Live update or full rebuild for a compose resource (`engine::update_plan::decide`):
//! pure decisions over hand-built states, each with the reason the log shows.

use std::path::{Path, PathBuf};

use stilt::engine::update_plan::{Update, decide};
use stilt::model::{
    ComposeProject, ComposeService, ContainerState, ContainerStatus, ImageSpec, LiveUpdateSpec,
    Resource, ResourceKind, ResourceName, SyncStep, TriggerMode,
};
use stilt::store::{ResourceState, RunReason};

const BASE: &str = "/proj";

fn web(running: bool, files: &[&str]) -> ResourceState {
    let project = ComposeProject {
        name: "p".into(),
        project_dir: BASE.into(),
        files: vec![],
        env_file: None,
        profiles: vec![],
        wait: false,
        model: serde_json::json!({}),
    };
    let mut r = ResourceState::new(Resource {
        name: ResourceName::new("web"),
        labels: vec![],
        links: vec![],
        resource_deps: vec![],
        trigger_mode: TriggerMode::Auto,
        auto_init: true,
        kind: ResourceKind::Compose(ComposeService {
            project,
            service: "web".into(),
            image: Some("web".into()),
            has_healthcheck: false,
            published_ports: vec![],
            infer_links: true,
        }),
    });
    r.containers_mut()
        .expect("a compose resource has containers")
        .status = Some(ContainerStatus {
        id: "c1".into(),
        state: if running {
            ContainerState::Running
        } else {
            ContainerState::Exited { code: 137 }
        },
        health: None,
        started_at: "t".into(),
        restart_count: 0,
        restart_loses_files: false,
    });
    r.run_files = files.iter().map(PathBuf::from).collect();
    r
}

fn image(live: bool) -> ImageSpec {
    let mut spec = ImageSpec::docker("web", Path::new(BASE));
    if live {
        spec.live_update = LiveUpdateSpec {
            fall_back_on: vec![PathBuf::from("/proj/Dockerfile")],
            syncs: vec![SyncStep {
                local: PathBuf::from("/proj/site"),
                remote: "/www".into(),
            }],
            ..LiveUpdateSpec::default()
        };
    }
    spec
}

fn changed(files: &[&str]) -> RunReason {
    RunReason::FilesChanged {
        count: files.len(),
        sample: files.iter().map(PathBuf::from).collect(),
    }
}

fn run(r: &ResourceState, img: &ImageSpec, built: Option<&str>, reason: &RunReason) -> Update {
    decide(r, Some(img), built, reason, Path::new(BASE), |_| true)
}

fn why(u: Update) -> String {
    match u {
        Update::Full { why } => why,
        other => panic!("expected a full update, got {other:?}"),
    }
}

const BUILT: Option<&str> = Some("web:stilt-1");

#[test]
fn a_change_under_a_sync_path_is_a_live_update_into_the_running_container() {
    let files = ["/proj/site/index.html"];
    let u = run(&web(true, &files), &image(true), BUILT, &changed(&files));
    let Update::Live {
        container,
        plan,
        files,
    } = u
    else {
        panic!("expected a live update, got {u:?}");
    };
    assert_eq!(container, "c1");
    assert_eq!(plan.copies.len(), 1);
    assert_eq!(plan.copies[0].remote, "/www/index.html");
    assert_eq!(files, vec![PathBuf::from("/proj/site/index.html")]);
}

#[test]
fn a_change_matching_fall_back_on_is_a_full_rebuild_naming_the_file() {
    let files = ["/proj/Dockerfile"];
    let w = why(run(
        &web(true, &files),
        &image(true),
        BUILT,
        &changed(&files),
    ));
    assert!(
        w.contains("Dockerfile") && w.contains("fall_back_on"),
        "{w}"
    );
}

#[test]
fn a_change_outside_every_sync_is_a_full_rebuild_naming_the_file() {
    let files = ["/proj/go.mod"];
    let w = why(run(
        &web(true, &files),
        &image(true),
        BUILT,
        &changed(&files),
    ));
    assert!(
        w.contains("go.mod") && w.contains("outside every sync"),
        "{w}"
    );
}

#[test]
fn a_stopped_container_is_redeployed_instead_of_patched() {
    let files = ["/proj/site/index.html"];
    let w = why(run(
        &web(false, &files),
        &image(true),
        BUILT,
        &changed(&files),
    ));
    assert!(w.contains("container is not running"), "{w}");
}

#[test]
fn without_an_image_built_in_this_session_the_first_change_rebuilds() {
    let files = ["/proj/site/index.html"];
    let w = why(run(
        &web(true, &files),
        &image(true),
        None,
        &changed(&files),
    ));
    assert!(w.contains("no image built yet"), "{w}");
}

#[test]
fn without_live_update_every_change_rebuilds() {
    let files = ["/proj/site/index.html"];
    let w = why(run(
        &web(true, &files),
        &image(false),
        BUILT,
        &changed(&files),
    ));
    assert!(w.contains("no live_update"), "{w}");
}

#[test]
fn initial_trigger_and_config_runs_are_full_updates_with_their_reason() {
    let r = web(true, &[]);
    assert_eq!(
        why(run(&r, &image(true), BUILT, &RunReason::Initial)),
        "initial run"
    );
    assert_eq!(
        why(run(&r, &image(true), BUILT, &RunReason::Triggered)),
        "triggered"
    );
}

#[test]
fn a_replaced_container_gets_the_synced_files_again_by_live_update() {
    let files = ["/proj/site/a.html"];
    let u = run(
        &web(true, &files),
        &image(true),
        BUILT,
        &RunReason::ContainerReplaced { files: 1 },
    );
    assert!(matches!(u, Update::Live { .. }), "{u:?}");
}
