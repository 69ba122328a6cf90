//! Builds the sync helper (`helper/`, docs/live-update.md) that stilt embeds and puts
//! into containers: rustc straight on its sources (std only, no dependencies, so no
//! nested cargo and no second lockfile to resolve), linked statically so it runs in a
//! `FROM scratch` image. It reruns only when the helper's sources change.

use std::env;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    println!("cargo:rerun-if-changed=helper/src");
    println!("cargo:rerun-if-changed=build.rs");
    let (Some(out_dir), Some(target)) = (env::var_os("OUT_DIR"), env::var_os("TARGET")) else {
        eprintln!("build.rs: cargo did not set OUT_DIR and TARGET");
        return ExitCode::FAILURE;
    };
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = PathBuf::from(out_dir).join("stilt-sync-helper");
    let status = Command::new(&rustc)
        .args(["--edition", "2024", "--crate-type", "bin"])
        .args(["--crate-name", "stilt_sync_helper"])
        .args([
            "-C",
            "opt-level=s",
            "-C",
            "panic=abort",
            "-C",
            "strip=symbols",
        ])
        .args(["-C", "codegen-units=1", "-C", "target-feature=+crt-static"])
        .arg("--target")
        .arg(&target)
        .arg("-o")
        .arg(&out)
        .arg("helper/src/main.rs")
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => {
            eprintln!("build.rs: building the sync helper failed ({s})");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("build.rs: cannot run {}: {e}", rustc.to_string_lossy());
            ExitCode::FAILURE
        }
    }
}
