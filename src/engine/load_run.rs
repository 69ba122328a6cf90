//! The Tiltfile load as a worker: evaluation on a blocking thread that can be abandoned.
//!
//! Starlark evaluation is synchronous and can hang (an endless loop, a `local()` that
//! never exits), so the worker never just awaits it. It waits for the load, for the
//! stop signal and for the report timer at once: on stop it cancels the load through
//! its [`LoadControl`] (TERM to the `local()` process groups, KILL after the grace
//! period) and returns even if the thread is still stuck; past `warn_after` it
//! reports where the load is, and again each time the same span passes.
//!
//! [`LoadControl`]: crate::config::LoadControl

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::tiltfile::LoadFn;
use crate::config::{LoadControl, LoadFailure, LoadOptions, Loaded};
use crate::model::Stream;
use crate::store::Action;

/// How long to wait for the load thread after KILLing its commands (or, without
/// commands, after cancelling) before giving up on it.
const AFTER_KILL: Duration = Duration::from_secs(1);

pub struct LoadJob {
    pub load: LoadFn,
    pub opts: LoadOptions,
    /// Report where the load is once it has run this long (`None`: never).
    pub warn_after: Option<Duration>,
    /// Time between TERM and KILL for the load's `local()` commands when stopping.
    pub grace: Duration,
}

/// How a load ended. Lives only until matched, so the size of `Done` costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum LoadEnd {
    Done(Result<Loaded, LoadFailure>),
    /// The load thread panicked.
    Crashed(String),
    /// `stop` resolved first: the load was cancelled and nothing of it is wanted.
    Abandoned,
}

/// Runs the load until it ends or `stop` resolves; `report` gets the lines that say
/// where a long load is.
// The load closure returns `LoadFailure` by value, as `config::load` does.
#[allow(clippy::result_large_err)]
pub async fn load_until(
    job: LoadJob,
    stop: impl Future<Output = ()>,
    mut report: impl FnMut(Vec<String>),
) -> LoadEnd {
    let control = job.opts.control.clone();
    let base = base_dir(&job.opts);
    let (load, opts) = (job.load, job.opts);
    let mut handle = tokio::task::spawn_blocking(move || load(&opts));
    let started = crate::clock::now();
    let mut next_report = job.warn_after.map(|d| started + d);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            r = &mut handle => return match r {
                Ok(result) => LoadEnd::Done(result),
                Err(e) => LoadEnd::Crashed(e.to_string()),
            },
            () = &mut stop => {
                abandon(&control, &mut handle, job.grace).await;
                return LoadEnd::Abandoned;
            }
            () = sleep_until(next_report) => {
                report(control.stuck_report(crate::clock::now() - started, &base));
                next_report = next_report.zip(job.warn_after).map(|(at, every)| at + every);
            }
        }
    }
}

/// Cancels the load and waits a bounded time for its thread. A thread still stuck
/// after that (in a builtin that cannot be interrupted) is left to the runtime's
/// bounded shutdown; its commands are dead either way.
async fn abandon<T>(control: &LoadControl, handle: &mut JoinHandle<T>, grace: Duration) {
    control.cancel();
    // The grace period is for commands to exit on TERM; Starlark code stops at once.
    let wait = if control.has_children() {
        grace
    } else {
        AFTER_KILL
    };
    if tokio::time::timeout(wait, &mut *handle).await.is_err() {
        control.kill();
        let _ = tokio::time::timeout(AFTER_KILL, handle).await;
    }
}

/// The main Tiltfile's directory: reports show paths relative to it.
fn base_dir(opts: &LoadOptions) -> PathBuf {
    let abs = std::path::absolute(&opts.tiltfile).unwrap_or_else(|_| opts.tiltfile.clone());
    abs.parent().map(PathBuf::from).unwrap_or_default()
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// The engine's load worker: the outcome becomes `ConfigLoaded` / `ConfigFailed`,
/// reports become Tiltfile log lines; a load abandoned at shutdown reports nothing.
pub(super) async fn run_load(
    job: LoadJob,
    tx: mpsc::UnboundedSender<Action>,
    mut shutdown: watch::Receiver<bool>,
) {
    let stop = async move {
        // A dropped sender means the engine is gone: stop as well.
        let _ = shutdown.wait_for(|s| *s).await;
    };
    let log = |lines: Vec<String>| {
        for text in lines {
            let _ = tx.send(Action::Log {
                resource: None,
                stream: Stream::Stderr,
                text,
            });
        }
    };
    let action = match load_until(job, stop, log).await {
        LoadEnd::Done(Ok(l)) => Action::ConfigLoaded {
            project: Box::new(l.project),
            files_read: l.files_read,
            warnings: l.warnings,
            output: l.output,
            at: crate::clock::now(),
        },
        LoadEnd::Done(Err(f)) => Action::ConfigFailed {
            error: f.error.to_string(),
            files_read: f.files_read,
            output: f.output,
        },
        LoadEnd::Crashed(e) => Action::ConfigFailed {
            error: format!("internal error: Tiltfile evaluation crashed: {e}"),
            files_read: vec![],
            output: vec![],
        },
        LoadEnd::Abandoned => return,
    };
    let _ = tx.send(action);
}
