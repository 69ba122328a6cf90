//! The workers the engine started, the channel they report on, and the shutdown
//! signal they all watch. Controllers spawn through this; only the loop reduces.

use std::future::Future;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};

use crate::store::Action;

pub struct Tasks {
    set: JoinSet<()>,
    tx: mpsc::UnboundedSender<Action>,
    shutdown: watch::Sender<bool>,
}

impl Tasks {
    pub fn new(tx: mpsc::UnboundedSender<Action>) -> Self {
        Tasks {
            set: JoinSet::new(),
            tx,
            shutdown: watch::channel(false).0,
        }
    }

    pub fn spawn(&mut self, task: impl Future<Output = ()> + Send + 'static) -> AbortHandle {
        self.set.spawn(task)
    }

    /// Where workers report.
    pub fn tx(&self) -> mpsc::UnboundedSender<Action> {
        self.tx.clone()
    }

    /// Becomes `true` when the engine shuts down.
    pub fn shutdown(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Tells every worker to stop and waits up to `limit` for them; aborts the rest.
    pub async fn stop(&mut self, limit: Duration) {
        let _ = self.shutdown.send(true);
        let _ = tokio::time::timeout(limit, async {
            while self.set.join_next().await.is_some() {}
        })
        .await;
        self.set.abort_all();
    }
}

/// Resolves when the engine shuts down (the guard `wait_for` returns is not `Send`,
/// so it must not live in a select branch that awaits).
pub async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
