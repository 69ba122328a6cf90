use super::*;
use std::time::Duration;

/// A temp project dir with helpers to write ignore files.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn cfg(&self) -> WatchConfig {
        WatchConfig {
            roots: vec![self.root()],
            base_dir: self.root(),
            use_gitignore: true,
            extra_ignores: vec![],
            quiet: Duration::from_millis(15),
            max_wait: Duration::from_secs(1),
        }
    }

    fn rules(&self) -> IgnoreRules {
        IgnoreRules::new(&self.cfg()).unwrap()
    }
}

#[test]
fn editor_temp_files_are_ignored_everywhere() {
    let fx = Fixture::new();
    let rules = fx.rules();
    for name in [
        "main.go.swp",
        ".main.go.swo",
        "main.go.swn",
        "main.go.swx",
        "4913",
        "main.go~",
        ".#main.go",
        "#main.go#",
        ".DS_Store",
        "main.go___jb_tmp___",
        "main.go___jb_old___",
        ".main.go.kate-swp",
        "sedAb12Xy",
    ] {
        assert!(rules.is_ignored(&fx.path(name), false), "{name}");
        assert!(
            rules.is_ignored(&fx.path("deep/er").join(name), false),
            "deep/er/{name}"
        );
    }
    for kept in [
        "main.go",
        "swp",
        "4913.go",
        "a#b",
        "Tiltfile",
        "sed.go",
        "sedXYZ.txt",
    ] {
        assert!(!rules.is_ignored(&fx.path(kept), false), "{kept}");
    }
}

#[test]
fn git_dir_and_everything_inside_is_ignored() {
    let fx = Fixture::new();
    let rules = fx.rules();
    assert!(rules.is_ignored(&fx.path(".git"), true));
    assert!(rules.is_ignored(&fx.path(".git/objects/ab/cdef"), false));
    assert!(
        rules.is_ignored(&fx.path("sub/.git"), false),
        "worktree .git file"
    );
    assert!(!rules.is_ignored(&fx.path(".github/workflows/ci.yml"), false));
}

#[test]
fn tiltignore_in_base_dir_applies() {
    let fx = Fixture::new();
    fx.write(".tiltignore", "# comment\n\ndist/\n*.log\n");
    let rules = fx.rules();
    assert!(rules.is_ignored(&fx.path("dist"), true));
    assert!(rules.is_ignored(&fx.path("dist/app.js"), false));
    assert!(rules.is_ignored(&fx.path("web/server.log"), false));
    assert!(!rules.is_ignored(&fx.path("web/server.go"), false));
    assert_eq!(
        rules.explain(&fx.path("dist/app.js"), false).as_deref(),
        Some(".tiltignore:3: dist/")
    );
}

#[test]
fn invalid_tiltignore_pattern_names_file_and_line() {
    let fx = Fixture::new();
    fx.write(".tiltignore", "ok\nbad{x\n");
    let err = IgnoreRules::new(&fx.cfg()).unwrap_err();
    match &err {
        WatchError::InvalidIgnorePattern {
            pattern, origin, ..
        } => {
            assert_eq!(pattern, "bad{x");
            assert_eq!(
                origin,
                &IgnoreOrigin::TiltIgnore {
                    path: fx.path(".tiltignore"),
                    line: 2
                }
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains(".tiltignore:2"), "{err}");
}

#[test]
fn extra_ignores_are_relative_to_base_dir_and_explained() {
    let fx = Fixture::new();
    let mut cfg = fx.cfg();
    cfg.extra_ignores = vec!["/build".into(), "*.tmp".into()];
    let rules = IgnoreRules::new(&cfg).unwrap();
    assert!(rules.is_ignored(&fx.path("build/out.o"), false));
    assert!(
        !rules.is_ignored(&fx.path("src/build/x.go"), false),
        "anchored"
    );
    assert!(rules.is_ignored(&fx.path("src/a.tmp"), false));
    assert_eq!(
        rules.explain(&fx.path("src/a.tmp"), false).as_deref(),
        Some("watch_settings(ignore): *.tmp")
    );
}

#[test]
fn invalid_extra_ignore_names_watch_settings() {
    let fx = Fixture::new();
    let mut cfg = fx.cfg();
    cfg.extra_ignores = vec!["a{b".into()];
    let err = IgnoreRules::new(&cfg).unwrap_err();
    assert!(
        err.to_string().contains("watch_settings(ignore=[...])"),
        "{err}"
    );
}

#[test]
fn nested_gitignore_applies_to_its_subtree_only() {
    let fx = Fixture::new();
    fx.write(".gitignore", "node_modules/\n");
    fx.write("web/.gitignore", "# built\n*.gen.go\n");
    fx.write("web/a.gen.go", "");
    let rules = fx.rules();
    assert!(rules.is_ignored(&fx.path("node_modules/x/index.js"), false));
    assert!(rules.is_ignored(&fx.path("web/node_modules"), true));
    assert!(rules.is_ignored(&fx.path("web/a.gen.go"), false));
    assert!(
        !rules.is_ignored(&fx.path("api/a.gen.go"), false),
        "outside web/"
    );
    assert_eq!(
        rules.explain(&fx.path("web/a.gen.go"), false).as_deref(),
        Some("web/.gitignore:2: *.gen.go")
    );
    assert_eq!(
        rules
            .explain(&fx.path("node_modules/x/index.js"), false)
            .as_deref(),
        Some(".gitignore:1: node_modules/")
    );
    assert_eq!(rules.explain(&fx.path("web/main.go"), false), None);
}

#[test]
fn deeper_gitignore_negation_reincludes() {
    let fx = Fixture::new();
    fx.write(".gitignore", "*.txt\n");
    fx.write("docs/.gitignore", "!keep.txt\n");
    let rules = fx.rules();
    assert!(rules.is_ignored(&fx.path("docs/other.txt"), false));
    assert!(!rules.is_ignored(&fx.path("docs/keep.txt"), false));
}

#[test]
fn negation_within_one_file_reincludes() {
    let fx = Fixture::new();
    fx.write(".gitignore", "*.log\n!important.log\n");
    let rules = fx.rules();
    assert!(rules.is_ignored(&fx.path("a.log"), false));
    assert!(!rules.is_ignored(&fx.path("important.log"), false));
}

#[test]
fn tiltignore_negation_beats_gitignore() {
    let fx = Fixture::new();
    fx.write(".gitignore", "generated.go\n");
    fx.write(".tiltignore", "!generated.go\n");
    assert!(!fx.rules().is_ignored(&fx.path("generated.go"), false));
}

#[test]
fn use_gitignore_false_ignores_gitignore_files() {
    let fx = Fixture::new();
    fx.write(".gitignore", "target/\n");
    let mut cfg = fx.cfg();
    cfg.use_gitignore = false;
    let rules = IgnoreRules::new(&cfg).unwrap();
    assert!(!rules.is_ignored(&fx.path("target/debug/app"), false));
    assert!(
        rules.is_ignored(&fx.path(".git/HEAD"), false),
        "built-ins stay"
    );
}

#[test]
fn git_info_exclude_applies() {
    let fx = Fixture::new();
    fx.write(".git/info/exclude", "secret.env\n");
    let rules = fx.rules();
    assert!(rules.is_ignored(&fx.path("secret.env"), false));
    assert_eq!(
        rules.explain(&fx.path("secret.env"), false).as_deref(),
        Some(".git/info/exclude:1: secret.env")
    );
}

#[test]
fn parent_gitignore_inside_the_repo_applies_to_a_sub_root() {
    let fx = Fixture::new();
    fx.write(".git/HEAD", "");
    fx.write(".gitignore", "*.pyc\n");
    fx.write("svc/app.py", "");
    let mut cfg = fx.cfg();
    cfg.roots = vec![fx.path("svc")];
    cfg.base_dir = fx.path("svc");
    let rules = IgnoreRules::new(&cfg).unwrap();
    assert!(rules.is_ignored(&fx.path("svc/app.pyc"), false));
    assert!(!rules.is_ignored(&fx.path("svc/app.py"), false));
}

#[test]
fn explicit_root_is_not_ignored_by_ancestors_above_it() {
    let fx = Fixture::new();
    fx.write(".gitignore", "vendor/\n");
    fx.write("vendor/lib/a.go", "");
    let mut cfg = fx.cfg();
    cfg.roots.push(fx.path("vendor/lib"));
    let rules = IgnoreRules::new(&cfg).unwrap();
    assert!(!rules.is_ignored(&fx.path("vendor/lib/a.go"), false));
    assert!(rules.is_ignored(&fx.path("vendor/other.go"), false));
}

#[test]
fn paths_outside_every_root_match_by_name_only() {
    let fx = Fixture::new();
    fx.write(".tiltignore", "tmp\n");
    let rules = fx.rules();
    // The temp dir itself may live under /tmp: that must not ignore everything.
    assert!(!rules.is_ignored(&fx.path("src/main.go"), false));
    assert!(rules.is_ignored(Path::new("/elsewhere/x.swp"), false));
    assert!(!rules.is_ignored(Path::new("/elsewhere/x.go"), false));
}

#[test]
fn path_filter_matches_relative_to_base_dir() {
    let base = Path::new("/p");
    let filter = PathFilter::new(base, &["out/".into(), "*.pyc".into(), "/gen".into()]).unwrap();
    assert!(filter.matches(Path::new("/p/out/app")));
    assert!(filter.matches(Path::new("/p/a/b/x.pyc")));
    assert!(filter.matches(Path::new("/p/gen/x.go")));
    assert!(!filter.matches(Path::new("/p/src/gen/x.go")), "anchored");
    assert!(!filter.matches(Path::new("/p/src/main.py")));
    assert!(!filter.matches(Path::new("/p")));
}

#[test]
fn path_filter_does_not_panic_outside_base_dir() {
    let filter = PathFilter::new(Path::new("/p"), &["*.pyc".into(), "/gen".into()]).unwrap();
    assert!(filter.matches(Path::new("/other/x.pyc")));
    assert!(
        !filter.matches(Path::new("/other/gen")),
        "anchored patterns stay in base_dir"
    );
    assert!(filter.matches(Path::new("relative/x.pyc")));
    assert!(!filter.matches(Path::new("relative/x.go")));
    assert!(!filter.matches(Path::new("/")));
}

#[test]
fn path_filter_negation_and_empty() {
    let filter = PathFilter::new(Path::new("/p"), &["*.md".into(), "!README.md".into()]).unwrap();
    assert!(filter.matches(Path::new("/p/docs/x.md")));
    assert!(!filter.matches(Path::new("/p/README.md")));
    let none = PathFilter::new(Path::new("/p"), &[]).unwrap();
    assert!(!none.matches(Path::new("/p/anything")));
}

#[test]
fn path_filter_invalid_pattern_names_resource_ignore() {
    let err = PathFilter::new(Path::new("/p"), &["[z-a]".into()]).unwrap_err();
    assert!(err.to_string().contains("a resource's ignore="), "{err}");
}
