//! The Tiltfile controller: starts a load when the state asks for one and reports
//! its result. The evaluation runs on a blocking thread; the loop never waits on it.

use std::sync::Arc;
use std::time::Instant;

use super::tasks::Tasks;
use crate::config::{LoadFailure, LoadOptions, Loaded};
use crate::store::{Action, EngineState};

pub type LoadFn = Arc<dyn Fn(&LoadOptions) -> Result<Loaded, LoadFailure> + Send + Sync>;

pub struct TiltfileController {
    load: LoadFn,
    opts: LoadOptions,
}

impl TiltfileController {
    pub fn new(load: LoadFn, opts: LoadOptions) -> Self {
        TiltfileController { load, opts }
    }

    /// Starts a load if one is wanted and none runs; returns the action saying so.
    // The load closure returns `LoadFailure` by value, as `config::load` does.
    #[allow(clippy::result_large_err)]
    pub fn sync(&mut self, state: &EngineState, tasks: &mut Tasks) -> Option<Action> {
        if !state.tiltfile.reload_requested || state.tiltfile.loading {
            return None;
        }
        let load = self.load.clone();
        let opts = self.opts.clone();
        let tx = tasks.tx();
        tasks.spawn(async move {
            let result = tokio::task::spawn_blocking(move || load(&opts)).await;
            let _ = tx.send(loaded(result));
        });
        Some(Action::ConfigLoadStarted)
    }
}

// The load closure returns `LoadFailure` by value, as `config::load` does.
#[allow(clippy::result_large_err)]
fn loaded(result: Result<Result<Loaded, LoadFailure>, tokio::task::JoinError>) -> Action {
    match result {
        Ok(Ok(l)) => Action::ConfigLoaded {
            project: Box::new(l.project),
            files_read: l.files_read,
            warnings: l.warnings,
            output: l.output,
            at: Instant::now(),
        },
        Ok(Err(f)) => Action::ConfigFailed {
            error: f.error.to_string(),
            files_read: f.files_read,
            output: f.output,
        },
        Err(e) => Action::ConfigFailed {
            error: format!("internal error: Tiltfile evaluation crashed: {e}"),
            files_read: vec![],
            output: vec![],
        },
    }
}
