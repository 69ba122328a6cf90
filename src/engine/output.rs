//! Forwarding a process's output lines into the store as `Action::Log`.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::model::ResourceName;
use crate::process::OutputLine;
use crate::store::Action;

/// How long to keep reading after the process exited: a background grandchild can
/// hold the pipe open forever, so draining is bounded.
const DRAIN: Duration = Duration::from_millis(100);

pub fn channel() -> (
    mpsc::UnboundedSender<OutputLine>,
    mpsc::UnboundedReceiver<OutputLine>,
) {
    mpsc::unbounded_channel()
}

/// Forwards lines until the channel closes.
pub async fn forward(
    name: ResourceName,
    mut rx: mpsc::UnboundedReceiver<OutputLine>,
    tx: mpsc::UnboundedSender<Action>,
) {
    while let Some((stream, text)) = rx.recv().await {
        let _ = tx.send(Action::Log {
            resource: Some(name.clone()),
            stream,
            text,
        });
    }
}

/// Forwards what is left after the process exited, for at most [`DRAIN`].
pub async fn drain(
    name: &ResourceName,
    rx: &mut mpsc::UnboundedReceiver<OutputLine>,
    tx: &mpsc::UnboundedSender<Action>,
) {
    let deadline = tokio::time::Instant::now() + DRAIN;
    while let Ok(Some((stream, text))) = tokio::time::timeout_at(deadline, rx.recv()).await {
        let _ = tx.send(Action::Log {
            resource: Some(name.clone()),
            stream,
            text,
        });
    }
}
