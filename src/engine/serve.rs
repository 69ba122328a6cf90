//! The serve worker of a local resource: owns its `serve_cmd` process.
//!
//! One long-lived task per resource handles start and stop requests in order, so a
//! restart always stops the old server before the new one starts (no "address in
//! use" from an overlap). Reports carry the generation they are about; the reducer
//! ignores reports about a process that has since been replaced.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{output, probe};
use crate::model::{Probe, ResourceName};
use crate::process::{Child, ProcSpec, Spawner};
use crate::store::Action;

/// How long a new server must stay up before it counts as started.
const SETTLE: Duration = Duration::from_millis(50);

#[derive(Debug)]
pub enum ServeCmd {
    /// Stop the current server (if any), then start this one. Dropping the
    /// sender stops the current server and ends the worker.
    Start {
        generation: u64,
        spec: ProcSpec,
        probe: Option<Probe>,
    },
}

struct Current {
    generation: u64,
    child: Box<dyn Child>,
    probe: Option<JoinHandle<()>>,
}

pub async fn serve_worker(
    name: ResourceName,
    mut cmds: mpsc::UnboundedReceiver<ServeCmd>,
    spawner: Arc<dyn Spawner>,
    tx: mpsc::UnboundedSender<Action>,
    grace: Duration,
) {
    let mut current: Option<Current> = None;
    loop {
        tokio::select! {
            cmd = cmds.recv() => {
                if let Some(c) = current.take() {
                    stop(c, grace).await;
                }
                match cmd {
                    Some(ServeCmd::Start { generation, spec, probe }) => {
                        current = start(&name, generation, &spec, probe, &spawner, &tx).await;
                    }
                    None => return,
                }
            }
            exit = wait(&mut current) => {
                if let Some(mut c) = current.take() {
                    if let Some(p) = c.probe.take() { p.abort(); }
                    let error = Some(format!("serve_cmd exited unexpectedly ({})", exit_text(&exit)));
                    let _ = tx.send(Action::ServeExited {
                        resource: name.clone(), generation: c.generation, exit: exit.ok(), error,
                    });
                }
            }
        }
    }
}

fn exit_text(r: &Result<crate::process::Exit, String>) -> String {
    match r {
        Ok(e) => e.to_string(),
        Err(e) => e.clone(),
    }
}

async fn wait(current: &mut Option<Current>) -> Result<crate::process::Exit, String> {
    match current {
        Some(c) => c.child.wait().await.map_err(|e| e.to_string()),
        None => std::future::pending().await,
    }
}

async fn start(
    name: &ResourceName,
    generation: u64,
    spec: &ProcSpec,
    probe_spec: Option<Probe>,
    spawner: &Arc<dyn Spawner>,
    tx: &mpsc::UnboundedSender<Action>,
) -> Option<Current> {
    let (out_tx, out_rx) = output::channel();
    // Ends by itself when the process group's pipes close.
    tokio::spawn(output::forward(name.clone(), out_rx, tx.clone()));
    match spawner.spawn(spec, out_tx) {
        Err(e) => {
            let _ = tx.send(Action::ServeExited {
                resource: name.clone(),
                generation,
                exit: None,
                error: Some(format!("serve_cmd could not start: {e}")),
            });
            None
        }
        Ok(mut child) => {
            // A server that dies at once must not be seen as running, even for a
            // moment: `ci` would call it ready and succeed.
            if let Ok(r) = tokio::time::timeout(SETTLE, child.wait()).await {
                let exit = r.map_err(|e| e.to_string());
                let error = Some(format!(
                    "serve_cmd exited unexpectedly ({})",
                    exit_text(&exit)
                ));
                let _ = tx.send(Action::ServeExited {
                    resource: name.clone(),
                    generation,
                    exit: exit.ok(),
                    error,
                });
                return None;
            }
            let _ = tx.send(Action::ServeStarted {
                resource: name.clone(),
                generation,
                pid: child.pid(),
                at: crate::clock::now(),
            });
            let probe = probe_spec
                .map(|p| tokio::spawn(probe::run(name.clone(), generation, p, tx.clone())));
            Some(Current {
                generation,
                child,
                probe,
            })
        }
    }
}

async fn stop(mut c: Current, grace: Duration) {
    if let Some(p) = c.probe.take() {
        p.abort();
    }
    c.child.stop(grace).await;
}
