//! The local controller: runs a local resource's `cmd` and keeps one serve worker per
//! `serve_cmd`. Which server starts when is the scheduler's decision
//! ([`super::schedule::Decision::serve`]); this only carries it out.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::local_run::{RunJob, run_local};
use super::serve::{ServeCmd, serve_worker};
use super::tasks::Tasks;
use crate::model::ResourceName;
use crate::process::{ProcSpec, Spawner};
use crate::store::EngineState;

pub struct LocalController {
    spawner: Arc<dyn Spawner>,
    grace: Duration,
    serves: HashMap<ResourceName, mpsc::UnboundedSender<ServeCmd>>,
}

impl LocalController {
    pub fn new(spawner: Arc<dyn Spawner>, grace: Duration) -> Self {
        LocalController {
            spawner,
            grace,
            serves: HashMap::new(),
        }
    }

    /// Starts a local resource's run (its `RunStarted` is already reduced).
    pub fn start_run(&mut self, state: &EngineState, name: &ResourceName, tasks: &mut Tasks) {
        let Some(r) = state.resources.get(name) else {
            return;
        };
        let (Some(run), Some(spec)) = (r.running(), r.spec.local()) else {
            return;
        };
        let job = RunJob {
            name: name.clone(),
            run,
            spec: spec.clone(),
            grace: self.grace,
        };
        let fut = run_local(job, self.spawner.clone(), tasks.tx(), tasks.shutdown());
        tasks.spawn(fut);
    }

    /// Stops the servers of removed or disabled resources (dropping a worker's
    /// sender stops its process).
    pub fn sync(&mut self, state: &EngineState) {
        self.serves.retain(|name, _| {
            state
                .resources
                .get(name)
                .is_some_and(|r| r.has_serve() && !r.disabled)
        });
    }

    /// Starts (or restarts) a server (its `ServeRequested` is already reduced).
    pub fn start_serve(&mut self, state: &EngineState, name: &ResourceName, tasks: &mut Tasks) {
        let Some(r) = state.resources.get(name) else {
            return;
        };
        let Some(local) = r.spec.local() else {
            return;
        };
        let Some(cmd) = &local.serve_cmd else {
            return;
        };
        let start = ServeCmd::Start {
            generation: r.serve_generation,
            spec: ProcSpec {
                argv: cmd.argv(),
                dir: local.serve_dir.clone(),
                env: local.serve_env.clone(),
            },
            probe: local.readiness_probe.clone(),
        };
        let sender = self.serves.entry(name.clone()).or_insert_with(|| {
            let (stx, srx) = mpsc::unbounded_channel();
            let worker = serve_worker(
                name.clone(),
                srx,
                self.spawner.clone(),
                tasks.tx(),
                self.grace,
            );
            tasks.spawn(worker);
            stx
        });
        let _ = sender.send(start);
    }

    /// Stops every server (at shutdown).
    pub fn stop(&mut self) {
        self.serves.clear();
    }
}
