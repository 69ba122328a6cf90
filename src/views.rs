//! Views read engine state; they never change it.
//!
//! `stream` prints prefixed log lines and status changes (`stilt up --stream`, and
//! `up` without a terminal); `ci` wraps it with the exit rule of `stilt ci`;
//! `publish` takes one snapshot per engine turn and hands it, with the new log
//! lines, to every subscriber (the full-screen UI of `stilt up`, the web API next).

pub mod ci;
pub mod publish;
pub mod stream;
