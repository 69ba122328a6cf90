//! Which paths the watcher drops, and why.
//!
//! Rules come in layers, checked in this order for each path component:
//! 1. built-ins (`.git`, editor temp files) — always ignored, never re-included;
//! 2. the Tilt layer (`.tiltignore` in `base_dir`, then `watch_settings(ignore=)`),
//!    rooted at `base_dir`; a `!pattern` here re-includes even what `.gitignore` drops;
//! 3. when `use_gitignore`: every `.gitignore` (deepest directory first, like git),
//!    then `.git/info/exclude` of the enclosing repository.
//!
//! A path is ignored when it, or any directory between it and the watch root that
//! contains it, is ignored (git cannot re-include below an excluded directory
//! either). Ancestors above the root are not consulted, so an explicitly listed
//! root is watched even if a parent `.gitignore` would exclude it.
//!
//! Nested `.gitignore` files are discovered while walking (`load_dir`), so one walk
//! both finds the rules and the directories to watch. Each rule keeps its source
//! (`file:line` or `built-in (why)`) as the glob's `from`, which `explain` prints.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder, Glob};

use super::{IgnoreOrigin, WatchConfig, WatchError, walk};

#[cfg(test)]
mod tests;

/// Patterns stilt always ignores, with the reason shown by `explain`.
const BUILTIN: &[(&str, &str)] = &[
    // Git rewrites these on every command; `.git` may also be a file (worktrees).
    (".git", "git metadata"),
    // Vim swap files (.swp, then .swo, .swn when several sessions edit a file).
    ("*.swp", "vim swap file"),
    ("*.swo", "vim swap file"),
    ("*.swn", "vim swap file"),
    // Vim creates `<name>.swx` to probe whether it may create a swap file.
    ("*.swx", "vim swap probe"),
    // Vim writes and deletes a file named `4913` to test directory permissions.
    ("4913", "vim write probe"),
    // Backup files of vim (`backup`), emacs, gedit and many others.
    ("*~", "editor backup file"),
    // Emacs lock files (`.#name`, a symlink) and auto-save files (`#name#`).
    (".#*", "emacs lock file"),
    ("\\#*#", "emacs auto-save file"),
    // macOS Finder metadata, appears when a directory is opened in Finder.
    (".DS_Store", "macOS Finder metadata"),
    // JetBrains IDEs "safe write": write `x___jb_tmp___`, rename `x` to `x___jb_old___`.
    ("*___jb_tmp___", "JetBrains safe-write temp file"),
    ("*___jb_old___", "JetBrains safe-write backup"),
    // Kate swap files.
    (".*.kate-swp", "Kate swap file"),
    // `sed -i` writes `sedXXXXXX` (six random letters or digits) beside the file,
    // then renames it over the file.
    (
        "sed[a-zA-Z0-9][a-zA-Z0-9][a-zA-Z0-9][a-zA-Z0-9][a-zA-Z0-9][a-zA-Z0-9]",
        "sed -i temp file",
    ),
];

/// Global ignore rules of one watch configuration.
#[derive(Debug, Clone)]
pub struct IgnoreRules {
    base_dir: PathBuf,
    /// Roots and base_dir: ancestors of a path are checked only below these.
    scopes: Vec<PathBuf>,
    builtin: Gitignore,
    tilt: Gitignore,
    use_gitignore: bool,
    /// Directory -> its `.gitignore` (only directories that have one).
    gitignores: BTreeMap<PathBuf, Gitignore>,
    /// Repository root -> its `.git/info/exclude`.
    excludes: BTreeMap<PathBuf, Gitignore>,
}

impl IgnoreRules {
    /// Reads `.tiltignore`, `extra_ignores` and (when enabled) every `.gitignore`
    /// under the roots. Fails on an invalid `.tiltignore` / `extra_ignores`
    /// pattern; invalid `.gitignore` lines are skipped, as git does.
    pub fn new(cfg: &WatchConfig) -> Result<Self, WatchError> {
        let mut rules = Self::without_nested(cfg)?;
        if rules.use_gitignore {
            for root in &cfg.roots {
                walk::walk(&mut rules, root, None);
            }
        }
        Ok(rules)
    }

    /// Like `new` but without walking the roots: the caller walks them with
    /// `walk::walk`, which loads nested `.gitignore` files on the way.
    pub(crate) fn without_nested(cfg: &WatchConfig) -> Result<Self, WatchError> {
        let mut scopes: Vec<PathBuf> = cfg.roots.clone();
        scopes.push(cfg.base_dir.clone());
        let mut rules = Self {
            base_dir: cfg.base_dir.clone(),
            scopes,
            builtin: builtin_rules(),
            tilt: tilt_rules(cfg)?,
            use_gitignore: cfg.use_gitignore,
            gitignores: BTreeMap::new(),
            excludes: BTreeMap::new(),
        };
        if rules.use_gitignore {
            for scope in rules.scopes.clone() {
                rules.load_repo_ancestors(&scope);
            }
        }
        Ok(rules)
    }

    /// True when the path (or a directory between it and its root) is ignored.
    pub fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        self.matching_rule(path, is_dir).is_some()
    }

    /// Which rule ignored the path, e.g. `.gitignore:3: target/`; `None` if kept.
    pub fn explain(&self, path: &Path, is_dir: bool) -> Option<String> {
        let glob = self.matching_rule(path, is_dir)?;
        let from = glob.from().map(Path::display);
        Some(match from {
            Some(from) => format!("{from}: {}", glob.original()),
            None => glob.original().to_string(),
        })
    }

    /// Checks only the entry itself: the walk has already kept its parents.
    pub(crate) fn is_ignored_entry(&self, path: &Path, is_dir: bool) -> bool {
        self.decide(path, is_dir).is_ignore()
    }

    /// Loads `dir/.gitignore` if gitignore support is on and it was not loaded yet.
    pub(crate) fn load_dir(&mut self, dir: &Path) {
        if !self.use_gitignore || self.gitignores.contains_key(dir) {
            return;
        }
        if let Some(rules) = self.read_lenient(dir, &dir.join(".gitignore")) {
            self.gitignores.insert(dir.to_path_buf(), rules);
        }
    }

    fn matching_rule(&self, path: &Path, is_dir: bool) -> Option<&Glob> {
        if let Some(scope) = self.scope_of(path) {
            let between: Vec<&Path> = path
                .ancestors()
                .skip(1)
                .take_while(|a| *a != scope)
                .collect();
            for dir in between.into_iter().rev() {
                if let Match::Ignore(glob) = self.decide(dir, true) {
                    return Some(glob);
                }
            }
        }
        match self.decide(path, is_dir) {
            Match::Ignore(glob) => Some(glob),
            _ => None,
        }
    }

    /// The deepest root (or base_dir) strictly containing `path`.
    fn scope_of(&self, path: &Path) -> Option<&Path> {
        self.scopes
            .iter()
            .filter(|s| path != s.as_path() && path.starts_with(s))
            .max_by_key(|s| s.components().count())
            .map(PathBuf::as_path)
    }

    /// The verdict of the layers for this one path component.
    fn decide(&self, path: &Path, is_dir: bool) -> Match<&Glob> {
        if let Some(name) = path.file_name() {
            let m = self.builtin.matched(Path::new(name), is_dir);
            if m.is_ignore() {
                return m;
            }
        }
        if path != self.base_dir && path.starts_with(&self.base_dir) {
            let m = self.tilt.matched(path, is_dir);
            if !m.is_none() {
                return m;
            }
        }
        if !self.use_gitignore {
            return Match::None;
        }
        for layer in [&self.gitignores, &self.excludes] {
            for dir in path.ancestors().skip(1) {
                if let Some(rules) = layer.get(dir) {
                    let m = rules.matched(path, is_dir);
                    if !m.is_none() {
                        return m;
                    }
                }
            }
        }
        Match::None
    }

    /// Loads `.gitignore` files from the enclosing repository root down to `scope`,
    /// plus the repository's `.git/info/exclude`, as git would apply them.
    fn load_repo_ancestors(&mut self, scope: &Path) {
        let Some(repo) = scope.ancestors().find(|a| a.join(".git").exists()) else {
            return;
        };
        let repo = repo.to_path_buf();
        let exclude = repo.join(".git").join("info").join("exclude");
        if let Some(rules) = self.read_lenient(&repo, &exclude) {
            self.excludes.insert(repo.clone(), rules);
        }
        let dirs: Vec<PathBuf> = scope
            .ancestors()
            .take_while(|a| a.starts_with(&repo))
            .map(Path::to_path_buf)
            .collect();
        for dir in dirs {
            self.load_dir(&dir);
        }
    }

    /// Parses a git ignore file, skipping lines that do not parse (as git does).
    fn read_lenient(&self, root: &Path, file: &Path) -> Option<Gitignore> {
        let text = fs::read_to_string(file).ok()?;
        let label = self.label(file);
        let mut builder = GitignoreBuilder::new(root);
        for (i, line) in text.lines().enumerate() {
            let from = PathBuf::from(format!("{label}:{}", i + 1));
            let _skipped_if_invalid = builder.add_line(Some(from), line);
        }
        builder.build().ok().filter(|g| !g.is_empty())
    }

    /// A file's name as shown to users: relative to base_dir when inside it.
    fn label(&self, file: &Path) -> String {
        file.strip_prefix(&self.base_dir)
            .unwrap_or(file)
            .display()
            .to_string()
    }
}

fn builtin_rules() -> Gitignore {
    let mut builder = GitignoreBuilder::new("");
    for (pattern, why) in BUILTIN {
        let from = PathBuf::from(format!("built-in ({why})"));
        let _always_valid = builder.add_line(Some(from), pattern);
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

/// `.tiltignore` then `extra_ignores`, strict: a bad pattern is a config error.
fn tilt_rules(cfg: &WatchConfig) -> Result<Gitignore, WatchError> {
    let mut builder = GitignoreBuilder::new(&cfg.base_dir);
    let path = cfg.base_dir.join(".tiltignore");
    match fs::read_to_string(&path) {
        Ok(text) => {
            for (i, line) in text.lines().enumerate() {
                let origin = IgnoreOrigin::TiltIgnore {
                    path: path.clone(),
                    line: i + 1,
                };
                let from = format!(".tiltignore:{}", i + 1);
                add_strict(&mut builder, line, &from, origin)?;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(WatchError::ReadIgnoreFile { path, source }),
    }
    for pattern in &cfg.extra_ignores {
        let from = "watch_settings(ignore)";
        add_strict(&mut builder, pattern, from, IgnoreOrigin::WatchSettings)?;
    }
    build_strict(&builder, IgnoreOrigin::WatchSettings)
}

/// Adds one user pattern, turning a parse failure into a located error.
pub(crate) fn add_strict(
    builder: &mut GitignoreBuilder,
    pattern: &str,
    from: &str,
    origin: IgnoreOrigin,
) -> Result<(), WatchError> {
    match builder.add_line(Some(PathBuf::from(from)), pattern) {
        Ok(_) => Ok(()),
        Err(err) => Err(WatchError::InvalidIgnorePattern {
            pattern: pattern.trim().to_string(),
            origin,
            reason: glob_reason(&err),
        }),
    }
}

pub(crate) fn build_strict(
    builder: &GitignoreBuilder,
    origin: IgnoreOrigin,
) -> Result<Gitignore, WatchError> {
    builder
        .build()
        .map_err(|err| WatchError::InvalidIgnorePattern {
            pattern: String::from("(pattern set)"),
            origin,
            reason: glob_reason(&err),
        })
}

fn glob_reason(err: &ignore::Error) -> String {
    match err {
        ignore::Error::Glob { err, .. } => err.clone(),
        other => other.to_string(),
    }
}

/// A resource's own `ignore=` patterns (gitignore syntax, relative to base_dir).
#[derive(Debug, Clone)]
pub struct PathFilter {
    base_dir: PathBuf,
    rules: Gitignore,
}

impl PathFilter {
    pub fn new(base_dir: &Path, patterns: &[String]) -> Result<Self, WatchError> {
        let mut builder = GitignoreBuilder::new(base_dir);
        for pattern in patterns {
            add_strict(
                &mut builder,
                pattern,
                "ignore=",
                IgnoreOrigin::ResourceIgnore,
            )?;
        }
        Ok(Self {
            base_dir: base_dir.to_path_buf(),
            rules: build_strict(&builder, IgnoreOrigin::ResourceIgnore)?,
        })
    }

    /// True when the patterns ignore `path` or a directory containing it.
    ///
    /// The path itself is matched as a file (no stat: it may be deleted), so a
    /// dir-only pattern `out/` matches `out/x` but not the bare path `out`.
    /// Paths outside base_dir are matched whole, so unanchored patterns (`*.pyc`)
    /// apply and anchored ones (`/gen`) cannot; `ignore`'s panicking
    /// `matched_path_or_any_parents` is never used.
    pub fn matches(&self, path: &Path) -> bool {
        if self.rules.is_empty() {
            return false;
        }
        let (mut current, rel) = match path.strip_prefix(&self.base_dir) {
            Ok(rel) => (self.base_dir.clone(), rel),
            Err(_) => (PathBuf::new(), path),
        };
        let parts: Vec<_> = rel.components().collect();
        for (i, part) in parts.iter().enumerate() {
            current.push(part);
            if !matches!(part, std::path::Component::Normal(_)) {
                continue;
            }
            let is_leaf = i + 1 == parts.len();
            match self.rules.matched(&current, !is_leaf) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) if is_leaf => return false,
                _ => {}
            }
        }
        false
    }
}
