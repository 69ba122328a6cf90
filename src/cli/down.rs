//! `stilt down`: evaluates the Tiltfile as `down` and removes what `up` created.
//!
//! Local processes belong to the `stilt up` that started them and stop when it exits,
//! so for local resources there is nothing left to remove; evaluating the Tiltfile
//! still lets `if config.tilt_subcommand == "down": local(...)` teardown code run.

use super::CommonArgs;
use crate::config::{LoadOptions, load};

pub fn down(args: CommonArgs) -> i32 {
    let opts = LoadOptions {
        tiltfile: args.file,
        args: args.args,
        subcommand: "down".into(),
    };
    match load(&opts) {
        Ok(loaded) => {
            for line in &loaded.output {
                println!("{line}");
            }
            let n = loaded.project.resources.len();
            println!(
                "stilt down: {n} local resource(s); their processes stop with `stilt up`, nothing else to remove"
            );
            0
        }
        Err(f) => {
            for line in &f.output {
                println!("{line}");
            }
            eprintln!("Error: {}", f.error);
            1
        }
    }
}
