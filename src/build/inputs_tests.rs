//! Inputs over real temp dirs: the walk and the pure matcher must agree.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::model::Cmd;
use crate::model::{CustomBuild, LiveUpdateSpec};

fn docker_spec(context: &Path, ignore: &[&str], only: &[&str]) -> ImageSpec {
    let mut spec = ImageSpec::docker("web", context);
    if let ImageBuild::Docker(d) = &mut spec.build {
        d.ignore = ignore.iter().map(|s| s.to_string()).collect();
        d.only = only.iter().map(|s| s.to_string()).collect();
    }
    spec
}

fn write(root: &Path, files: &[&str]) {
    for f in files {
        let p = root.join(f);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, f).unwrap();
    }
}

fn rels(inputs: &Inputs, root: &Path) -> Vec<String> {
    inputs
        .files()
        .unwrap()
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect()
}

/// Every file the walk returns is `includes`, and every file it skips is not.
fn assert_walk_agrees(inputs: &Inputs, root: &Path) {
    let found: Vec<PathBuf> = inputs.files().unwrap();
    for e in walkdir(root) {
        assert_eq!(inputs.includes(&e), found.contains(&e), "{}", e.display());
    }
}

fn walkdir(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in fs::read_dir(root).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn dockerignore_and_ignore_param_exclude_files_and_git_is_always_out() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(
        root,
        &[
            "Dockerfile",
            ".dockerignore",
            "app.py",
            "secret.txt",
            "logs/a.log",
            ".git/HEAD",
            "sub/.git/config",
        ],
    );
    fs::write(root.join(".dockerignore"), "secret.txt\nlogs\n").unwrap();
    let inputs = Inputs::for_image(&docker_spec(root, &["app.py"], &[])).unwrap();
    assert_eq!(rels(&inputs, root), [".dockerignore", "Dockerfile"]);
    assert!(!inputs.includes(&root.join("logs/a.log")));
    assert!(!inputs.includes(&root.join(".git/HEAD")));
    assert!(!inputs.includes(&root.join("../elsewhere")));
    assert_walk_agrees(&inputs, root);
}

#[test]
fn only_restricts_the_context_and_ignore_still_applies_inside_it() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(
        root,
        &[
            "Dockerfile",
            "src/main.go",
            "src/gen/x.tmp",
            "docs/a.md",
            "go.mod",
        ],
    );
    let inputs =
        Inputs::for_image(&docker_spec(root, &["**/*.tmp"], &["./src/", "go.mod"])).unwrap();
    assert_eq!(rels(&inputs, root), ["Dockerfile", "go.mod", "src/main.go"]);
    assert!(inputs.includes(&root.join("src/new.go")));
    assert!(!inputs.includes(&root.join("docs/a.md")));
    assert!(!inputs.in_context(&root.join("Dockerfile")));
    assert_walk_agrees(&inputs, root);
}

#[test]
fn exception_reincludes_a_file_inside_an_excluded_directory() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(root, &["Dockerfile", "vendor/keep.txt", "vendor/drop.txt"]);
    fs::write(root.join(".dockerignore"), "vendor\n!vendor/keep.txt\n").unwrap();
    let inputs = Inputs::for_image(&docker_spec(root, &[], &[])).unwrap();
    assert_eq!(
        rels(&inputs, root),
        [".dockerignore", "Dockerfile", "vendor/keep.txt"]
    );
    assert_walk_agrees(&inputs, root);
}

#[test]
fn dockerfile_outside_the_context_is_an_input_and_a_root() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), &["ctx/app.py", "build/Dockerfile"]);
    let mut spec = docker_spec(&d.path().join("ctx"), &[], &[]);
    let df = d.path().join("build/Dockerfile");
    if let ImageBuild::Docker(b) = &mut spec.build {
        b.dockerfile = Dockerfile::Path(df.clone());
    }
    let inputs = Inputs::for_image(&spec).unwrap();
    assert!(inputs.includes(&df));
    assert!(!inputs.in_context(&df));
    assert!(inputs.roots().contains(&df));
    assert!(inputs.files().unwrap().contains(&df));
}

#[test]
fn custom_build_inputs_are_deps_minus_ignore() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(
        root,
        &[
            "src/a.rs",
            "src/target/big.o",
            "src/x.log",
            "other.txt",
            "src/.git/HEAD",
        ],
    );
    let spec = ImageSpec {
        image_ref: "img".into(),
        build: ImageBuild::Custom(CustomBuild {
            command: Cmd::Shell("true".into()),
            deps: vec![root.join("src")],
            tag: None,
            skips_local_docker: false,
            disable_push: false,
            outputs_image_ref_to: None,
            ignore: vec!["*.log".into(), "src/target/".into()],
            env: BTreeMap::new(),
            dir: root.to_path_buf(),
        }),
        live_update: LiveUpdateSpec::default(),
        entrypoint: None,
    };
    let inputs = Inputs::for_image(&spec).unwrap();
    assert_eq!(rels(&inputs, root), ["src/a.rs"]);
    assert!(!inputs.includes(&root.join("other.txt")));
    assert!(!inputs.includes(&root.join("src/target/big.o")));
    assert_walk_agrees(&inputs, root);
}
