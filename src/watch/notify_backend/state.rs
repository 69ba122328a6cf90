//! Everything the watcher thread owns, and how each notify event changes it.
//!
//! The watched set is per directory (`dirs`), never per file, to keep memory
//! flat on large trees. `configure` diffs the desired set against `dirs`, so a
//! reload only adds and removes what changed.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Instant;

use notify::event::{CreateKind, ModifyKind, RemoveKind, RenameMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;

use super::{Msg, forward};
use crate::watch::error::{is_watch_limit, read_watch_limit};
use crate::watch::walk::walk;
use crate::watch::{Debouncer, IgnoreRules, WatchConfig, WatchError, WatchEvent};

#[cfg(test)]
mod tests;

pub(super) struct State {
    out: UnboundedSender<WatchEvent>,
    watcher: Option<RecommendedWatcher>,
    cfg: Option<WatchConfig>,
    rules: Option<IgnoreRules>,
    /// Directories holding a notify watch.
    dirs: BTreeSet<PathBuf>,
    debouncer: Debouncer,
    /// A `.gitignore`/`.tiltignore` changed: re-read rules when the batch flushes.
    rules_stale: bool,
}

impl State {
    pub(super) fn new(out: UnboundedSender<WatchEvent>) -> Self {
        Self {
            out,
            watcher: None,
            cfg: None,
            rules: None,
            dirs: BTreeSet::new(),
            debouncer: Debouncer::new(Default::default(), Default::default()),
            rules_stale: false,
        }
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        self.debouncer.next_deadline()
    }

    pub(super) fn watched_dirs(&self) -> Vec<PathBuf> {
        self.dirs.iter().cloned().collect()
    }

    pub(super) fn configure(
        &mut self,
        mut cfg: WatchConfig,
        handler_tx: &Sender<Msg>,
    ) -> Result<(), WatchError> {
        // Lexical clean-up (`a/./b`, trailing `/`) so reported paths compare as written.
        cfg.roots = cfg.roots.iter().map(|r| r.components().collect()).collect();
        cfg.base_dir = cfg.base_dir.components().collect();
        if self.watcher.is_none() {
            let watcher = notify::recommended_watcher(forward(handler_tx.clone()))
                .map_err(|source| WatchError::Start { source })?;
            self.watcher = Some(watcher);
        }
        self.debouncer.set_timing(cfg.quiet, cfg.max_wait);
        self.cfg = Some(cfg);
        self.sync()
    }

    /// Re-reads the ignore rules, re-walks the roots and diffs the watch set.
    fn sync(&mut self) -> Result<(), WatchError> {
        let Some(cfg) = &self.cfg else {
            return Ok(());
        };
        let mut rules = IgnoreRules::without_nested(cfg)?;
        let mut desired = BTreeSet::new();
        for root in &cfg.roots {
            desired.extend(root_dirs(&mut rules, root, None));
        }
        self.rules = Some(rules);
        let gone: Vec<PathBuf> = self.dirs.difference(&desired).cloned().collect();
        for dir in gone {
            if let Some(watcher) = self.watcher.as_mut() {
                let _already_gone = watcher.unwatch(&dir);
            }
            self.dirs.remove(&dir);
        }
        let new: Vec<PathBuf> = desired.difference(&self.dirs).cloned().collect();
        new.into_iter().try_for_each(|dir| self.watch_dir(dir))
    }

    fn watch_dir(&mut self, dir: PathBuf) -> Result<(), WatchError> {
        let watcher = self.watcher.as_mut().ok_or(WatchError::Stopped)?;
        match watcher.watch(&dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                self.dirs.insert(dir);
                Ok(())
            }
            Err(e) if is_watch_limit(&e) => Err(WatchError::WatchLimit {
                path: dir,
                limit: read_watch_limit(),
                watched: self.dirs.len(),
            }),
            // Removed between the walk and the watch: nothing left to watch.
            Err(e) if is_not_found(&e) => Ok(()),
            Err(source) => Err(WatchError::AddWatch { path: dir, source }),
        }
    }

    /// Watches dirs found after start-up; errors become events (never silent).
    fn watch_later(&mut self, dirs: Vec<PathBuf>) {
        for dir in dirs {
            if self.dirs.contains(&dir) {
                continue;
            }
            if let Err(err) = self.watch_dir(dir) {
                let limit = matches!(err, WatchError::WatchLimit { .. });
                self.emit(WatchEvent::Error(err));
                if limit {
                    return;
                }
            }
        }
    }

    pub(super) fn on_notify(&mut self, event: notify::Result<notify::Event>, now: Instant) {
        match event {
            Ok(event) => self.on_event(event, now),
            Err(e) if is_watch_limit(&e) => {
                let err = WatchError::WatchLimit {
                    path: e.paths.first().cloned().unwrap_or_default(),
                    limit: read_watch_limit(),
                    watched: self.dirs.len(),
                };
                self.emit(WatchEvent::Error(err));
            }
            Err(source) => self.emit(WatchEvent::Error(WatchError::Backend { source })),
        }
    }

    fn on_event(&mut self, event: notify::Event, now: Instant) {
        if event.need_rescan() {
            return self.rescan(now);
        }
        let mut changed = Vec::new();
        for path in event.paths {
            match event.kind {
                EventKind::Access(_) => return,
                EventKind::Create(CreateKind::Folder) => self.on_new_dir(path, &mut changed),
                EventKind::Modify(ModifyKind::Name(RenameMode::To)) if path.is_dir() => {
                    self.on_new_dir(path, &mut changed)
                }
                EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(RenameMode::From)) => {
                    let was_dir = self.forget_dirs_under(&path)
                        || matches!(event.kind, EventKind::Remove(RemoveKind::Folder));
                    self.keep_into(path, was_dir, &mut changed);
                }
                EventKind::Create(CreateKind::File) | EventKind::Modify(ModifyKind::Data(_)) => {
                    self.keep_into(path, false, &mut changed)
                }
                _ => {
                    let is_dir = fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
                    self.keep_into(path, is_dir, &mut changed);
                }
            }
        }
        self.debouncer.push(changed, now);
    }

    /// A directory appeared (created or moved in): watch its kept subdirs and
    /// report its files, which inotify could not have reported. Watches are
    /// added before the final listing, so nothing created meanwhile is missed.
    fn on_new_dir(&mut self, dir: PathBuf, changed: &mut Vec<PathBuf>) {
        self.attach_roots_below(&dir, changed);
        if !self.keep(&dir, true) {
            return;
        }
        let Some(mut rules) = self.rules.take() else {
            return;
        };
        for _ in 0..3 {
            let dirs = walk(&mut rules, &dir, Some(changed));
            let new: Vec<PathBuf> = dirs
                .into_iter()
                .filter(|d| !self.dirs.contains(d))
                .collect();
            if new.is_empty() {
                break;
            }
            self.watch_later(new);
        }
        self.rules = Some(rules);
        self.push_kept(dir, changed);
    }

    /// `dir` is a (new) ancestor of roots that did not exist: watch deeper now.
    fn attach_roots_below(&mut self, dir: &Path, changed: &mut Vec<PathBuf>) {
        let roots: Vec<PathBuf> = self
            .roots()
            .iter()
            .filter(|r| r.as_path() != dir && r.starts_with(dir))
            .cloned()
            .collect();
        let Some(mut rules) = self.rules.take() else {
            return;
        };
        for root in roots {
            let mut files = Vec::new();
            let dirs = root_dirs(&mut rules, &root, Some(&mut files));
            if root.exists() {
                changed.push(root);
                changed.extend(files);
            }
            self.watch_later(dirs);
        }
        self.rules = Some(rules);
    }

    /// Drops watched dirs at or below `path` (notify already removed the
    /// inotify watches on delete / move-away). True if `path` was watched.
    fn forget_dirs_under(&mut self, path: &Path) -> bool {
        let below: Vec<PathBuf> = self
            .dirs
            .range(path.to_path_buf()..)
            .take_while(|d| d.starts_with(path))
            .cloned()
            .collect();
        for dir in &below {
            self.dirs.remove(dir);
        }
        !below.is_empty()
    }

    fn rescan(&mut self, now: Instant) {
        let roots = self.roots().to_vec();
        self.emit(WatchEvent::Error(WatchError::EventsDropped {
            roots: roots.len(),
        }));
        if let Err(err) = self.sync() {
            self.emit(WatchEvent::Error(err));
        }
        self.debouncer.push(roots, now);
    }

    /// Emits the batch if its deadline passed (re-reading ignore rules first if
    /// an ignore file was part of it).
    pub(super) fn flush(&mut self, now: Instant) {
        let Some(batch) = self.debouncer.take_ready(now) else {
            return;
        };
        if std::mem::take(&mut self.rules_stale)
            && let Err(err) = self.sync()
        {
            self.emit(WatchEvent::Error(err));
        }
        self.emit(WatchEvent::Changed(batch));
    }

    fn keep_into(&mut self, path: PathBuf, is_dir: bool, changed: &mut Vec<PathBuf>) {
        if self.keep(&path, is_dir) {
            self.push_kept(path, changed);
        }
    }

    fn push_kept(&mut self, path: PathBuf, changed: &mut Vec<PathBuf>) {
        if self.is_ignore_file(&path) {
            self.rules_stale = true;
        }
        changed.push(path);
    }

    /// A root itself is always reported; anything below a root unless ignored.
    fn keep(&self, path: &Path, is_dir: bool) -> bool {
        let roots = self.roots();
        if roots.iter().any(|r| r == path) {
            return true;
        }
        let under_root = roots.iter().any(|r| path.starts_with(r));
        under_root
            && !self
                .rules
                .as_ref()
                .is_some_and(|r| r.is_ignored(path, is_dir))
    }

    fn is_ignore_file(&self, path: &Path) -> bool {
        let Some(cfg) = &self.cfg else {
            return false;
        };
        let name = path.file_name();
        (cfg.use_gitignore && name == Some(".gitignore".as_ref()))
            || path == cfg.base_dir.join(".tiltignore")
    }

    fn roots(&self) -> &[PathBuf] {
        self.cfg.as_ref().map_or(&[], |c| c.roots.as_slice())
    }

    fn emit(&self, event: WatchEvent) {
        let _engine_gone = self.out.send(event);
    }
}

/// The directories to watch for one root: the kept tree of a directory root;
/// the parent of a file root; the nearest existing ancestor of a missing root.
fn root_dirs(
    rules: &mut IgnoreRules,
    root: &Path,
    files: Option<&mut Vec<PathBuf>>,
) -> Vec<PathBuf> {
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => walk(rules, root, files),
        Ok(_) => root.parent().map(Path::to_path_buf).into_iter().collect(),
        Err(_) => root
            .ancestors()
            .skip(1)
            .find(|a| a.is_dir())
            .map(Path::to_path_buf)
            .into_iter()
            .collect(),
    }
}

fn is_not_found(err: &notify::Error) -> bool {
    match &err.kind {
        notify::ErrorKind::PathNotFound => true,
        notify::ErrorKind::Io(io) => io.kind() == std::io::ErrorKind::NotFound,
        _ => false,
    }
}
