//! `stilt get`: resources or the session of the running instance, as a table or in
//! Tilt's object shapes (`-o json|yaml|wide|name`), once or on every change (`-w`).

use clap::{Args, ValueEnum};
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::client::{Client, ClientError, ConnectArgs, fail};
use crate::web::api::{SessionJson, UiResource};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stilt get uiresources\n  stilt get uiresource web -o json\n  stilt get session -o yaml\n  stilt get uir -w"
)]
pub struct GetArgs {
    /// What to get: uiresources (uiresource, uir) or session.
    #[arg(default_value = "uiresources")]
    pub kind: String,
    /// One resource by name (uiresource only).
    pub name: Option<String>,
    #[arg(short = 'o', long = "output", value_enum)]
    pub output: Option<Output>,
    /// Keep printing as things change.
    #[arg(short = 'w', long)]
    pub watch: bool,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Json,
    Yaml,
    Wide,
    Name,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Resources,
    Session,
}

pub fn kind(s: &str) -> Option<Kind> {
    match s.to_ascii_lowercase().as_str() {
        "uiresources" | "uiresource" | "uir" | "uiresource.tilt.dev" => Some(Kind::Resources),
        "session" | "sessions" => Some(Kind::Session),
        _ => None,
    }
}

pub async fn get(args: GetArgs) -> i32 {
    let Some(k) = kind(&args.kind) else {
        eprintln!(
            "Error: unknown kind {:?}: use uiresources or session",
            args.kind
        );
        return 2;
    };
    let client = match Client::locate(&args.conn) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    match run(&client, k, &args).await {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

async fn run(client: &Client, k: Kind, args: &GetArgs) -> Result<i32, ClientError> {
    let session: SessionJson = client.get("/api/session").await?;
    let mut last = String::new();
    match render(&session, k, args) {
        Ok(text) => print!("{text}"),
        Err(msg) => {
            eprintln!("Error: {msg}");
            return Ok(1);
        }
    }
    if !args.watch {
        return Ok(0);
    }
    let mut events = client.events().await?;
    while let Some((event, data)) = events.next().await {
        let Ok(s) = (event == "snapshot")
            .then(|| serde_json::from_str::<SessionJson>(&data))
            .transpose()
        else {
            continue;
        };
        let Some(s) = s else { continue };
        if let Ok(text) = render(&s, k, args) {
            // A table prints its header once; then only rows that changed.
            let out = changed_rows(&last, &text, args.output);
            print!("{out}");
            last = text;
        }
    }
    Ok(0)
}

fn changed_rows(last: &str, now: &str, output: Option<Output>) -> String {
    if last.is_empty() || matches!(output, Some(Output::Json | Output::Yaml)) {
        return if last == now {
            String::new()
        } else {
            now.to_owned()
        };
    }
    let old: std::collections::HashSet<&str> = last.lines().collect();
    now.lines()
        .skip(1)
        .filter(|l| !old.contains(l))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The text `get` prints for a session, or why there is nothing to print.
pub fn render(s: &SessionJson, k: Kind, args: &GetArgs) -> Result<String, String> {
    let resources: Vec<&UiResource> = match &args.name {
        Some(n) => {
            let r = s.ui_resources.iter().find(|r| &r.metadata.name == n);
            vec![r.ok_or_else(|| format!("uiresource {n:?} not found"))?]
        }
        None => s.ui_resources.iter().collect(),
    };
    let object = match k {
        Kind::Session => session_object(s),
        Kind::Resources if args.name.is_some() => resource_object(resources[0]),
        Kind::Resources => json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": resources.iter().map(|r| resource_object(r)).collect::<Vec<_>>(),
        }),
    };
    Ok(match (args.output, k) {
        (Some(Output::Json), _) => serde_json::to_string_pretty(&object).unwrap_or_default() + "\n",
        (Some(Output::Yaml), _) => serde_saphyr::to_string(&object).unwrap_or_default(),
        (Some(Output::Name), Kind::Resources) => resources
            .iter()
            .map(|r| format!("uiresource.tilt.dev/{}\n", r.metadata.name))
            .collect(),
        (Some(Output::Name), Kind::Session) => "session.tilt.dev/Tiltfile\n".into(),
        (out, Kind::Resources) => table(&resources, out == Some(Output::Wide)),
        (_, Kind::Session) => session_table(s),
    })
}

fn resource_object(r: &UiResource) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Value::Object(m) = &mut v {
        m.insert("apiVersion".into(), "tilt.dev/v1alpha1".into());
        m.insert("kind".into(), "UIResource".into());
    }
    v
}

fn session_object(s: &SessionJson) -> Value {
    json!({
        "apiVersion": "tilt.dev/v1alpha1",
        "kind": "Session",
        "metadata": { "name": "Tiltfile" },
        "status": s.session,
    })
}

fn table(resources: &[&UiResource], wide: bool) -> String {
    let mut rows = vec![if wide {
        vec![
            "NAME", "UPDATE", "RUNTIME", "TRIGGER", "KIND", "LAST RUN", "WAITING",
        ]
        .into_iter()
        .map(String::from)
        .collect()
    } else {
        vec!["NAME".to_owned(), "UPDATE".into(), "RUNTIME".into()]
    }];
    for r in resources {
        let s = &r.status;
        let update = if s.disable_status.state == "Disabled" {
            "disabled".to_owned()
        } else {
            s.update_status.clone()
        };
        let mut row = vec![r.metadata.name.clone(), update, s.runtime_status.clone()];
        if wide {
            row.push(
                if s.trigger_mode == 0 {
                    "auto"
                } else {
                    "manual"
                }
                .into(),
            );
            row.push(s.stilt.kind.clone());
            row.push(s.stilt.last_reason.clone().unwrap_or_else(|| "-".into()));
            row.push(s.stilt.hold_reason.clone().unwrap_or_else(|| "-".into()));
        }
        rows.push(row);
    }
    columns(&rows)
}

fn session_table(s: &SessionJson) -> String {
    let c = &s.session.counts;
    let state = match &s.session.error {
        Some(_) => "tiltfile error",
        None if c.error > 0 => "error",
        None if c.pending > 0 || s.session.tiltfile_loading => "pending",
        None => "ok",
    };
    columns(&[
        vec![
            "NAME".into(),
            "STATE".into(),
            "RESOURCES".into(),
            "OK".into(),
            "ERROR".into(),
            "PENDING".into(),
            "DISABLED".into(),
        ],
        vec![
            "Tiltfile".into(),
            state.into(),
            c.total.to_string(),
            c.ok.to_string(),
            c.error.to_string(),
            c.pending.to_string(),
            c.disabled.to_string(),
        ],
    ])
}

/// Left-aligned columns, three spaces apart, like kubectl's tables.
pub fn columns(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}   ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
