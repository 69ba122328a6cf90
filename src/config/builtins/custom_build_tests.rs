//! Tests for `custom_build()`.

use super::super::test_util::*;
use crate::model::{Cmd, ImageBuild};

fn custom(loaded: &crate::config::Loaded) -> &crate::model::CustomBuild {
    match &loaded.project.images[0].build {
        ImageBuild::Custom(b) => b,
        other => panic!("not a custom build: {other:?}"),
    }
}

#[test]
fn paths_resolve_and_dir_defaults_to_the_tiltfile_dir() {
    let p = Project::new(
        "custom_build('web', 'docker build -t $EXPECTED_REF .', ['src', 'go.mod'],\n\
         tag='dev', disable_push=True, skips_local_docker=True, ignore=['*.tmp'],\n\
         entrypoint='/web', outputs_image_ref_to='ref.txt', env={'X': '1'})\n",
    );
    let loaded = p.load();
    let b = custom(&loaded);
    let root = p.path();
    assert_eq!(
        b.command,
        Cmd::Shell("docker build -t $EXPECTED_REF .".into())
    );
    assert_eq!(b.deps, vec![root.join("src"), root.join("go.mod")]);
    assert_eq!(b.dir, root);
    assert_eq!(b.tag.as_deref(), Some("dev"));
    assert!(b.disable_push && b.skips_local_docker);
    assert_eq!(b.ignore, ["*.tmp"]);
    assert_eq!(b.outputs_image_ref_to, Some(root.join("ref.txt")));
    assert_eq!(b.env.get("X").map(String::as_str), Some("1"));
    assert_eq!(
        loaded.project.images[0].entrypoint,
        Some(Cmd::Shell("/web".into()))
    );
}

#[test]
fn argv_command_and_explicit_dir() {
    let p = Project::new("custom_build('web', ['./build.sh', 'x'], 'src', dir='tools')\n");
    let loaded = p.load();
    let b = custom(&loaded);
    assert_eq!(b.command, Cmd::Argv(vec!["./build.sh".into(), "x".into()]));
    assert_eq!(b.dir, p.path().join("tools"));
}

#[test]
fn empty_command_or_deps_are_errors() {
    let f = Project::new("custom_build('web', '', ['src'])\n").fail();
    assert_fails_at(&f, "needs a non-empty command", 1, 1);
    let f = Project::new("custom_build('web', 'true', [])\n").fail();
    assert_fails_at(&f, "needs at least one dep", 1, 1);
}

#[test]
fn image_deps_are_refused() {
    let f = Project::new("custom_build('web', 'true', ['src'], image_deps=['base'])\n").fail();
    assert_fails_at(&f, "image_deps=) is not supported by stilt yet", 1, 1);
}

#[test]
fn same_ref_as_a_docker_build_is_an_error() {
    let p = Project::new("docker_build('web', '.')\ncustom_build('web', 'true', ['.'])\n");
    p.write("Dockerfile", "FROM scratch\n");
    assert_fails_at(&p.fail(), "image \"web\" is already declared", 2, 1);
}
