//! Tiltfile -> `model::Project`.
//!
//! A Tiltfile is evaluated by starlark-rust. Builtins never touch the engine: they
//! only record typed specs into the evaluation's [`collect::Collector`] (reached
//! through `eval.extra`), and [`load`] turns the collected specs into a project,
//! the list of files the evaluation read (so the watcher can reload on change), and
//! warnings. Every error names the file, line and column with the source line.

// starlark's derives (`ProvidesStaticType`, `StarlarkPagable`) implement unsafe marker
// traits; no hand-written unsafe code lives in this module.
#![allow(unsafe_code)]

mod assemble;
pub mod builtins;
pub mod collect;
pub mod control;
pub mod error;
mod globals;
pub mod k8s;
mod load;
mod loader;
mod nesting;
mod tabs;
mod traceback;

pub use control::LoadControl;
pub use error::{ConfigError, Location};
pub use load::{LoadFailure, LoadOptions, Loaded, load};
