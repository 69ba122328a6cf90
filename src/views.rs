//! Views read engine state; they never change it.
//!
//! `stream` prints prefixed log lines and status changes (`stilt up --stream`, and
//! `up` without a terminal); `ci` wraps it with the exit rule of `stilt ci`.

pub mod ci;
pub mod stream;
