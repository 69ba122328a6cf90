//! stilt: a fast, Tiltfile-compatible dev-loop orchestrator.
//!
//! Data flows one way (see `docs/architecture.md`): `config` turns a Tiltfile into a
//! `model::Project`; `watch` and the process workers report what happened as
//! `store::Action`s; `store::reduce` is the only writer of engine state; `engine`
//! makes pure decisions over snapshots (what to run next and why the rest waits,
//! the CI verdict) and spawns workers; views only read snapshots.

pub mod ansi;
pub mod build;
pub mod cli;
pub mod clock;
pub mod config;
pub mod deploy;
pub mod docker;
pub mod engine;
pub mod instance;
pub mod liveupdate;
pub mod model;
pub mod process;
pub mod store;
pub mod tui;
pub mod views;
pub mod watch;
pub mod web;
