//! The seam to the pod streams of `logs.rs`, `forward.rs` and `exec.rs` (pod logs,
//! port forwards through the API server, exec-based live update), which are written
//! beside this target. Until they are part of the build, logs are an empty stream,
//! port forwards are not opened and exec-based live update is unavailable; each of
//! the three functions below is the one place that changes when they land.

use std::sync::Arc;

use futures_util::stream::{self, BoxStream, StreamExt};
use kube::Client;

use crate::deploy::TargetError;
use crate::liveupdate::ContainerUpdater;
use crate::model::Stream;

/// Follows every container of a pod from `since_unix` (0: from the start), across
/// restarts; becomes `logs::follow_pod(client, namespace, pod, since_unix)`.
pub fn follow_pod(
    _client: Client,
    _namespace: &str,
    _pod: &str,
    _since_unix: i64,
) -> BoxStream<'static, Result<(Stream, String), TargetError>> {
    stream::empty().boxed()
}

/// The port forwards of every resource.
pub use super::forward::Forwarder as Forwards;

/// The exec-based updater (`exec::ExecUpdater`), for pods whose containers are not
/// the local Engine's; `None` while it is not part of the build.
pub fn exec_updater(_client: &Client) -> Option<Arc<dyn ContainerUpdater>> {
    None
}
