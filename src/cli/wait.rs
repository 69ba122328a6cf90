//! `stilt wait --for=condition=Ready uiresource/NAME`: block until resources meet a
//! condition (Ready or UpToDate, as Tilt's `tilt wait` reads them), or time out.
//! It watches the instance's stream of snapshots; it does not poll.

use std::time::Duration;

use clap::Args;
use futures_util::StreamExt;

use super::client::{Client, ClientError, ConnectArgs, fail};
use crate::web::api::SessionJson;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stilt wait --for=condition=Ready uiresource/web\n  stilt wait --for=condition=Ready uiresource/web uiresource/api --timeout 2m"
)]
pub struct WaitArgs {
    /// The condition: condition=Ready or condition=UpToDate.
    #[arg(long = "for", value_name = "condition=NAME")]
    pub condition: String,
    /// Resources as uiresource/NAME.
    #[arg(required = true)]
    pub resources: Vec<String>,
    /// Give up after this long (e.g. 30s, 5m).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::config::builtins::args::go_duration(s).map_err(|e| e.to_string())
}

/// `condition=Ready` -> "Ready".
pub fn condition(spec: &str) -> Result<String, String> {
    let name = spec
        .strip_prefix("condition=")
        .ok_or_else(|| format!("--for={spec}: only --for=condition=NAME is supported"))?;
    match name.to_ascii_lowercase().as_str() {
        "ready" => Ok("Ready".into()),
        "uptodate" => Ok("UpToDate".into()),
        _ => Err(format!("unknown condition {name:?}: use Ready or UpToDate")),
    }
}

/// `uiresource/web` (or `web`) -> "web".
pub fn name(object: &str) -> Result<String, String> {
    match object.split_once('/') {
        Some((kind, n))
            if matches!(
                kind.to_ascii_lowercase().as_str(),
                "uiresource" | "uiresources" | "uir"
            ) =>
        {
            Ok(n.into())
        }
        Some((kind, _)) => Err(format!(
            "unknown kind {kind:?}: only uiresource/NAME can be waited for"
        )),
        None => Ok(object.into()),
    }
}

/// The names among `names` not yet meeting `cond`, each with its state.
pub fn unmet(s: &SessionJson, names: &[String], cond: &str) -> Vec<String> {
    names
        .iter()
        .filter_map(|n| {
            let Some(r) = s.ui_resources.iter().find(|r| &r.metadata.name == n) else {
                return Some(format!("uiresource/{n}: not found"));
            };
            let met = r
                .status
                .conditions
                .iter()
                .any(|c| c.kind == cond && c.status == "True");
            (!met).then(|| {
                format!(
                    "uiresource/{n}: update {}, runtime {}",
                    r.status.update_status, r.status.runtime_status
                )
            })
        })
        .collect()
}

pub async fn wait(args: WaitArgs) -> i32 {
    let parsed = condition(&args.condition).and_then(|c| {
        args.resources
            .iter()
            .map(|o| name(o))
            .collect::<Result<Vec<_>, _>>()
            .map(|n| (c, n))
    });
    let (cond, names) = match parsed {
        Ok(p) => p,
        Err(e) => {
            eprintln!("Error: {e}");
            return 2;
        }
    };
    match tokio::time::timeout(args.timeout, until_met(&args.conn, &names, &cond)).await {
        Ok(Ok(None)) => {
            for n in &names {
                println!("uiresource/{n} condition met");
            }
            0
        }
        Ok(Ok(Some(last))) => {
            eprintln!(
                "Error: the stilt instance stopped before {cond}: {}",
                last.join("; ")
            );
            1
        }
        Ok(Err(e)) => fail(&e),
        Err(_) => {
            let state = match Client::locate(&args.conn) {
                Ok(c) => match c.get::<SessionJson>("/api/session").await {
                    Ok(s) => unmet(&s, &names, &cond).join("; "),
                    Err(e) => e.to_string(),
                },
                Err(e) => e.to_string(),
            };
            eprintln!(
                "Error: timed out after {:?} waiting for {cond}: {state}",
                args.timeout
            );
            1
        }
    }
}

/// `None` once met; `Some(what is unmet)` if the stream ended first. An instance
/// that is not up yet is waited for (`stilt up & stilt wait ...`), within the timeout.
async fn until_met(
    conn: &ConnectArgs,
    names: &[String],
    cond: &str,
) -> Result<Option<Vec<String>>, ClientError> {
    let mut events = loop {
        match Client::locate(conn) {
            Ok(client) => match client.events().await {
                Ok(events) => break events,
                Err(ClientError::Connect { .. }) => {}
                Err(e) => return Err(e),
            },
            Err(ClientError::NotRunning { .. }) => {}
            Err(e) => return Err(e),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let mut last = vec!["no state received".to_owned()];
    while let Some((event, data)) = events.next().await {
        if event != "snapshot" {
            continue;
        }
        let Ok(s) = serde_json::from_str::<SessionJson>(&data) else {
            continue;
        };
        last = unmet(&s, names, cond);
        if last.is_empty() {
            return Ok(None);
        }
    }
    Ok(Some(last))
}
