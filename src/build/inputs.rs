//! `Inputs`: THE one matcher that decides which files are inputs of an image. The
//! context tar, the content hash and the file watcher all ask it, so the build and
//! the watcher can never disagree about what a change means.
//!
//! `includes` is pure (no I/O) so the watcher can call it per event; `entries` walks
//! the disk and never descends into an excluded directory unless a `!` exception
//! could re-include something below it.

use std::path::{Component, Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::BuildError;
use super::dockerignore::DockerIgnore;
use crate::model::{Dockerfile, ImageBuild, ImageSpec};

/// One input found on disk.
#[derive(Debug, Clone)]
pub struct Entry {
    pub path: PathBuf,
    /// `/`-separated path relative to the context (docker_build) or the build's `dir`
    /// (custom_build); the absolute path for an input outside it.
    pub rel: String,
    pub meta: std::fs::Metadata,
}

/// Which files are inputs of one image.
#[derive(Debug, Clone)]
pub struct Inputs {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Docker {
        context: PathBuf,
        ignore: DockerIgnore,
        /// Cleaned `only=` entries relative to the context; empty = everything.
        only: Vec<String>,
        dockerfile: Option<PathBuf>,
    },
    Custom {
        deps: Vec<PathBuf>,
        dir: PathBuf,
        ignore: Gitignore,
    },
}

impl Inputs {
    /// The inputs of `spec`. Reads `<context>/.dockerignore` (a missing one is empty).
    pub fn for_image(spec: &ImageSpec) -> Result<Inputs, BuildError> {
        let kind = match &spec.build {
            ImageBuild::Docker(b) => {
                let mut ignore = read_dockerignore(&b.context)?;
                ignore.extend(b.ignore.iter().map(String::as_str))?;
                let dockerfile = match &b.dockerfile {
                    Dockerfile::Path(p) => Some(p.clone()),
                    Dockerfile::Contents(_) => None,
                };
                Kind::Docker {
                    context: b.context.clone(),
                    ignore,
                    only: b.only.iter().map(|o| clean_rel(o)).collect(),
                    dockerfile,
                }
            }
            ImageBuild::Custom(c) => Kind::Custom {
                deps: c.deps.clone(),
                dir: c.dir.clone(),
                ignore: gitignore(&c.dir, &c.ignore)?,
            },
        };
        Ok(Inputs { kind })
    }

    /// Directories and files to watch.
    pub fn roots(&self) -> Vec<PathBuf> {
        match &self.kind {
            Kind::Docker {
                context,
                dockerfile,
                ..
            } => {
                let mut roots = vec![context.clone()];
                roots.extend(
                    dockerfile
                        .iter()
                        .filter(|d| !d.starts_with(context))
                        .cloned(),
                );
                roots
            }
            Kind::Custom { deps, .. } => deps.clone(),
        }
    }

    /// Whether the absolute `path` is an input (pure: no file-system access, so a
    /// directory is judged as if it were a file).
    pub fn includes(&self, path: &Path) -> bool {
        self.includes_kind(path, false)
    }

    /// The base directory `Entry::rel` is relative to.
    pub fn base(&self) -> &Path {
        match &self.kind {
            Kind::Docker { context, .. } => context,
            Kind::Custom { dir, .. } => dir,
        }
    }

    /// The Dockerfile named by path, for a docker_build.
    pub fn dockerfile(&self) -> Option<&Path> {
        match &self.kind {
            Kind::Docker { dockerfile, .. } => dockerfile.as_deref(),
            Kind::Custom { .. } => None,
        }
    }

    /// Whether `path` is in the build context proper (docker_build), as opposed to the
    /// Dockerfile, which is an input even when excluded from the context.
    pub fn in_context(&self, path: &Path) -> bool {
        match &self.kind {
            Kind::Docker { .. } => self.context_includes(path, false),
            Kind::Custom { .. } => self.includes(path),
        }
    }

    /// Every input file (symlinks included, directories not), sorted.
    pub fn files(&self) -> Result<Vec<PathBuf>, BuildError> {
        Ok(self
            .entries()?
            .into_iter()
            .filter(|e| !e.meta.is_dir())
            .map(|e| e.path)
            .collect())
    }

    /// Every input with its metadata (directories too), in a stable order.
    pub fn entries(&self) -> Result<Vec<Entry>, BuildError> {
        let mut out = Vec::new();
        for root in self.roots() {
            let meta = match std::fs::symlink_metadata(&root) {
                Ok(m) => m,
                // A dep that does not exist yet is simply not an input yet.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(BuildError::Read { path: root, source }),
            };
            if meta.is_dir() {
                if self.is_root_dir(&root) || self.includes_kind(&root, true) {
                    self.emit(&root, meta, &mut out);
                }
                self.walk(&root, &mut out)?;
            } else if self.includes_kind(&root, false) {
                self.emit(&root, meta, &mut out);
            }
        }
        out.sort_by(|a, b| a.rel.cmp(&b.rel));
        out.dedup_by(|a, b| a.path == b.path);
        Ok(out)
    }

    fn is_root_dir(&self, p: &Path) -> bool {
        matches!(&self.kind, Kind::Docker { context, .. } if context == p)
    }

    fn emit(&self, path: &Path, meta: std::fs::Metadata, out: &mut Vec<Entry>) {
        if self.is_root_dir(path) {
            return;
        }
        out.push(Entry {
            path: path.to_path_buf(),
            rel: self.rel_of(path),
            meta,
        });
    }

    fn walk(&self, dir: &Path, out: &mut Vec<Entry>) -> Result<(), BuildError> {
        let read_err = |source| BuildError::Read {
            path: dir.to_path_buf(),
            source,
        };
        for item in std::fs::read_dir(dir).map_err(read_err)? {
            let item = item.map_err(read_err)?;
            let path = item.path();
            let meta = match item.metadata() {
                Ok(m) => m,
                // Deleted between listing and stat: no longer an input.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => return Err(BuildError::Read { path, source }),
            };
            if meta.is_dir() {
                if self.includes_kind(&path, true) {
                    self.emit(&path, meta, out);
                }
                if self.may_descend(&path) {
                    self.walk(&path, out)?;
                }
            } else if self.includes_kind(&path, false) {
                self.emit(&path, meta, out);
            }
        }
        Ok(())
    }

    fn rel_of(&self, path: &Path) -> String {
        match path.strip_prefix(self.base()) {
            Ok(rel) => slash_path(rel),
            Err(_) => path.to_string_lossy().into_owned(),
        }
    }

    fn includes_kind(&self, path: &Path, is_dir: bool) -> bool {
        // `a/../b` would slip past prefix checks; callers pass normalized paths.
        if path.components().any(|c| c == Component::ParentDir) {
            return false;
        }
        match &self.kind {
            Kind::Docker { dockerfile, .. } => {
                dockerfile.as_deref() == Some(path) || self.context_includes(path, is_dir)
            }
            Kind::Custom { deps, dir, ignore } => {
                let Some(dep) = deps.iter().find(|d| path.starts_with(d)) else {
                    return false;
                };
                if has_git(path.strip_prefix(dep).unwrap_or(path)) {
                    return false;
                }
                !(path.starts_with(dir)
                    && ignore.matched_path_or_any_parents(path, is_dir).is_ignore())
            }
        }
    }

    fn context_includes(&self, path: &Path, _is_dir: bool) -> bool {
        let Kind::Docker {
            context,
            ignore,
            only,
            ..
        } = &self.kind
        else {
            return false;
        };
        let Ok(rel) = path.strip_prefix(context) else {
            return false;
        };
        if rel.as_os_str().is_empty() || has_git(rel) {
            return false;
        }
        let rel = slash_path(rel);
        if !only.is_empty() && !only.iter().any(|o| is_under(&rel, o)) {
            return false;
        }
        !ignore.excludes(&rel)
    }

    /// Whether a walk must enter `dir`: something below it may be an input.
    fn may_descend(&self, dir: &Path) -> bool {
        match &self.kind {
            Kind::Docker {
                context,
                ignore,
                only,
                ..
            } => {
                let Ok(rel) = dir.strip_prefix(context) else {
                    return false;
                };
                if has_git(rel) {
                    return false;
                }
                let rel = slash_path(rel);
                let in_only =
                    only.is_empty() || only.iter().any(|o| is_under(&rel, o) || is_under(o, &rel));
                in_only && (!ignore.excludes(&rel) || ignore.may_reinclude_under(&rel))
            }
            Kind::Custom {
                dir: base, ignore, ..
            } => {
                let name_is_git = dir.file_name().is_some_and(|n| n == ".git");
                // gitignore cannot re-include below an excluded directory.
                let ignored = dir.starts_with(base)
                    && ignore.matched_path_or_any_parents(dir, true).is_ignore();
                !name_is_git && !ignored
            }
        }
    }
}

fn read_dockerignore(context: &Path) -> Result<DockerIgnore, BuildError> {
    let path = context.join(".dockerignore");
    match std::fs::read_to_string(&path) {
        Ok(text) => DockerIgnore::parse(&text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DockerIgnore::default()),
        Err(source) => Err(BuildError::Read { path, source }),
    }
}

fn gitignore(dir: &Path, patterns: &[String]) -> Result<Gitignore, BuildError> {
    let mut b = GitignoreBuilder::new(dir);
    for p in patterns {
        b.add_line(None, p).map_err(|e| bad_gitignore(p, e))?;
    }
    b.build().map_err(|e| bad_gitignore("", e))
}

fn bad_gitignore(pattern: &str, e: ignore::Error) -> BuildError {
    BuildError::BadIgnore {
        pattern: pattern.to_owned(),
        message: e.to_string(),
    }
}

fn has_git(rel: &Path) -> bool {
    rel.components()
        .any(|c| matches!(c, Component::Normal(n) if n == ".git"))
}

fn slash_path(rel: &Path) -> String {
    let parts: Vec<_> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

/// `only=` entries the way Docker reads paths: `./src/` is `src`.
fn clean_rel(p: &str) -> String {
    slash_path(Path::new(p))
}

/// `rel` is `base` or below it (`/`-separated, both relative).
fn is_under(rel: &str, base: &str) -> bool {
    base.is_empty()
        || rel == base
        || (rel.starts_with(base) && rel.as_bytes().get(base.len()) == Some(&b'/'))
}

#[cfg(test)]
#[path = "inputs_tests.rs"]
mod tests;
