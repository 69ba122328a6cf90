//! The engine: one loop that owns the state, makes pure decisions and drives the
//! controllers that start workers.
//!
//! Each turn drains every pending action into the reducer, lets the controllers
//! (Tiltfile loads, file watching, local runs and servers, deploy targets) act on
//! the new state, asks the pure decision functions what to start
//! ([`schedule::schedule`]) and lets the view look at the result. The loop itself
//! never blocks on I/O: workers report back through the action channel.

pub mod ci;
mod deploy;
mod deploy_run;
mod images;
pub mod load_run;
mod local;
mod local_run;
mod output;
pub mod probe;
pub mod route;
mod run;
pub mod schedule;
mod serve;
mod tasks;
mod tiltfile;
pub mod update_plan;
mod watching;

pub use run::{Deps, EngineOptions, View, run};
pub use tiltfile::LoadFn;
