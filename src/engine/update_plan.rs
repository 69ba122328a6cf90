//! Live update or full rebuild of a deployed resource? Pure: a function of the
//! resource's state, its image spec and the files of the run. The answer carries the
//! reason, which the log shows.

use std::path::{Path, PathBuf};

use crate::liveupdate::{Change, Plan, UpdatePlan, plan};
use crate::model::ImageSpec;
use crate::store::{ResourceState, RunReason};

#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// Build the images (each skipped when its inputs are unchanged) and redeploy.
    Full { why: String },
    /// Patch the running container in place.
    Live {
        container: String,
        plan: UpdatePlan,
        files: Vec<PathBuf>,
    },
}

/// `built` is the tag last built for the image in this session, if any.
pub fn decide(
    r: &ResourceState,
    image: Option<&ImageSpec>,
    built: Option<&str>,
    reason: &RunReason,
    base: &Path,
    exists: impl Fn(&Path) -> bool,
) -> Update {
    let full = |why: String| Update::Full { why };
    let changed = match reason {
        RunReason::FilesChanged { .. } | RunReason::ContainerReplaced { .. } => {
            reason.describe(base)
        }
        other => return full(other.describe(base)),
    };
    let Some(image) = image.filter(|i| !i.live_update.is_empty()) else {
        return full(format!("{changed} (no live_update: full rebuild)"));
    };
    if built.is_none() {
        return full(format!(
            "{changed} (no image built yet in this session: full rebuild)"
        ));
    }
    let Some(container) = r.containers().and_then(|c| c.running_id()) else {
        return full(format!(
            "{changed} (the container is not running: full rebuild)"
        ));
    };
    let files: Vec<PathBuf> = r.run_files.iter().cloned().collect();
    let changes: Vec<Change> = files
        .iter()
        .map(|p| Change {
            path: p.clone(),
            exists: exists(p),
        })
        .collect();
    match plan(&image.live_update, &changes) {
        Plan::FallBack(fb) => full(fb.relative_to(base).to_string()),
        Plan::Update(plan) => Update::Live {
            container: container.to_owned(),
            plan,
            files,
        },
    }
}
