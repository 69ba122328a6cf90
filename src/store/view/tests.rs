//! Snapshots and log hand-over over states built by the reducer.

use super::*;

/// A moment on both clocks.
fn now() -> Now {
    Now {
        mono: Instant::now(),
        wall: SystemTime::now(),
    }
}
use crate::model::{Cmd, LocalSpec, Project, Resource, ResourceKind, ResourceName};
use crate::store::{Action, reduce};

fn local(name: &str, serve: bool) -> Resource {
    Resource {
        name: ResourceName::new(name),
        labels: vec![],
        links: vec![],
        resource_deps: vec![],
        trigger_mode: TriggerMode::Auto,
        auto_init: true,
        kind: ResourceKind::Local(LocalSpec {
            cmd: Some(Cmd::Shell("make".into())),
            serve_cmd: serve.then(|| Cmd::Shell("./server".into())),
            ..Default::default()
        }),
    }
}

fn load(state: &mut EngineState, resources: Vec<Resource>, at: Instant) {
    let project = Project {
        resources,
        ..Project::default()
    };
    reduce(
        state,
        Action::ConfigLoaded {
            project: Box::new(project),
            files_read: vec![],
            warnings: vec![],
            output: vec![],
            at,
        },
    );
}

fn log(state: &mut EngineState, name: &str, text: &str) {
    reduce(
        state,
        Action::Log {
            resource: Some(ResourceName::new(name)),
            stream: Stream::Stdout,
            text: text.into(),
        },
    );
}

fn view<'s>(snap: &'s Snapshot, name: &str) -> &'s ResourceView {
    snap.resources.iter().find(|r| r.name == name).unwrap()
}

#[test]
fn a_users_disable_and_manual_mode_survive_a_reload() {
    let t0 = Instant::now();
    let mut state = EngineState::new("/p/Tiltfile".into());
    load(
        &mut state,
        vec![local("api", false), local("db", false)],
        t0,
    );
    let api = ResourceName::new("api");
    let db = ResourceName::new("db");
    reduce(
        &mut state,
        Action::SetEnabled {
            resource: api.clone(),
            enabled: false,
        },
    );
    let mode = TriggerMode::Manual;
    reduce(
        &mut state,
        Action::SetTriggerMode {
            resource: db.clone(),
            mode,
            at: t0,
        },
    );
    load(
        &mut state,
        vec![local("api", false), local("db", false)],
        t0,
    );
    let snap = snapshot(&state, |_| None, now());
    assert!(view(&snap, "api").disabled);
    assert_eq!(view(&snap, "db").trigger_mode, TriggerMode::Manual);
    // The toggle is not a spec change: the reload does not rerun db.
    assert_eq!(state.resources[&db].spec.trigger_mode, TriggerMode::Auto);
}

#[test]
fn enabling_a_resource_disabled_from_the_start_queues_its_first_run() {
    let t0 = Instant::now();
    let mut state = EngineState::new("/p/Tiltfile".into());
    load(&mut state, vec![local("api", false)], t0);
    let api = ResourceName::new("api");
    reduce(
        &mut state,
        Action::SetEnabled {
            resource: api.clone(),
            enabled: false,
        },
    );
    assert_eq!(state.resources[&api].pending, None);
    reduce(
        &mut state,
        Action::SetEnabled {
            resource: api.clone(),
            enabled: true,
        },
    );
    assert_eq!(
        state.resources[&api].pending,
        Some(crate::store::RunReason::Initial)
    );
}

#[test]
fn a_servers_output_is_runtime_log_and_a_runs_output_is_build_log() {
    let t0 = Instant::now();
    let mut state = EngineState::new("/p/Tiltfile".into());
    load(&mut state, vec![local("web", true)], t0);
    let web = ResourceName::new("web");
    let reason = crate::store::RunReason::Initial;
    reduce(
        &mut state,
        Action::RunStarted {
            resource: web.clone(),
            reason,
            at: t0,
        },
    );
    log(&mut state, "web", "compiling");
    let outcome = crate::store::RunOutcome::Succeeded;
    reduce(
        &mut state,
        Action::RunFinished {
            resource: web.clone(),
            run: 1,
            outcome,
            at: t0,
        },
    );
    log(&mut state, "web", "listening");
    let sources: Vec<(String, LogSource)> = LogCursor::default()
        .new_lines(&state)
        .into_iter()
        .filter(|e| e.stream == Stream::Stdout)
        .map(|e| (e.text, e.source))
        .collect();
    assert_eq!(
        sources,
        [
            ("compiling".to_owned(), LogSource::Build),
            ("listening".to_owned(), LogSource::Runtime)
        ]
    );
}

#[test]
fn the_cursor_hands_out_each_line_once_in_arrival_order() {
    let t0 = Instant::now();
    let mut state = EngineState::new("/p/Tiltfile".into());
    load(&mut state, vec![local("a", false), local("b", false)], t0);
    let mut cursor = LogCursor::default();
    log(&mut state, "b", "1");
    log(&mut state, "a", "2");
    let first: Vec<String> = cursor
        .new_lines(&state)
        .into_iter()
        .map(|e| e.text)
        .collect();
    assert_eq!(first, ["1", "2"]);
    log(&mut state, "b", "3");
    let next: Vec<String> = cursor
        .new_lines(&state)
        .into_iter()
        .map(|e| e.text)
        .collect();
    assert_eq!(next, ["3"]);
    assert!(cursor.new_lines(&state).is_empty());
}

#[test]
fn a_snapshot_keeps_earlier_runs_with_their_errors_and_names_the_server_pid() {
    let t0 = Instant::now();
    let mut state = EngineState::new("/p/Tiltfile".into());
    load(&mut state, vec![local("web", true)], t0);
    let web = ResourceName::new("web");
    for (run, outcome) in [
        (1, crate::store::RunOutcome::Failed("exit status 2".into())),
        (2, crate::store::RunOutcome::Succeeded),
    ] {
        reduce(
            &mut state,
            Action::RunStarted {
                resource: web.clone(),
                reason: crate::store::RunReason::Initial,
                at: t0,
            },
        );
        reduce(
            &mut state,
            Action::RunFinished {
                resource: web.clone(),
                run,
                outcome,
                at: t0 + Duration::from_millis(5),
            },
        );
    }
    let generation = state.resources[&web].serve_generation;
    reduce(
        &mut state,
        Action::ServeStarted {
            resource: web.clone(),
            generation,
            pid: Some(4242),
            at: t0,
        },
    );
    let snap = snapshot(&state, |_| None, now());
    let v = view(&snap, "web");
    assert_eq!(v.last_run.as_ref().and_then(|r| r.error.clone()), None);
    let earlier: Vec<Option<String>> = v.earlier_runs.iter().map(|r| r.error.clone()).collect();
    assert_eq!(earlier, vec![Some("exit status 2".to_owned())]);
    assert_eq!(v.container.as_deref(), Some("pid 4242"));
}
