//! `stilt args -- ARGS`: give the running instance's Tiltfile new arguments (what
//! `config.parse()` reads); the Tiltfile is evaluated again with them.

use clap::Args;
use serde_json::json;

use super::client::{Client, ConnectArgs, fail};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stilt args -- web api\n  stilt args -- --port 9000\n  stilt args --clear"
)]
pub struct ArgsArgs {
    /// Set no arguments at all.
    #[arg(long, conflicts_with = "args")]
    pub clear: bool,
    /// The new arguments (flag-like ones after `--`).
    #[arg(allow_hyphen_values = true)]
    pub args: Vec<String>,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

pub async fn args(a: ArgsArgs) -> i32 {
    if !a.clear && a.args.is_empty() {
        eprintln!("Error: give the new arguments after `--`, or --clear for none");
        return 2;
    }
    let result = match Client::locate(&a.conn) {
        Ok(c) => c.post("/api/args", json!({ "args": a.args })).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            println!("Tiltfile arguments set to {:?}; reloading", a.args);
            0
        }
        Err(e) => fail(&e),
    }
}
