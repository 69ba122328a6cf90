//! `stilt describe uiresource NAME`: everything the instance knows about one
//! resource, as readable text.

use std::fmt::Write as _;

use clap::Args;

use super::client::{Client, ConnectArgs, fail};
use crate::web::api::UiResource;

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  stilt describe uiresource web")]
pub struct DescribeArgs {
    /// The kind (uiresource) and the name, or `uiresource/NAME`.
    #[arg(required = true, num_args = 1..=2)]
    pub what: Vec<String>,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

/// `["uiresource", "web"]` or `["uiresource/web"]` -> "web".
pub fn resource_name(what: &[String]) -> Result<String, String> {
    let (kind, name) = match what {
        [one] => one
            .split_once('/')
            .map(|(k, n)| (k.to_owned(), n.to_owned()))
            .unwrap_or(("uiresource".into(), one.clone())),
        [k, n] => (k.clone(), n.clone()),
        _ => return Err("name one resource: stilt describe uiresource NAME".into()),
    };
    match kind.to_ascii_lowercase().as_str() {
        "uiresource" | "uiresources" | "uir" => Ok(name),
        other => Err(format!(
            "unknown kind {other:?}: only uiresource can be described"
        )),
    }
}

pub async fn describe(args: DescribeArgs) -> i32 {
    let name = match resource_name(&args.what) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("Error: {e}");
            return 2;
        }
    };
    let client = match Client::locate(&args.conn) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    match client
        .get::<UiResource>(&format!("/api/resources/{}", encode(&name)))
        .await
    {
        Ok(r) => {
            print!("{}", text(&r));
            0
        }
        Err(e) => fail(&e),
    }
}

/// Percent-encodes a path segment (resource names may hold any character).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn text(r: &UiResource) -> String {
    let s = &r.status;
    let mut o = String::new();
    let labels: Vec<&str> = r.metadata.labels.keys().map(String::as_str).collect();
    let _ = writeln!(o, "Name:           {}", r.metadata.name);
    let _ = writeln!(o, "Kind:           {}", s.stilt.kind);
    let _ = writeln!(
        o,
        "Labels:         {}",
        if labels.is_empty() {
            "<none>".into()
        } else {
            labels.join(", ")
        }
    );
    let _ = writeln!(o, "Enabled:        {}", s.disable_status.state == "Enabled");
    let _ = writeln!(
        o,
        "Trigger mode:   {}",
        if s.trigger_mode == 0 {
            "auto"
        } else {
            "manual"
        }
    );
    let _ = writeln!(o, "Update status:  {}", s.update_status);
    let _ = writeln!(o, "Runtime status: {}", s.runtime_status);
    for c in &s.conditions {
        let _ = writeln!(o, "Condition:      {}={}", c.kind, c.status);
    }
    if let Some(w) = &s.waiting {
        let _ = writeln!(o, "Waiting:        {}", w.waiting_reason);
    }
    if let Some(b) = s.current_build.as_ref().or(s.build_history.first()) {
        let _ = writeln!(o, "Last run:");
        let _ = writeln!(o, "  Reason:       {}", b.reason);
        let _ = writeln!(o, "  Started:      {}", b.start_time);
        let _ = writeln!(
            o,
            "  Finished:     {}",
            b.finish_time.as_deref().unwrap_or("(running)")
        );
        if let Some(ms) = s.stilt.last_duration_ms {
            let _ = writeln!(o, "  Took:         {:.1}s", ms as f64 / 1000.0);
        }
    }
    if let Some(e) = &s.stilt.error {
        let _ = writeln!(
            o,
            "Error:          {}",
            e.replace('\n', "\n                ")
        );
    }
    for l in &s.endpoint_links {
        match &l.name {
            Some(n) => {
                let _ = writeln!(o, "Endpoint:       {} ({n})", l.url);
            }
            None => {
                let _ = writeln!(o, "Endpoint:       {}", l.url);
            }
        }
    }
    o
}
