//! Helpers for builtin tests: write a Tiltfile (and friends) to a temp dir and load it.

use std::path::{Path, PathBuf};

use crate::config::{LoadFailure, LoadOptions, Loaded, load};

pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new(tiltfile: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Tiltfile"), tiltfile).expect("write Tiltfile");
        Self { dir }
    }

    pub fn path(&self) -> PathBuf {
        // Canonical, so assertions match paths the loader builds on macOS (/private/var).
        self.dir.path().canonicalize().expect("canonical temp dir")
    }

    pub fn write(&self, rel: &str, text: &str) -> &Self {
        let p = self.dir.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
        self
    }

    fn opts(&self, args: &[&str]) -> LoadOptions {
        LoadOptions {
            tiltfile: self.path().join("Tiltfile"),
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            subcommand: "up".into(),
            k8s: Default::default(),
            ..Default::default()
        }
    }

    pub fn load(&self) -> Loaded {
        self.load_args(&[])
    }

    pub fn load_args(&self, args: &[&str]) -> Loaded {
        match load(&self.opts(args)) {
            Ok(l) => l,
            Err(f) => panic!("load failed: {}", f.error),
        }
    }

    pub fn fail(&self) -> LoadFailure {
        self.fail_args(&[])
    }

    pub fn fail_args(&self, args: &[&str]) -> LoadFailure {
        match load(&self.opts(args)) {
            Ok(l) => panic!("load unexpectedly succeeded: {:?}", l.output),
            Err(f) => f,
        }
    }
}

/// The `cmd` of the local resource named `name`, as a shell string.
pub fn cmd_of(loaded: &Loaded, name: &str) -> String {
    let r = loaded
        .project
        .resources
        .iter()
        .find(|r| r.name.as_str() == name)
        .unwrap_or_else(|| panic!("no resource {name}"));
    match &r.kind {
        crate::model::ResourceKind::Local(spec) => match &spec.cmd {
            Some(crate::model::Cmd::Shell(s)) => s.clone(),
            other => panic!("unexpected cmd {other:?}"),
        },
        other => panic!("not a local resource: {other:?}"),
    }
}

/// Asserts the failure message contains `msg` and points at `Tiltfile:line:col`.
pub fn assert_fails_at(f: &LoadFailure, msg: &str, line: usize, col: usize) {
    let text = f.error.to_string();
    assert!(text.contains(msg), "error should contain {msg:?}:\n{text}");
    let at = format!("Tiltfile:{line}:{col}");
    assert!(text.contains(&at), "error should point at {at}:\n{text}");
}

pub fn has(paths: &[PathBuf], p: &Path) -> bool {
    paths.iter().any(|x| x == p)
}
