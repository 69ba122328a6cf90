//! The engine: one loop that owns the state, makes pure decisions and spawns workers.
//!
//! Each turn drains every pending action into the reducer, then asks the pure
//! decision functions what to do ([`schedule::schedule`]) and starts the workers
//! (Tiltfile load, runs, servers), then lets the view look at the new state. The
//! loop itself never blocks on I/O: workers report back through the action channel.

pub mod ci;
pub mod compose_plan;
mod compose_run;
mod containers;
pub mod docker;
pub mod load_run;
mod local_run;
mod output;
pub mod probe;
pub mod route;
mod run;
pub mod schedule;
mod serve;

pub use docker::{DockerConnect, DockerDeps};
pub use run::{Deps, EngineOptions, LoadFn, View, run};
