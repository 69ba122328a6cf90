//! Live-update decisions without tokio or Docker: which changes fall back to a full
//! rebuild (and the message naming the file), how paths map through syncs, which run
//! steps a batch triggers, and how `apply` sequences a plan over the fake updater
//! (its futures are ready at once, so they are polled by hand).

// In tests a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::path::PathBuf;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use stilt::liveupdate::{
    ApplyError, ApplyReport, Change, CopyFile, FakeOp, FakeUpdater, FallBack, FallBackReason, Plan,
    UpdateError, UpdatePlan, UpdateTarget, UpdaterCall, apply, plan, plan_initial_sync,
};
use stilt::model::{Cmd, LiveUpdateSpec, RunStep, SyncStep};
use stilt::process::{LineSink, Stream};

fn sync(local: &str, remote: &str) -> SyncStep {
    SyncStep {
        local: local.into(),
        remote: remote.into(),
    }
}

fn run(cmd: &str, triggers: &[&str]) -> RunStep {
    RunStep {
        cmd: Cmd::Shell(cmd.into()),
        triggers: triggers.iter().map(PathBuf::from).collect(),
        echo_off: false,
    }
}

fn copy(local: &str, remote: &str) -> CopyFile {
    CopyFile {
        local: local.into(),
        remote: remote.into(),
    }
}

/// `sync('src', '/app')` in /proj, plus whatever the test adds.
fn spec() -> LiveUpdateSpec {
    LiveUpdateSpec {
        syncs: vec![sync("/proj/src", "/app")],
        ..Default::default()
    }
}

fn update(spec: &LiveUpdateSpec, changes: &[Change]) -> UpdatePlan {
    match plan(spec, changes) {
        Plan::Update(update) => update,
        Plan::FallBack(fb) => panic!("expected a live update, got fall back: {fb}"),
    }
}

fn fall_back(spec: &LiveUpdateSpec, changes: &[Change]) -> FallBack {
    match plan(spec, changes) {
        Plan::FallBack(fb) => fb,
        Plan::Update(update) => panic!("expected a fall back, got {update:?}"),
    }
}

#[test]
fn changed_files_are_copied_and_removed_ones_deleted_sorted() {
    let changes = [
        Change::written("/proj/src/z.go"),
        Change::removed("/proj/src/old/gone.go"),
        Change::written("/proj/src/a/b.go"),
        Change::written("/proj/src/z.go"),
    ];
    let up = update(&spec(), &changes);
    assert_eq!(up.deletes, vec!["/app/old/gone.go"]);
    assert_eq!(
        up.copies,
        vec![
            copy("/proj/src/a/b.go", "/app/a/b.go"),
            copy("/proj/src/z.go", "/app/z.go")
        ]
    );
    assert!(up.runs.is_empty());
    assert!(!up.restart);
}

#[test]
fn a_path_under_several_syncs_maps_through_the_longest() {
    let mut spec = spec();
    spec.syncs.push(sync("/proj/src/static", "/srv/www/"));
    let up = update(
        &spec,
        &[
            Change::written("/proj/src/static/css/site.css"),
            Change::written("/proj/src/main.go"),
        ],
    );
    assert_eq!(
        up.copies,
        vec![
            copy("/proj/src/main.go", "/app/main.go"),
            copy("/proj/src/static/css/site.css", "/srv/www/css/site.css"),
        ]
    );
}

#[test]
fn a_sibling_with_a_common_prefix_is_not_under_a_sync() {
    // /proj/src-gen starts with the text "/proj/src" but is not inside it.
    let fb = fall_back(&spec(), &[Change::written("/proj/src-gen/x.go")]);
    assert_eq!(fb.reason, FallBackReason::OutsideSync);
}

#[test]
fn a_changed_sync_root_itself_maps_to_the_remote_root() {
    let up = update(&spec(), &[Change::written("/proj/src")]);
    assert_eq!(up.copies, vec![copy("/proj/src", "/app")]);
}

#[test]
fn a_changed_directory_covers_changes_below_it() {
    let changes = [
        Change::written("/proj/src/pkg"),
        Change::written("/proj/src/pkg/a.go"),
        Change::written("/proj/src/pkg-b/c.go"),
        Change::removed("/proj/src/gone"),
        Change::removed("/proj/src/gone/x"),
    ];
    let up = update(&spec(), &changes);
    assert_eq!(
        up.copies,
        vec![
            copy("/proj/src/pkg", "/app/pkg"),
            copy("/proj/src/pkg-b/c.go", "/app/pkg-b/c.go")
        ]
    );
    assert_eq!(up.deletes, vec!["/app/gone"]);
}

#[test]
fn a_copy_from_another_sync_landing_inside_a_copied_directory_is_kept() {
    let mut spec = spec();
    spec.syncs.push(sync("/proj/vendor", "/app/vendor"));
    let changes = [
        Change::written("/proj/src"),
        Change::written("/proj/vendor/lib.go"),
    ];
    let up = update(&spec, &changes);
    assert_eq!(
        up.copies,
        vec![
            copy("/proj/src", "/app"),
            copy("/proj/vendor/lib.go", "/app/vendor/lib.go")
        ]
    );
}

#[test]
fn a_file_outside_every_sync_falls_back_naming_it() {
    let changes = [
        Change::written("/proj/src/main.go"),
        Change::written("/proj/go.mod"),
    ];
    let fb = fall_back(&spec(), &changes);
    assert_eq!(fb.path, PathBuf::from("/proj/go.mod"));
    assert_eq!(fb.reason, FallBackReason::OutsideSync);
    assert_eq!(
        fb.relative_to("/proj".as_ref()).to_string(),
        "go.mod is outside every sync path: full rebuild"
    );
}

#[test]
fn a_fall_back_on_file_forces_a_rebuild_even_inside_a_sync() {
    let mut spec = spec();
    spec.fall_back_on = vec!["/proj/src/Dockerfile".into()];
    let fb = fall_back(
        &spec,
        &[
            Change::written("/proj/src/a.go"),
            Change::written("/proj/src/Dockerfile"),
        ],
    );
    assert_eq!(
        fb.relative_to("/proj".as_ref()).to_string(),
        "src/Dockerfile matches fall_back_on(src/Dockerfile): full rebuild"
    );
}

#[test]
fn a_fall_back_on_directory_covers_files_below_it() {
    let mut spec = spec();
    spec.fall_back_on = vec!["/proj/src/deps".into()];
    let fb = fall_back(&spec, &[Change::removed("/proj/src/deps/lock.json")]);
    assert_eq!(
        fb.reason,
        FallBackReason::MatchesFallBackOn {
            entry: "/proj/src/deps".into()
        }
    );
    assert_eq!(
        fb.relative_to("/proj".as_ref()).to_string(),
        "src/deps/lock.json matches fall_back_on(src/deps): full rebuild"
    );
}

#[test]
fn fall_back_on_is_reported_before_a_file_outside_the_syncs() {
    let mut spec = spec();
    spec.fall_back_on = vec!["/proj/src/package.json".into()];
    let changes = [
        Change::written("/proj/README.md"),
        Change::written("/proj/src/package.json"),
    ];
    let fb = fall_back(&spec, &changes);
    assert_eq!(fb.path, PathBuf::from("/proj/src/package.json"));
}

#[test]
fn run_steps_run_when_a_change_is_or_is_under_a_trigger() {
    let mut spec = spec();
    spec.runs = vec![
        run("always", &[]),
        run("deps", &["/proj/src/package.json"]),
        run("gen", &["/proj/src/proto"]),
    ];
    let names = |changes: &[Change]| -> Vec<String> {
        let up = update(&spec, changes);
        up.runs.iter().map(|r| r.cmd.to_string()).collect()
    };
    assert_eq!(names(&[Change::written("/proj/src/a.go")]), vec!["always"]);
    assert_eq!(
        names(&[Change::written("/proj/src/package.json")]),
        vec!["always", "deps"]
    );
    assert_eq!(
        names(&[
            Change::removed("/proj/src/proto/api/v1.proto"),
            Change::written("/proj/src/package.json")
        ]),
        vec!["always", "deps", "gen"],
        "runs keep the Tiltfile's order"
    );
}

#[test]
fn restart_container_is_part_of_every_update() {
    let mut spec = spec();
    spec.restart = true;
    let up = update(&spec, &[Change::written("/proj/src/a.go")]);
    assert!(up.restart);
    assert!(!up.is_empty());
}

#[test]
fn no_changes_plan_nothing() {
    let mut spec = spec();
    spec.runs = vec![run("always", &[])];
    spec.restart = true;
    let up = update(&spec, &[]);
    assert!(up.is_empty());
    assert_eq!(up, UpdatePlan::default());
}

#[test]
fn initial_sync_copies_every_sync_root_and_nothing_else() {
    let mut spec = spec();
    spec.initial_sync = true;
    spec.syncs.push(sync("/proj/static", "/srv"));
    spec.runs = vec![run("always", &[])];
    spec.restart = true;
    let up = plan_initial_sync(&spec);
    assert_eq!(
        up,
        UpdatePlan {
            copies: vec![copy("/proj/src", "/app"), copy("/proj/static", "/srv")],
            ..UpdatePlan::default()
        }
    );
}

/// Polls a future that must be ready at once (the fake updater never waits).
fn now<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the fake updater's futures are always ready"),
    }
}

/// A sink that keeps the lines it gets.
type Lines = Arc<Mutex<Vec<(Stream, String)>>>;

fn sink() -> (LineSink, Lines) {
    let lines: Lines = Arc::default();
    let keep = lines.clone();
    let sink: LineSink = Arc::new(move |s, l| keep.lock().unwrap().push((s, l)));
    (sink, lines)
}

fn full_plan() -> UpdatePlan {
    UpdatePlan {
        deletes: vec!["/app/old".into()],
        copies: vec![copy("/p/a", "/app/a"), copy("/p/b", "/app/b")],
        runs: vec![run("make", &[]), run("make test", &[])],
        restart: true,
        restart_process: None,
    }
}

#[test]
fn apply_runs_deletes_copies_runs_then_restart_and_logs_each_step() {
    let fake = FakeUpdater::new();
    fake.script_exec("make", 0, &["built"]);
    let (log, lines) = sink();
    let report = now(apply(
        &fake,
        &UpdateTarget::container("0123456789abcdef"),
        &full_plan(),
        log,
    ))
    .unwrap();
    assert_eq!(
        report,
        ApplyReport {
            copied: 2,
            removed: 1,
            runs: 2,
            restarted: true,
            process_restarted: false,
        }
    );
    let c = || "0123456789abcdef".to_owned();
    assert_eq!(
        fake.calls(),
        vec![
            UpdaterCall::Delete {
                container: c(),
                paths: vec!["/app/old".into()]
            },
            UpdaterCall::Copy {
                container: c(),
                files: full_plan().copies
            },
            UpdaterCall::Exec {
                container: c(),
                cmd: Cmd::Shell("make".into())
            },
            UpdaterCall::Exec {
                container: c(),
                cmd: Cmd::Shell("make test".into())
            },
            UpdaterCall::Restart { container: c() },
        ]
    );
    let text: Vec<String> = lines.lock().unwrap().iter().map(|l| l.1.clone()).collect();
    assert_eq!(
        text,
        vec![
            "synced 2 files, removed 1 in 0123456789ab",
            "built",
            "run: make (exit 0)",
            "run: make test (exit 0)",
            "restarting container",
        ]
    );
}

#[test]
fn a_failing_run_step_stops_the_update_without_asking_for_a_rebuild() {
    let fake = FakeUpdater::new();
    fake.script_exec("make", 2, &[]);
    let (log, _) = sink();
    let err = now(apply(
        &fake,
        &UpdateTarget::container("c1"),
        &full_plan(),
        log,
    ))
    .unwrap_err();
    assert!(matches!(&err, ApplyError::RunFailed { cmd, code: 2 } if cmd == "make"));
    assert!(!err.needs_rebuild());
    let last = fake.calls().pop().unwrap();
    assert!(
        matches!(last, UpdaterCall::Exec { .. }),
        "no later run, no restart: {last:?}"
    );
}

#[test]
fn an_infrastructure_failure_asks_for_a_rebuild() {
    let fake = FakeUpdater::new();
    fake.fail_next_with(FakeOp::Copy, |c| UpdateError::MissingTool {
        container: c.into(),
        doing: "copy files",
        tool: "rm".into(),
        why: "test",
    });
    let (log, _) = sink();
    let err = now(apply(
        &fake,
        &UpdateTarget::container("c1"),
        &full_plan(),
        log,
    ))
    .unwrap_err();
    assert!(err.needs_rebuild());
    assert!(matches!(
        err,
        ApplyError::Infra(UpdateError::MissingTool { .. })
    ));
    assert_eq!(fake.calls().len(), 2, "stopped after the failed copy");
    // One-shot: the next update goes through.
    let (log, _) = sink();
    assert!(
        now(apply(
            &fake,
            &UpdateTarget::container("c1"),
            &full_plan(),
            log
        ))
        .is_ok()
    );
}

#[test]
fn echo_off_hides_the_command_in_the_log() {
    let fake = FakeUpdater::new();
    let mut secret = run("deploy --token=s3cret", &[]);
    secret.echo_off = true;
    let plan = UpdatePlan {
        runs: vec![secret],
        ..UpdatePlan::default()
    };
    let (log, lines) = sink();
    now(apply(&fake, &UpdateTarget::container("c1"), &plan, log)).unwrap();
    let text = lines.lock().unwrap()[0].1.clone();
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn deletes_only_log_the_removal() {
    let fake = FakeUpdater::new();
    let plan = UpdatePlan {
        deletes: vec!["/app/x".into()],
        ..UpdatePlan::default()
    };
    let (log, lines) = sink();
    now(apply(&fake, &UpdateTarget::container("c1"), &plan, log)).unwrap();
    assert_eq!(lines.lock().unwrap()[0].1, "removed 1 file in c1");
}

fn restart_process(triggers: &[&str]) -> stilt::model::ProcessRestart {
    stilt::model::ProcessRestart {
        entrypoint: vec!["/web".into()],
        restart_file: "/tmp/.restart-proc".into(),
        triggers: triggers.iter().map(PathBuf::from).collect(),
        exit_policy: stilt::model::ExitPolicy::Restart,
    }
}

#[test]
fn restart_process_writes_its_file_after_every_update_without_triggers() {
    let mut s = spec();
    s.restart_process = Some(restart_process(&[]));
    let up = update(&s, &[Change::written("/proj/src/a.go")]);
    assert_eq!(up.restart_process.as_deref(), Some("/tmp/.restart-proc"));
    assert!(!up.restart, "the container itself is not restarted");
    let none = update(&s, &[]);
    assert!(none.is_empty(), "no change, no restart: {none:?}");
}

#[test]
fn restart_process_triggers_limit_the_restart_to_their_files() {
    let mut s = spec();
    s.restart_process = Some(restart_process(&["/proj/src/cmd"]));
    let other = update(&s, &[Change::written("/proj/src/static/a.css")]);
    assert_eq!(other.restart_process, None);
    assert_eq!(other.copies.len(), 1, "the file is still synced");
    let hit = update(&s, &[Change::written("/proj/src/cmd/main.go")]);
    assert_eq!(hit.restart_process.as_deref(), Some("/tmp/.restart-proc"));
}

#[test]
fn apply_writes_the_restart_file_last_and_leaves_no_local_file() {
    let fake = FakeUpdater::new();
    fake.script_exec("make", 0, &[]);
    let (log, lines) = sink();
    let plan = UpdatePlan {
        copies: vec![copy("/p/a", "/app/a")],
        runs: vec![run("make", &[])],
        restart_process: Some("/tmp/.restart-proc".into()),
        ..UpdatePlan::default()
    };
    let report = now(apply(&fake, &UpdateTarget::container("c1"), &plan, log)).unwrap();
    assert!(report.process_restarted);
    let last = fake.calls().pop().unwrap();
    let UpdaterCall::Copy { files, .. } = last else {
        panic!("the restart file is written last: {last:?}");
    };
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].remote, "/tmp/.restart-proc");
    assert!(!files[0].local.exists(), "the local marker is removed");
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|(_, l)| l == "restarting the process (/tmp/.restart-proc)"),
        "{lines:?}"
    );
}

#[test]
fn a_failing_run_step_does_not_restart_the_process() {
    let fake = FakeUpdater::new();
    fake.script_exec("make", 1, &[]);
    let (log, _) = sink();
    let plan = UpdatePlan {
        runs: vec![run("make", &[])],
        restart_process: Some("/tmp/.restart-proc".into()),
        ..UpdatePlan::default()
    };
    let err = now(apply(&fake, &UpdateTarget::container("c1"), &plan, log)).unwrap_err();
    assert!(matches!(err, ApplyError::RunFailed { .. }));
    assert!(
        !fake
            .calls()
            .iter()
            .any(|c| matches!(c, UpdaterCall::Copy { .. })),
        "no restart file written"
    );
}
