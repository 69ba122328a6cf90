//! The run worker of a local resource: runs `cmd` once and reports how it ended.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::output;
use crate::model::{LocalSpec, ResourceName};
use crate::process::{ProcSpec, Spawner};
use crate::store::{Action, RunId, RunOutcome};

pub struct RunJob {
    pub name: ResourceName,
    pub run: RunId,
    pub spec: LocalSpec,
    pub grace: Duration,
}

pub async fn run_local(
    job: RunJob,
    spawner: Arc<dyn Spawner>,
    tx: mpsc::UnboundedSender<Action>,
    mut shutdown: watch::Receiver<bool>,
) {
    let outcome = match &job.spec.cmd {
        None => RunOutcome::Succeeded,
        Some(cmd) => {
            let spec = ProcSpec {
                argv: cmd.argv(),
                dir: job.spec.dir.clone(),
                env: job.spec.env.clone(),
            };
            let (out_tx, mut out_rx) = output::channel();
            match spawner.spawn(&spec, out_tx) {
                Err(e) => RunOutcome::Failed(e.to_string()),
                Ok(mut child) => {
                    let waited = tokio::select! {
                        r = child.wait() => Some(r.map_err(|e| e.to_string())),
                        _ = shutdown.wait_for(|s| *s) => None,
                    };
                    let exit = match waited {
                        Some(r) => r,
                        None => Ok(child.stop(job.grace).await),
                    };
                    output::drain(&job.name, &mut out_rx, &tx).await;
                    match exit {
                        Ok(e) if e.success() => RunOutcome::Succeeded,
                        Ok(e) => RunOutcome::Failed(format!("cmd {e}")),
                        Err(e) => RunOutcome::Failed(e),
                    }
                }
            }
        }
    };
    let _ = tx.send(Action::RunFinished {
        resource: job.name,
        run: job.run,
        outcome,
        at: crate::clock::now(),
    });
}
