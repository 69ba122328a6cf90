//! Tests for `kustomize()`: which program runs (kustomize, else `kubectl kustomize`),
//! the files it watches (the kustomization's, not the tree), and the render cache,
//! with fake programs put first on the Tiltfile's `$PATH`.

use std::path::{Path, PathBuf};

use super::super::test_util::*;
use super::*;
use crate::config::k8s::render::kustomization;

fn fixture_app() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/kustomize_app")
}

#[test]
fn deps_are_the_kustomizations_and_the_files_they_list_through_bases() {
    let app = fixture_app();
    let deps: Vec<String> = kustomization::deps(&app.join("overlay"))
        .iter()
        .map(|p| {
            p.strip_prefix(&app)
                .expect("under app")
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        deps,
        [
            "base/deployment.yaml",
            "base/greeting.txt",
            "base/kustomization.yaml",
            "overlay/kustomization.yaml",
            "overlay/replicas.yaml",
            "overlay/service.yaml",
        ]
    );
}

#[test]
fn listed_paths_cover_patches_generators_and_skip_urls() {
    let k: serde_json::Value = serde_saphyr::from_str(
        "resources: [a.yaml, 'https://example.com/x']\n\
         patches: [{path: p.yaml}, {patch: 'inline'}]\n\
         patchesJson6902: [{path: j.yaml}]\n\
         secretGenerator: [{name: s, files: [k=f.txt], envs: [e.env]}]\n\
         openapi: {path: schema.json}\n",
    )
    .expect("yaml");
    assert_eq!(
        kustomization::listed_paths(&k),
        [
            "a.yaml",
            "https://example.com/x",
            "p.yaml",
            "j.yaml",
            "f.txt",
            "e.env",
            "schema.json"
        ]
    );
}

fn finder(present: &'static [&'static str]) -> impl Fn(&str) -> Option<PathBuf> {
    move |p: &str| present.contains(&p).then(|| PathBuf::from("/bin").join(p))
}

#[test]
fn kustomize_is_preferred_then_kubectl_kustomize() {
    let (p, args) = command(None, finder(&["kustomize", "kubectl"])).expect("found");
    assert_eq!(
        (p, args),
        (PathBuf::from("/bin/kustomize"), vec!["build".to_owned()])
    );
    let (p, args) = command(None, finder(&["kubectl"])).expect("found");
    assert_eq!(
        (p, args),
        (PathBuf::from("/bin/kubectl"), vec!["kustomize".to_owned()])
    );
}

#[test]
fn no_program_at_all_names_both() {
    let err = command(None, finder(&[])).expect_err("none").to_string();
    assert!(err.contains("neither `kustomize` nor `kubectl`"), "{err}");
}

#[test]
fn a_missing_kustomize_bin_is_an_error_without_fallback() {
    let err = command(Some("./kz"), finder(&["kubectl"]))
        .expect_err("missing")
        .to_string();
    assert!(
        err.contains("kustomize_bin \"./kz\" was not found"),
        "{err}"
    );
}

/// A project with the fixture app copied in and a fake `kubectl` that logs each run.
struct Fixture {
    p: Project,
}

const FAKE_KUBECTL: &str = r#"#!/bin/sh
echo "$*" >> "$(dirname "$0")/../runs"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-fake\n'
"#;

impl Fixture {
    fn new() -> Fixture {
        let p = Project::new(
            "os.putenv('PATH', os.path.abspath('bin'))\n\
             k8s_yaml(kustomize('app/overlay', flags=['--load-restrictor=LoadRestrictionsNone']))\n",
        );
        p.write("bin/kubectl", FAKE_KUBECTL);
        let bin = p.path().join("bin/kubectl");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        for rel in kustomization::deps(&fixture_app().join("overlay"))
            .iter()
            .chain([fixture_app().join("base/notes.txt")].iter())
        {
            let text = std::fs::read_to_string(rel).expect("read fixture");
            let to = rel.strip_prefix(fixture_app()).expect("under app");
            p.write(&format!("app/{}", to.display()), &text);
        }
        Fixture { p }
    }

    fn runs(&self) -> Vec<String> {
        std::fs::read_to_string(self.p.path().join("runs"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ =
            std::fs::remove_dir_all(crate::instance::state_dir(&self.p.path().join("Tiltfile")));
    }
}

#[test]
fn kustomize_watches_only_the_kustomizations_files_and_passes_a_relative_path() {
    let f = Fixture::new();
    let loaded = super::super::helm::tests::load_k8s(&f.p);
    let app = f.p.path().join("app");
    for rel in [
        "overlay/kustomization.yaml",
        "overlay/service.yaml",
        "base/greeting.txt",
    ] {
        assert!(
            has(&loaded.files_read, &app.join(rel)),
            "{rel}: {:?}",
            loaded.files_read
        );
    }
    assert!(!has(&loaded.files_read, &app.join("base/notes.txt")));
    assert!(!has(&loaded.files_read, &app.join("overlay")));
    assert_eq!(
        f.runs(),
        ["kustomize --load-restrictor=LoadRestrictionsNone app/overlay"]
    );
}

#[test]
fn a_reload_with_unchanged_files_runs_no_build_and_an_unlisted_file_changes_nothing() {
    let f = Fixture::new();
    super::super::helm::tests::load_k8s(&f.p);
    f.p.write("app/base/notes.txt", "edited");
    super::super::helm::tests::load_k8s(&f.p);
    assert_eq!(f.runs().len(), 1);
    f.p.write("app/base/greeting.txt", "changed greeting");
    super::super::helm::tests::load_k8s(&f.p);
    assert_eq!(f.runs().len(), 2);
}
