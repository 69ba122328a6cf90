//! The Tiltfile controller: starts a load when the state asks for one. The load runs
//! in [`super::load_run`]'s worker, which can abandon it (a hanging load must not
//! hold stilt) and reports where a long load is.

use std::sync::Arc;
use std::time::Duration;

use super::load_run::{LoadJob, run_load};
use super::tasks::Tasks;
use crate::config::{LoadControl, LoadFailure, LoadOptions, Loaded};
use crate::store::{Action, EngineState};

pub type LoadFn = Arc<dyn Fn(&LoadOptions) -> Result<Loaded, LoadFailure> + Send + Sync>;

pub struct TiltfileController {
    load: LoadFn,
    opts: LoadOptions,
    /// Report where a load is once it has run this long (`None`: never).
    warn_after: Option<Duration>,
    /// Time between TERM and KILL for the load's `local()` commands when stopping.
    grace: Duration,
}

impl TiltfileController {
    pub fn new(
        load: LoadFn,
        opts: LoadOptions,
        warn_after: Option<Duration>,
        grace: Duration,
    ) -> Self {
        TiltfileController {
            load,
            opts,
            warn_after,
            grace,
        }
    }

    /// Starts a load if one is wanted and none runs; returns the action saying so.
    pub fn sync(&mut self, state: &EngineState, tasks: &mut Tasks) -> Option<Action> {
        if !state.tiltfile.reload_requested || state.tiltfile.loading {
            return None;
        }
        let job = LoadJob {
            load: self.load.clone(),
            // Each load gets its own control: a cancel must not stick to later loads.
            // Arguments a UI set (`stilt args`) replace the command line's.
            opts: LoadOptions {
                control: LoadControl::default(),
                args: state
                    .tiltfile
                    .args
                    .clone()
                    .unwrap_or_else(|| self.opts.args.clone()),
                ..self.opts.clone()
            },
            warn_after: self.warn_after,
            grace: self.grace,
        };
        tasks.spawn(run_load(job, tasks.tx(), tasks.shutdown()));
        Some(Action::ConfigLoadStarted)
    }
}
