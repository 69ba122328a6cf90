//! stilt's in-container helper: one static binary, std only, that stilt copies into a
//! container once (through the archive API, so the image needs no `tar` or shell) and
//! runs with one long-lived exec. Its first argument picks a mode; each mode lives in
//! its own module so more can be added (a process supervisor, say) without touching
//! the others.
//!
//! - `sync`: apply batches of file operations framed on stdin (`proto.rs`), answering
//!   on stdout; exits on a `Bye` frame or when stdin ends.
//! - `supervise`: run a command and run it again whenever stilt writes the restart
//!   file (`restart_process`); it is PID 1 of its container (`supervise.rs`).
//! - `version`: print the protocol version.

// The protocol is shared with stilt, which uses the halves this side does not.
#[allow(dead_code)]
mod proto;
mod supervise;
mod sync;
mod sys;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mode = std::env::args().nth(1);
    match mode.as_deref() {
        Some("sync") => sync::run(),
        Some("supervise") => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let code = supervise::main(&args);
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
        Some("version") => {
            println!("stilt-sync-helper protocol {}", proto::VERSION);
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: stilt-sync-helper sync | supervise ... | version");
            ExitCode::from(2)
        }
    }
}
