//! Tests for the live update steps and their validation by the build builtins.

use super::super::test_util::*;
use crate::model::{Cmd, LiveUpdateSpec, RunStep, SyncStep};

fn project(steps: &str) -> Project {
    let p = Project::new(&format!(
        "docker_build('web', 'app',\n    live_update={steps})\n"
    ));
    p.write("app/Dockerfile", "FROM scratch\n");
    p
}

fn spec_of(p: &Project) -> LiveUpdateSpec {
    let loaded = p.load();
    loaded.project.images[0].live_update.clone()
}

#[test]
fn steps_become_a_spec_with_absolute_local_paths() {
    let p = project(
        "[initial_sync(), fall_back_on('app/package.json'), sync('app/src', '/srv/src'),\n\
         run('npm i', trigger=['app/src/package.json'], echo_off=True), run(['make']),\n\
         restart_container()]",
    );
    let spec = spec_of(&p);
    let root = p.path();
    assert!(spec.initial_sync && spec.restart);
    assert_eq!(spec.fall_back_on, vec![root.join("app/package.json")]);
    assert_eq!(
        spec.syncs,
        vec![SyncStep {
            local: root.join("app/src"),
            remote: "/srv/src".into()
        }]
    );
    assert_eq!(
        spec.runs,
        vec![
            RunStep {
                cmd: Cmd::Shell("npm i".into()),
                triggers: vec![root.join("app/src/package.json")],
                echo_off: true
            },
            RunStep {
                cmd: Cmd::Argv(vec!["make".into()]),
                triggers: vec![],
                echo_off: false
            }
        ]
    );
}

#[test]
fn a_step_out_of_order_names_both_steps() {
    let f = project("[run('make'), sync('app/src', '/srv')]").fail();
    assert_fails_at(
        &f,
        "live_update: sync(\"app/src\", \"/srv\") must come before run(\"make\")",
        1,
        1,
    );
    let f = project("[restart_container(), initial_sync()]").fail();
    assert_fails_at(
        &f,
        "initial_sync() must come before restart_container()",
        1,
        1,
    );
}

#[test]
fn restart_container_twice_is_an_error() {
    let f = project("[restart_container(), restart_container()]").fail();
    assert_fails_at(&f, "restart_container() may appear only once", 1, 1);
}

#[test]
fn sync_outside_the_context_is_an_error_at_the_build_call() {
    let f = project("[sync('other', '/srv')]").fail();
    assert_fails_at(&f, "is outside the build context", 1, 1);
}

#[test]
fn relative_remote_path_is_an_error() {
    let f = project("[sync('app', 'srv')]").fail();
    assert_fails_at(&f, "the remote path \"srv\" must be absolute", 1, 1);
}

#[test]
fn run_trigger_outside_every_sync_is_accepted_like_tilt() {
    project("[sync('app/src', '/srv'), run('make', trigger='app/Makefile')]").load();
}

#[test]
fn steps_without_a_sync_or_a_run_are_an_error() {
    let f = project("[restart_container()]").fail();
    assert_fails_at(
        &f,
        "live_update needs at least one sync() or run() step",
        1,
        1,
    );
}

#[test]
fn something_else_in_the_list_is_an_error() {
    let f = project("['sync']").fail();
    assert_fails_at(&f, "live_update[0] must be a live update step", 1, 1);
}

#[test]
fn custom_build_syncs_must_be_inside_a_dep() {
    let p = Project::new(
        "custom_build('web', 'true', ['src'],\n    live_update=[sync('lib', '/app/lib')])\n",
    );
    let f = p.fail();
    assert_fails_at(&f, "is outside every dep of the build", 1, 1);
    let p =
        Project::new("custom_build('web', 'true', ['src'], live_update=[sync('src/a', '/a')])\n");
    assert_eq!(spec_of(&p).syncs[0].local, p.path().join("src/a"));
}

#[test]
fn step_builtins_reject_empty_arguments_at_their_call() {
    let f = Project::new("x = 1\ns = run('')\n").fail();
    assert_fails_at(&f, "run() needs a non-empty cmd", 2, 5);
    let f = Project::new("s = fall_back_on([])\n").fail();
    assert_fails_at(&f, "fall_back_on() needs at least one file", 1, 5);
}
