//! Where the target meets the pod streams: pod logs (`logs.rs`), port forwards
//! through the API server (`forward.rs`) and exec-based live update (`exec.rs`).

use std::sync::Arc;

use futures_util::stream::{BoxStream, StreamExt};
use kube::Client;

use super::exec::ExecUpdater;
use crate::deploy::TargetError;
use crate::liveupdate::ContainerUpdater;
use crate::model::Stream;

/// Follows every container of a pod from `since_unix` (0: from the start), across
/// restarts, until the pod is gone.
pub fn follow_pod(
    client: Client,
    namespace: &str,
    pod: &str,
    since_unix: i64,
) -> BoxStream<'static, Result<(Stream, String), TargetError>> {
    super::logs::follow_pod(client, namespace, pod, since_unix)
        .map(|item| item.map_err(TargetError::failed))
        .boxed()
}

/// The port forwards of every resource.
pub use super::forward::Forwarder as Forwards;

/// The exec-based updater, for pods whose containers are not the local Engine's.
pub fn exec_updater(client: &Client) -> Option<Arc<dyn ContainerUpdater>> {
    Some(Arc::new(ExecUpdater::new(client.clone())))
}
