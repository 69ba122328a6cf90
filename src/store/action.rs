//! Everything that can happen to the engine, as data.

use std::path::PathBuf;
use std::time::Instant;

use super::problem::Problem;
use super::state::{RunId, RunOutcome, RunReason};
use crate::model::{ContainerStatus, Project, ResourceName, TriggerMode};
use crate::model::{Exit, Stream};

#[derive(Debug, Clone)]
pub enum Action {
    ConfigLoadStarted,
    ConfigLoaded {
        project: Box<Project>,
        files_read: Vec<PathBuf>,
        warnings: Vec<String>,
        output: Vec<String>,
        at: Instant,
    },
    ConfigFailed {
        error: String,
        files_read: Vec<PathBuf>,
        output: Vec<String>,
    },
    /// A debounced batch, already routed: which resources each path belongs to,
    /// and which paths are Tiltfile inputs.
    FilesChanged {
        by_resource: Vec<(ResourceName, Vec<PathBuf>)>,
        tiltfile_inputs: Vec<PathBuf>,
        at: Instant,
    },
    /// Something went wrong outside a run (the file watcher hit the inotify limit,
    /// the Docker Engine's event stream failed, ...), with how much it matters.
    Problem(Problem),
    Trigger {
        resource: ResourceName,
        at: Instant,
    },
    SetEnabled {
        resource: ResourceName,
        enabled: bool,
    },
    /// Switches a resource between auto and manual (a UI toggle; a reload keeps it).
    SetTriggerMode {
        resource: ResourceName,
        mode: TriggerMode,
        at: Instant,
    },
    RunStarted {
        resource: ResourceName,
        reason: RunReason,
        at: Instant,
    },
    RunFinished {
        resource: ResourceName,
        run: RunId,
        outcome: RunOutcome,
        at: Instant,
    },
    ServeRequested {
        resource: ResourceName,
    },
    ServeStarted {
        resource: ResourceName,
        generation: u64,
        pid: Option<u32>,
        at: Instant,
    },
    ServeExited {
        resource: ResourceName,
        generation: u64,
        exit: Option<Exit>,
        error: Option<String>,
    },
    ProbeResult {
        resource: ResourceName,
        generation: u64,
        ready: bool,
    },
    /// A build of `image_ref` as `tagged` started.
    ImageBuildStarted {
        image_ref: String,
        tagged: String,
    },
    /// An image was built (or found unchanged) as `tagged`.
    ImageBuilt {
        image_ref: String,
        tagged: String,
    },
    ImageBuildFailed {
        image_ref: String,
        error: String,
    },
    /// A deployed resource was (re)deployed from freshly built images: earlier live
    /// updates are in the image now.
    Deployed {
        resource: ResourceName,
    },
    /// Files were live-updated into `container`.
    LiveUpdated {
        resource: ResourceName,
        container: String,
        files: Vec<PathBuf>,
        /// The content hash of each regular file synced.
        content: Vec<(PathBuf, String)>,
    },
    /// A deploy target's view of a resource's container (`None`: it has none).
    ContainerObserved {
        resource: ResourceName,
        status: Option<ContainerStatus>,
        at: Instant,
    },
    /// A line of output; `None` is the Tiltfile's own log.
    Log {
        resource: Option<ResourceName>,
        stream: Stream,
        text: String,
    },
    /// New Tiltfile arguments (`stilt args`): the Tiltfile is evaluated again with them.
    SetArgs {
        args: Vec<String>,
    },
    Quit,
}
