//! Engine state and the one function that changes it.
//!
//! Workers and views send [`Action`]s; [`reduce`] applies them to [`EngineState`]
//! synchronously, with no I/O. Everything else reads the state: the scheduler, the CI
//! verdict and the views. Time comes in through actions (`at` fields), never from a
//! clock read inside the reducer, so a test can replay any sequence exactly.

pub mod action;
pub mod intent;
pub mod logs;
pub mod problem;
pub mod reduce;
pub mod resources;
pub mod state;
pub mod view;

pub use action::Action;
pub use intent::Intent;
pub use logs::{LogBuffer, LogLine, LogSource};
pub use problem::{Problem, Severity};
pub use reduce::reduce;
pub use state::{
    ContainerTrack, EngineState, ImageState, ResourceState, RunId, RunOutcome, RunReason,
    RunRecord, Runtime, ServePhase, TiltfileState, UpdatePhase, UserChoice,
};
