//! [`LoadControl`]: the handle shared by a running Tiltfile load and whoever started it.
//!
//! A load runs on a blocking thread and can hang: an endless loop in Starlark, or a
//! `local()` command that never exits. The starter must be able to walk away from it
//! without leaving processes behind, and to say where it is stuck. So the handle
//! carries three things across threads:
//!
//! - a cancel flag, polled by the evaluator (starlark checks it every so many
//!   instructions, which stops loops) and by `local()` before it starts a command;
//! - the process groups of the `local()` commands running now, which [`cancel`]
//!   TERMs and [`kill`] KILLs (each command runs in its own group, so its children
//!   go too);
//! - the statement being evaluated, recorded before each statement, so a report can
//!   name the line ([`LoadControl::stuck_report`]).
//!
//! [`cancel`]: LoadControl::cancel
//! [`kill`]: LoadControl::kill

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use starlark::codemap::{FileSpan, FileSpanRef};
use starlark::eval::{BeforeStmtFuncDyn, Evaluator};

use super::error::Location;

/// Cheap to clone; every clone controls the same load.
#[derive(Clone, Default)]
pub struct LoadControl {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    cancelled: AtomicBool,
    next_child: AtomicU64,
    children: Mutex<BTreeMap<u64, Child>>,
    position: Mutex<Option<FileSpan>>,
}

/// A `local()` command running now: its process group and how the Tiltfile wrote it.
struct Child {
    pgid: Pid,
    shown: String,
}

impl std::fmt::Debug for LoadControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadControl")
            .field("cancelled", &self.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// The load was cancelled before a `local()` command could be registered.
#[derive(Debug, thiserror::Error)]
#[error("the Tiltfile load was cancelled (stilt is stopping)")]
pub struct Cancelled;

impl LoadControl {
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancelled.load(Ordering::SeqCst)
    }

    /// Stops the load: evaluation fails at its next check, no new `local()` command
    /// starts, and the running ones get TERM (their whole process group).
    pub fn cancel(&self) {
        let children = self.children();
        self.inner.cancelled.store(true, Ordering::SeqCst);
        signal_all(&children, Signal::SIGTERM);
    }

    /// Whether a `local()` command is running now.
    pub fn has_children(&self) -> bool {
        !self.children().is_empty()
    }

    /// KILLs the process groups of the `local()` commands still running (after
    /// [`LoadControl::cancel`] and a grace period).
    pub fn kill(&self) {
        signal_all(&self.children(), Signal::SIGKILL);
    }

    /// Registers the process group of a `local()` command that just started. Fails if
    /// the load was cancelled: the caller must then kill the group itself. Holding the
    /// lock while checking the flag means `cancel` either sees this group or the
    /// caller sees the flag.
    pub(crate) fn child_started(&self, pgid: Pid, shown: &str) -> Result<ChildGuard, Cancelled> {
        let mut children = self.children();
        if self.is_cancelled() {
            return Err(Cancelled);
        }
        let id = self.inner.next_child.fetch_add(1, Ordering::SeqCst);
        let shown = shown.to_owned();
        children.insert(id, Child { pgid, shown });
        Ok(ChildGuard {
            control: self.clone(),
            id,
            pgid,
        })
    }

    /// Where the evaluation is: the last statement started, as `file:line:col`.
    pub fn position(&self) -> Option<Location> {
        let pos = self
            .inner
            .position
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        pos.as_ref().map(Location::from_span)
    }

    /// Lines for the log when a load has been running for `elapsed`: where it is,
    /// and which `local()` commands it waits for. Paths are shown relative to `base`
    /// (the main Tiltfile's directory).
    pub fn stuck_report(&self, elapsed: Duration, base: &Path) -> Vec<String> {
        let at = match self.position() {
            Some(at) => {
                let file = at.file.strip_prefix(base).unwrap_or(&at.file);
                format!(
                    "; stuck at {}:{}: {}",
                    file.display(),
                    at.line,
                    at.source_line.trim()
                )
            }
            None => String::new(),
        };
        let mut lines = vec![format!(
            "Tiltfile load has been running for {}{at}",
            human(elapsed)
        )];
        for c in self.children().values() {
            lines.push(format!("  waiting for local() command: {}", c.shown));
        }
        lines
    }

    /// Installs the control on an evaluator: the cancel check and the position tracker.
    pub(crate) fn attach(&self, eval: &mut Evaluator<'_, '_, '_>) {
        let me = self.clone();
        eval.set_check_cancelled(Box::new(move || me.is_cancelled()));
        // `before_stmt_for_dap` is starlark's (hidden but public) per-statement hook,
        // used by its debugger; starlark is pinned, so it cannot change under us.
        eval.before_stmt_for_dap(starlark::eval::BeforeStmtFunc::from_dyn(Box::new(Tracker(
            self.clone(),
        ))));
    }

    fn children(&self) -> MutexGuard<'_, BTreeMap<u64, Child>> {
        // A poisoned lock only means another thread panicked mid-insert; the map is
        // still usable and killing processes matters more.
        self.inner
            .children
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

/// `61s`, or `250ms` under a second.
fn human(d: Duration) -> String {
    match d.as_secs() {
        0 => format!("{}ms", d.as_millis()),
        s => format!("{s}s"),
    }
}

fn signal_all(children: &BTreeMap<u64, Child>, sig: Signal) {
    for c in children.values() {
        // ESRCH (the group is already gone) is an expected race, not an error.
        let _ = killpg(c.pgid, sig);
    }
}

/// Deregisters a `local()` command when it is done. If the load was cancelled, what
/// is left of its process group is KILLed first: the command may have exited on TERM
/// while a child of it ignored the signal.
pub(crate) struct ChildGuard {
    control: LoadControl,
    id: u64,
    pgid: Pid,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let mut children = self.control.children();
        if self.control.is_cancelled() {
            let _ = killpg(self.pgid, Signal::SIGKILL);
        }
        children.remove(&self.id);
    }
}

/// Records the statement about to run.
struct Tracker(LoadControl);

impl<'e> BeforeStmtFuncDyn<'e> for Tracker {
    fn call<'v>(
        &mut self,
        span: FileSpanRef,
        _continued: bool,
        _eval: &mut Evaluator<'v, '_, 'e>,
    ) -> starlark::Result<()> {
        let mut pos = self
            .0
            .inner
            .position
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        // This runs before every statement: in the same file (compared by identity)
        // only the span changes, which saves cloning the file's handle.
        match pos.as_mut() {
            Some(at) if at.file == *span.file => at.span = span.span,
            _ => *pos = Some(span.to_file_span()),
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "control_tests.rs"]
mod tests;
