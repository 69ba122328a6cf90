//! Views read engine state; they never change it.
//!
//! `stream` prints prefixed log lines and status changes (`stilt up --stream`, and
//! `up` without a terminal); `ci` wraps it with the exit rule of `stilt ci`;
//! `tui` feeds the full-screen UI of `stilt up` (in `crate::tui`).

pub mod ci;
pub mod stream;
pub mod tui;
