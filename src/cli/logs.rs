//! `stilt logs`: the log of the running instance, all of it or some resources',
//! filtered by source, level and age, once or following (`-f`) as lines arrive.

use std::time::{Duration, SystemTime};

use clap::{Args, ValueEnum};
use futures_util::StreamExt;

use super::client::{Client, ClientError, ConnectArgs, fail};
use crate::web::api::{LogLineJson, LogsJson};
use crate::web::time::rfc3339;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stilt logs\n  stilt logs web api -f\n  stilt logs --since 5m --tail 100 --level warn\n  stilt logs web --source runtime --json"
)]
pub struct LogsArgs {
    /// Resources whose lines to show (default: all, the Tiltfile's own included).
    pub resources: Vec<String>,
    /// Keep printing new lines as they arrive.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only lines from the last D (e.g. 30s, 5m, 1h).
    #[arg(long, value_parser = parse_duration)]
    pub since: Option<Duration>,
    /// Only the last N lines (before following).
    #[arg(long)]
    pub tail: Option<usize>,
    /// One JSON object per line (the API's shape).
    #[arg(long)]
    pub json: bool,
    #[arg(long, value_enum, default_value = "all")]
    pub source: Source,
    /// Only lines at this level or above.
    #[arg(long, value_enum)]
    pub level: Option<Level>,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Source {
    All,
    Build,
    Runtime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    Warn,
    Error,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::config::builtins::args::go_duration(s).map_err(|e| e.to_string())
}

/// Which lines to print.
#[derive(Debug, Clone)]
pub struct Filter {
    pub resources: Vec<String>,
    pub source: Source,
    pub level: Option<Level>,
    /// RFC 3339 time; lines stamped earlier are left out (these strings sort by time).
    pub since: Option<String>,
}

impl Filter {
    pub fn keeps(&self, l: &LogLineJson) -> bool {
        let resource_ok = self.resources.is_empty()
            || l.resource
                .as_ref()
                .is_some_and(|r| self.resources.contains(r));
        let source_ok = match self.source {
            Source::All => true,
            Source::Build => l.source == "build",
            Source::Runtime => l.source == "runtime",
        };
        let level_ok = match self.level {
            None => true,
            Some(Level::Warn) => l.level == "warn" || l.level == "error",
            Some(Level::Error) => l.level == "error",
        };
        let time_ok = self
            .since
            .as_ref()
            .is_none_or(|s| l.time.as_str() >= s.as_str());
        resource_ok && source_ok && level_ok && time_ok
    }
}

/// `web │ listening on 8000`, as the stream view prints it.
pub fn format_line(l: &LogLineJson, json: bool) -> String {
    if json {
        return serde_json::to_string(l).unwrap_or_default();
    }
    match &l.resource {
        Some(r) => format!("{r:>12} │ {}", l.text),
        None => format!("{:>12} │ {}", "(Tiltfile)", l.text),
    }
}

pub async fn logs(args: LogsArgs) -> i32 {
    let client = match Client::locate(&args.conn) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let filter = Filter {
        resources: args.resources.clone(),
        source: args.source,
        level: args.level,
        since: args.since.map(|d| {
            rfc3339(
                SystemTime::now()
                    .checked_sub(d)
                    .unwrap_or(SystemTime::UNIX_EPOCH),
            )
        }),
    };
    match run(&client, &filter, &args).await {
        Ok(()) => 0,
        Err(e) => fail(&e),
    }
}

async fn run(client: &Client, filter: &Filter, args: &LogsArgs) -> Result<(), ClientError> {
    let query = match args.resources.as_slice() {
        [one] => format!("/api/logs?resource={}", super::describe::encode(one)),
        _ => "/api/logs".to_owned(),
    };
    // Subscribe before reading the history so no line falls between the two.
    let mut events = if args.follow {
        Some(client.events().await?)
    } else {
        None
    };
    let history: LogsJson = client.get(&query).await?;
    let mut lines: Vec<&LogLineJson> = history.lines.iter().filter(|l| filter.keeps(l)).collect();
    if let Some(n) = args.tail {
        let skip = lines.len().saturating_sub(n);
        lines.drain(..skip);
    }
    for l in &lines {
        println!("{}", format_line(l, args.json));
    }
    let mut seen = history.next_seq.unwrap_or(0);
    let Some(events) = events.as_mut() else {
        return Ok(());
    };
    while let Some((event, data)) = events.next().await {
        if event != "logs" {
            continue;
        }
        let Ok(batch) = serde_json::from_str::<LogsJson>(&data) else {
            continue;
        };
        for l in batch
            .lines
            .iter()
            .filter(|l| l.seq > seen && filter.keeps(l))
        {
            println!("{}", format_line(l, args.json));
        }
        seen = batch
            .lines
            .iter()
            .map(|l| l.seq)
            .max()
            .unwrap_or(seen)
            .max(seen);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(resource: Option<&str>, source: &str, level: &str, time: &str) -> LogLineJson {
        LogLineJson {
            seq: 1,
            resource: resource.map(str::to_owned),
            source: source.into(),
            level: level.into(),
            time: time.into(),
            text: "x".into(),
        }
    }

    #[test]
    fn the_filter_keeps_only_matching_lines() {
        let f = Filter {
            resources: vec!["web".into()],
            source: Source::Runtime,
            level: Some(Level::Warn),
            since: Some("2026-11-29T06:00:00.000000Z".into()),
        };
        assert!(f.keeps(&line(
            Some("web"),
            "runtime",
            "error",
            "2026-11-29T06:00:01.000000Z"
        )));
        assert!(!f.keeps(&line(
            Some("api"),
            "runtime",
            "error",
            "2026-11-29T06:00:01.000000Z"
        )));
        assert!(!f.keeps(&line(
            Some("web"),
            "build",
            "error",
            "2026-11-29T06:00:01.000000Z"
        )));
        assert!(!f.keeps(&line(
            Some("web"),
            "runtime",
            "info",
            "2026-11-29T06:00:01.000000Z"
        )));
        assert!(!f.keeps(&line(
            Some("web"),
            "runtime",
            "warn",
            "2026-11-29T05:59:59.000000Z"
        )));
    }
}
