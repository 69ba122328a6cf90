//! `stilt trigger RES`: run a resource's update now, as the dashboard's button does.

use clap::Args;
use serde_json::json;

use super::client::{Client, ConnectArgs, fail};

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  stilt trigger web")]
pub struct TriggerArgs {
    /// The resource to update.
    pub resource: String,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

pub async fn trigger(args: TriggerArgs) -> i32 {
    let result = match Client::locate(&args.conn) {
        Ok(c) => {
            c.post("/api/trigger", json!({ "resource": args.resource }))
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            println!("triggered {}", args.resource);
            0
        }
        Err(e) => fail(&e),
    }
}
