//! The live-update decision, pure: a spec and the changed files give either the
//! steps to patch the running container or the reason a full rebuild is needed.
//!
//! It does no I/O (the engine says whether each changed path still exists), so every
//! rule of Tilt's semantics is tested without tokio or Docker: `fall_back_on` wins over
//! everything, a path outside every `sync` falls back, the most specific sync maps a
//! path, and `run` steps are filtered by their triggers.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::{LiveUpdateSpec, RunStep, SyncStep};

use super::CopyFile;

/// One changed local path (absolute), and whether it still exists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub path: PathBuf,
    pub exists: bool,
}

impl Change {
    /// A path that was written or created.
    pub fn written(path: impl Into<PathBuf>) -> Self {
        Change {
            path: path.into(),
            exists: true,
        }
    }

    /// A path that was removed.
    pub fn removed(path: impl Into<PathBuf>) -> Self {
        Change {
            path: path.into(),
            exists: false,
        }
    }
}

/// What to do about a batch of changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Update(UpdatePlan),
    FallBack(FallBack),
}

/// The steps of one live update, applied in this order: deletes, copies, runs, restart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdatePlan {
    /// Absolute container paths to remove (sorted, no path under another).
    pub deletes: Vec<String>,
    /// Local files or directories to upload (sorted by remote path; a directory is
    /// copied recursively, so nothing under it is listed again).
    pub copies: Vec<CopyFile>,
    /// Run steps whose triggers matched, in the Tiltfile's order.
    pub runs: Vec<RunStep>,
    pub restart: bool,
    /// `restart_process`: the container path of the restart file to write last, so
    /// stilt's supervisor runs the entrypoint again.
    pub restart_process: Option<String>,
}

impl UpdatePlan {
    /// Nothing to do: no file to touch, nothing to run, no restart.
    pub fn is_empty(&self) -> bool {
        self.deletes.is_empty()
            && self.copies.is_empty()
            && self.runs.is_empty()
            && !self.restart
            && self.restart_process.is_none()
    }
}

/// Why a batch of changes cannot be live-updated, naming the file that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallBack {
    pub path: PathBuf,
    pub reason: FallBackReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FallBackReason {
    /// The path is (or is under) this `fall_back_on` entry.
    MatchesFallBackOn { entry: PathBuf },
    /// No `sync` step covers the path.
    OutsideSync,
}

impl FallBack {
    /// The same decision with paths shown relative to `root` (the Tiltfile's
    /// directory), which is how users wrote them; paths outside `root` stay absolute.
    pub fn relative_to(&self, root: &Path) -> FallBack {
        let rel = |p: &Path| {
            p.strip_prefix(root)
                .map_or_else(|_| p.to_path_buf(), Path::to_path_buf)
        };
        let reason = match &self.reason {
            FallBackReason::MatchesFallBackOn { entry } => {
                FallBackReason::MatchesFallBackOn { entry: rel(entry) }
            }
            FallBackReason::OutsideSync => FallBackReason::OutsideSync,
        };
        FallBack {
            path: rel(&self.path),
            reason,
        }
    }
}

impl fmt::Display for FallBack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match &self.reason {
            FallBackReason::MatchesFallBackOn { entry } if entry == &self.path => {
                write!(f, "{path} matches fall_back_on({path}): full rebuild")
            }
            FallBackReason::MatchesFallBackOn { entry } => write!(
                f,
                "{path} matches fall_back_on({}): full rebuild",
                entry.display()
            ),
            FallBackReason::OutsideSync => {
                write!(f, "{path} is outside every sync path: full rebuild")
            }
        }
    }
}

/// Decides how to live-update `changes` (absolute paths). No changes, no steps.
pub fn plan(spec: &LiveUpdateSpec, changes: &[Change]) -> Plan {
    let changes: BTreeSet<&Change> = changes.iter().collect();
    if let Some(fall_back) = first_fall_back(spec, &changes) {
        return Plan::FallBack(fall_back);
    }
    if changes.is_empty() {
        return Plan::Update(UpdatePlan::default());
    }
    let mut deletes = BTreeSet::new();
    let mut copies = BTreeSet::new();
    for change in &changes {
        // first_fall_back has checked that every path is under some sync.
        let Some(remote) = remote_path(&spec.syncs, &change.path) else {
            continue;
        };
        if change.exists {
            copies.insert((remote, change.path.clone()));
        } else {
            deletes.insert(remote);
        }
    }
    let runs = spec
        .runs
        .iter()
        .filter(|run| triggered(&run.triggers, &changes))
        .cloned()
        .collect();
    let restart_process = spec
        .restart_process
        .as_ref()
        .filter(|r| triggered(&r.triggers, &changes))
        .map(|r| r.restart_file.clone());
    Plan::Update(UpdatePlan {
        deletes: outermost_deletes(deletes),
        copies: outermost_copies(copies),
        runs,
        restart: spec.restart,
        restart_process,
    })
}

/// `initial_sync()`: upload every sync root; never delete, run or restart.
pub fn plan_initial_sync(spec: &LiveUpdateSpec) -> UpdatePlan {
    let copies: BTreeSet<(String, PathBuf)> = spec
        .syncs
        .iter()
        .map(|s| (s.remote.clone(), s.local.clone()))
        .collect();
    UpdatePlan {
        copies: outermost_copies(copies),
        ..UpdatePlan::default()
    }
}

/// The first change (in path order) that forces a rebuild: `fall_back_on` is checked
/// over all changes before "outside every sync", as Tilt does.
fn first_fall_back(spec: &LiveUpdateSpec, changes: &BTreeSet<&Change>) -> Option<FallBack> {
    let matching = changes.iter().find_map(|c| {
        let entry = spec.fall_back_on.iter().find(|e| c.path.starts_with(e))?;
        Some(FallBack {
            path: c.path.clone(),
            reason: FallBackReason::MatchesFallBackOn {
                entry: entry.clone(),
            },
        })
    });
    matching.or_else(|| {
        let outside = changes
            .iter()
            .find(|c| remote_path(&spec.syncs, &c.path).is_none())?;
        Some(FallBack {
            path: outside.path.clone(),
            reason: FallBackReason::OutsideSync,
        })
    })
}

/// Maps a local path through the most specific (longest local path) sync covering it.
fn remote_path(syncs: &[SyncStep], path: &Path) -> Option<String> {
    let sync = syncs
        .iter()
        .filter(|s| path.starts_with(&s.local))
        .max_by_key(|s| s.local.components().count())?;
    let rel = path.strip_prefix(&sync.local).ok()?;
    let mut remote = sync.remote.trim_end_matches('/').to_owned();
    for part in rel.components() {
        remote.push('/');
        remote.push_str(&part.as_os_str().to_string_lossy());
    }
    if remote.is_empty() {
        remote.push('/');
    }
    Some(remote)
}

/// A run step with no triggers always runs; otherwise only when a changed path is
/// one of its triggers or under one.
/// No triggers: always; else whether a change is (under) one of them.
fn triggered(triggers: &[PathBuf], changes: &BTreeSet<&Change>) -> bool {
    triggers.is_empty()
        || changes
            .iter()
            .any(|c| triggers.iter().any(|t| c.path.starts_with(t)))
}

/// Removes deletes under another delete: `rm -rf` of a directory covers them.
fn outermost_deletes(sorted: BTreeSet<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for remote in sorted {
        // Sorted order puts an ancestor before its descendants, not necessarily
        // right before them ("/a", "/a-b", "/a/x"), so look at every kept one.
        if !kept
            .iter()
            .any(|outer| Path::new(&remote).starts_with(outer))
        {
            kept.push(remote);
        }
    }
    kept
}

/// Removes copies that an earlier copy of a directory already makes: same local
/// subtree, landing at the same remote place.
fn outermost_copies(sorted: BTreeSet<(String, PathBuf)>) -> Vec<CopyFile> {
    let mut kept: Vec<CopyFile> = Vec::new();
    for (remote, local) in sorted {
        let covered = kept.iter().any(|outer| {
            let remote_rel = Path::new(&remote).strip_prefix(&outer.remote);
            let local_rel = local.strip_prefix(&outer.local);
            matches!((remote_rel, local_rel), (Ok(r), Ok(l)) if r == l)
        });
        if !covered {
            kept.push(CopyFile { local, remote });
        }
    }
    kept
}
