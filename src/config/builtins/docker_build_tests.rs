//! Tests for `docker_build()`.

use super::super::test_util::*;
use crate::model::{Cmd, Dockerfile, ImageBuild};

fn with_context(tiltfile: &str) -> Project {
    let p = Project::new(tiltfile);
    p.write("app/Dockerfile", "FROM scratch\n");
    p
}

fn docker(loaded: &crate::config::Loaded) -> &crate::model::DockerBuild {
    match &loaded.project.images[0].build {
        ImageBuild::Docker(d) => d,
        other => panic!("not a docker build: {other:?}"),
    }
}

#[test]
fn context_and_default_dockerfile_resolve_against_the_tiltfile_and_are_watched() {
    let p = with_context("docker_build('web', 'app')\n");
    let loaded = p.load();
    let d = docker(&loaded);
    assert_eq!(d.context, p.path().join("app"));
    assert_eq!(
        d.dockerfile,
        Dockerfile::Path(p.path().join("app/Dockerfile"))
    );
    assert!(has(&loaded.files_read, &p.path().join("app/Dockerfile")));
    assert_eq!(loaded.project.images[0].image_ref, "web");
}

#[test]
fn options_are_recorded() {
    let p = with_context(
        "docker_build('example.com/team/web', 'app', build_args={'A': '1'},\n\
         dockerfile_contents='FROM scratch', ignore='*.log', only=['src'],\n\
         entrypoint=['/bin/web', '-v'], target='dev', network='host', extra_tag='web:ci',\n\
         cache_from='web:cache', pull=True, platform='linux/amd64', extra_hosts=['db:10.0.0.2'])\n",
    );
    let loaded = p.load();
    let d = docker(&loaded);
    assert_eq!(d.dockerfile, Dockerfile::Contents("FROM scratch".into()));
    assert_eq!(d.build_args.get("A").map(String::as_str), Some("1"));
    assert_eq!(d.ignore, ["*.log"]);
    assert_eq!(d.only, ["src"]);
    assert_eq!(d.target.as_deref(), Some("dev"));
    assert_eq!(d.network.as_deref(), Some("host"));
    assert_eq!(d.extra_tags, ["web:ci"]);
    assert_eq!(d.cache_from, ["web:cache"]);
    assert!(d.pull);
    assert_eq!(d.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(d.extra_hosts, ["db:10.0.0.2"]);
    assert_eq!(
        loaded.project.images[0].entrypoint,
        Some(Cmd::Argv(vec!["/bin/web".into(), "-v".into()]))
    );
}

#[test]
fn a_tag_in_the_ref_is_dropped_with_a_warning() {
    let loaded = with_context("docker_build('web:dev', 'app')\n").load();
    assert_eq!(loaded.project.images[0].image_ref, "web");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("the tag \"dev\" is ignored")),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn an_invalid_ref_is_an_error() {
    let f = with_context("docker_build('Web App', 'app')\n").fail();
    assert_fails_at(&f, "\"Web App\" is not a valid image reference", 1, 1);
}

#[test]
fn a_missing_dockerfile_is_an_error_and_still_watched() {
    let p = Project::new("x = 1\ndocker_build('web', '.', dockerfile='build/Dockerfile')\n");
    let f = p.fail();
    assert_fails_at(&f, "cannot read Dockerfile", 2, 1);
    assert!(has(&f.files_read, &p.path().join("build/Dockerfile")));
}

#[test]
fn a_missing_context_is_accepted_at_load_like_tilt() {
    Project::new("docker_build('web', 'later', dockerfile_contents='FROM scratch')\n").load();
}

#[test]
fn a_context_that_is_a_file_is_an_error() {
    let p = Project::new("docker_build('web', 'f', dockerfile_contents='FROM scratch')\n");
    p.write("f", "x");
    let f = p.fail();
    assert_fails_at(&f, "the build context", 1, 1);
    assert!(f.error.to_string().contains("is not a directory"));
}

#[test]
fn ssh_and_secret_need_buildkit() {
    let f = with_context("docker_build('web', 'app', ssh='default')\n").fail();
    assert_fails_at(&f, "docker_build(ssh=) needs BuildKit", 1, 1);
    let f = with_context("docker_build('web', 'app', secret=['id=x,src=y'])\n").fail();
    assert_fails_at(&f, "docker_build(secret=) needs BuildKit", 1, 1);
}

#[test]
fn the_same_ref_twice_is_an_error_at_the_second_call() {
    let f = with_context("docker_build('web', 'app')\ndocker_build('web:v2', 'app')\n").fail();
    assert_fails_at(
        &f,
        "image \"web\" is already declared (by docker_build at",
        2,
        1,
    );
}

#[test]
fn dockerfile_and_dockerfile_contents_together_is_an_error() {
    let f = with_context(
        "docker_build('web', 'app', dockerfile='app/Dockerfile', dockerfile_contents='FROM x')\n",
    )
    .fail();
    assert_fails_at(
        &f,
        "give dockerfile= or dockerfile_contents=, not both",
        1,
        1,
    );
}

#[test]
fn an_unused_image_is_warned_about() {
    let loaded = with_context("docker_build('web', 'app')\n").load();
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w == "image 'web' is not used by any resource"),
        "{:?}",
        loaded.warnings
    );
}
