//! Applies an [`UpdatePlan`] to one container through a [`ContainerUpdater`]: deletes,
//! copies, run steps, restart, in that order, logging one line per step.
//!
//! The error type carries the decision the engine must make next: a failing run step
//! is the user's code failing (the resource goes into error, the container is left as
//! it is, and the next save tries again), while anything else means the container
//! could not be patched and a full rebuild is the way out.

use crate::model::RunStep;
use crate::process::{LineSink, Stream};

use super::{ContainerUpdater, CopyFile, UpdateError, UpdatePlan, UpdateTarget, short_id};

/// What a live update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApplyReport {
    /// Copy entries uploaded (a directory counts once).
    pub copied: usize,
    /// Container paths removed.
    pub removed: usize,
    /// Run steps that ran (all succeeded).
    pub runs: usize,
    pub restarted: bool,
    /// The restart file was written (`restart_process`).
    pub process_restarted: bool,
}

/// Why a live update stopped.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// A `run` step exited non-zero: the resource is in error, no rebuild.
    #[error("live update run step `{cmd}` failed with exit code {code}")]
    RunFailed { cmd: String, code: i64 },
    /// The container could not be patched: the engine rebuilds.
    #[error("live update failed, falling back to a full rebuild: {0}")]
    Infra(#[from] UpdateError),
}

impl ApplyError {
    /// Whether the engine should fall back to a full build and deploy.
    pub fn needs_rebuild(&self) -> bool {
        matches!(self, ApplyError::Infra(_))
    }
}

/// Applies `plan` to `container`, stopping at the first failure (a failed run step
/// skips later runs and the restart, as in Tilt).
pub async fn apply(
    updater: &dyn ContainerUpdater,
    target: &UpdateTarget,
    plan: &UpdatePlan,
    log: LineSink,
) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport::default();
    if !plan.deletes.is_empty() || !plan.copies.is_empty() {
        updater
            .sync(target, &plan.deletes, &plan.copies, log.clone())
            .await?;
        report.removed = plan.deletes.len();
        report.copied = plan.copies.len();
    }
    if report.copied + report.removed > 0 {
        log(Stream::System, sync_line(&report, target));
    }
    for run in &plan.runs {
        let code = updater.exec(target, &run.cmd, log.clone()).await?;
        let cmd = shown(run);
        log(Stream::System, format!("run: {cmd} (exit {code})"));
        if code != 0 {
            return Err(ApplyError::RunFailed { cmd, code });
        }
        report.runs += 1;
    }
    if let Some(file) = &plan.restart_process {
        log(Stream::System, format!("restarting the process ({file})"));
        signal_restart(updater, target, file).await?;
        report.process_restarted = true;
    }
    if plan.restart {
        log(Stream::System, "restarting container".to_owned());
        updater.restart(target).await?;
        report.restarted = true;
    }
    Ok(report)
}

/// Writes `remote` in the container (its content: the time, so every write differs)
/// through the same path as synced files: stilt's supervisor runs the entrypoint
/// again when it sees the write.
async fn signal_restart(
    updater: &dyn ContainerUpdater,
    target: &UpdateTarget,
    remote: &str,
) -> Result<(), UpdateError> {
    let marker = RestartMarker::write().map_err(|source| UpdateError::ReadLocal {
        container: target.container_id().to_owned(),
        path: std::env::temp_dir(),
        source,
    })?;
    let files = [CopyFile {
        local: marker.path.clone(),
        remote: remote.to_owned(),
    }];
    updater.copy(target, &files).await
}

/// A local file holding the current time, removed on drop.
struct RestartMarker {
    path: std::path::PathBuf,
}

impl RestartMarker {
    fn write() -> std::io::Result<RestartMarker> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let path = std::env::temp_dir().join(format!(
            "stilt-restart-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(
            &path,
            format!("{}.{:09}\n", now.as_secs(), now.subsec_nanos()),
        )?;
        Ok(RestartMarker { path })
    }
}

impl Drop for RestartMarker {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// "synced 3 files, removed 1 in 0123456789ab".
fn sync_line(report: &ApplyReport, target: &UpdateTarget) -> String {
    let files = |n: usize| if n == 1 { "file" } else { "files" };
    let what = match (report.copied, report.removed) {
        (c, 0) => format!("synced {c} {}", files(c)),
        (0, r) => format!("removed {r} {}", files(r)),
        (c, r) => format!("synced {c} {}, removed {r}", files(c)),
    };
    format!("{what} in {}", short_id(target.container_id()))
}

/// The command as the log shows it: `echo_off` hides it (it may hold secrets).
fn shown(run: &RunStep) -> String {
    if run.echo_off {
        "(command hidden by echo_off)".to_owned()
    } else {
        run.cmd.to_string()
    }
}
