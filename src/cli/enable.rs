//! `stilt enable` / `stilt disable`: switch resources on or off, by name, by label
//! (`-l`) or all of them (`--all`).

use clap::Args;
use serde_json::json;

use super::client::{Client, ClientError, ConnectArgs, fail};
use crate::web::api::SessionJson;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stilt disable worker\n  stilt enable --all\n  stilt disable -l frontend"
)]
pub struct EnableArgs {
    /// Resources to switch.
    pub resources: Vec<String>,
    /// Every resource.
    #[arg(long, conflicts_with = "resources")]
    pub all: bool,
    /// Resources with this label (repeatable).
    #[arg(short = 'l', long = "labels")]
    pub labels: Vec<String>,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

/// The names the arguments select from the session's resources.
pub fn select(s: &SessionJson, args: &EnableArgs) -> Vec<String> {
    let mut names: Vec<String> = s
        .ui_resources
        .iter()
        .filter(|r| {
            args.all
                || args.resources.contains(&r.metadata.name)
                || args
                    .labels
                    .iter()
                    .any(|l| r.metadata.labels.contains_key(l))
        })
        .map(|r| r.metadata.name.clone())
        .collect();
    // Unknown names go through, so the server names them in its refusal.
    for n in &args.resources {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    names
}

pub async fn set_enabled(args: EnableArgs, enabled: bool) -> i32 {
    if !args.all && args.resources.is_empty() && args.labels.is_empty() {
        eprintln!("Error: name resources, or pass --all or -l LABEL");
        return 2;
    }
    match run(&args, enabled).await {
        Ok(names) if names.is_empty() => {
            eprintln!("Error: no resource matches");
            1
        }
        Ok(names) => {
            let verb = if enabled { "enabled" } else { "disabled" };
            println!("{verb} {}", names.join(", "));
            0
        }
        Err(e) => fail(&e),
    }
}

async fn run(args: &EnableArgs, enabled: bool) -> Result<Vec<String>, ClientError> {
    let client = Client::locate(&args.conn)?;
    let session: SessionJson = client.get("/api/session").await?;
    let names = select(&session, args);
    if !names.is_empty() {
        client
            .post(
                "/api/enable",
                json!({ "resources": names, "enabled": enabled }),
            )
            .await?;
    }
    Ok(names)
}
