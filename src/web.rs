//! The local HTTP API and dashboard server of `stilt up` / `stilt ci`.
//!
//! It is one more reader of the engine: it subscribes to the snapshot publisher
//! ([`crate::views::publish`]) like the terminal UI, keeps a bounded log history for
//! `/api/logs`, pushes snapshots and log lines to `/api/stream` clients as they come
//! (no client polls the engine), and turns writes into [`crate::store::Intent`]s on
//! the engine's inbox. Security is in [`guard`]: a Host check on every request and a
//! per-instance token on every write; the server binds to loopback unless told
//! otherwise. [`record`] lets client verbs find the instance of their project.

pub mod api;
pub mod assets;
pub mod guard;
pub mod logs;
pub mod record;
pub mod routes;
pub mod time;
pub mod view;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use self::api::SessionInfo;
use self::logs::{LogHistory, log_json};
use self::routes::{Shared, router};
use crate::store::Intent;
use crate::views::publish::{Feed, Subscriptions};

pub const DEFAULT_PORT: u16 = 10350;
pub const DEFAULT_HOST: &str = "127.0.0.1";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    #[error("cannot serve the API on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// Where to serve; `port` is never 0 here (0 disables the server before this).
#[derive(Debug, Clone)]
pub struct WebOptions {
    pub host: String,
    pub port: u16,
    /// The port was chosen by the user (flag or environment): taken means fail,
    /// where the default port taken means pick a free one and say so.
    pub explicit_port: bool,
    /// The project's state directory, where the API record goes (`None`: no record).
    pub record_dir: Option<PathBuf>,
}

/// A running server; stopping it (or dropping it) ends it and removes its record.
pub struct Server {
    pub addr: SocketAddr,
    pub token: String,
    /// Lines for the user: the port moved, a non-loopback bind.
    pub notes: Vec<String>,
    tasks: Vec<JoinHandle<()>>,
    record_dir: Option<PathBuf>,
}

impl Server {
    pub fn url(&self) -> String {
        let host = match self.addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => "localhost".to_owned(),
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        };
        format!("http://{host}:{}/", self.addr.port())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Some(dir) = &self.record_dir {
            record::remove(dir);
        }
    }
}

/// Binds, records the instance and serves until the [`Server`] is dropped.
pub async fn start(
    opts: WebOptions,
    subs: &Subscriptions,
    intents: mpsc::UnboundedSender<Intent>,
    info: SessionInfo,
) -> Result<Server, WebError> {
    let (listener, mut notes) = bind(&opts).await?;
    let addr = listener.local_addr().map_err(|source| WebError::Bind {
        addr: format!("{}:{}", opts.host, opts.port),
        source,
    })?;
    if !guard::is_loopback(opts.host.trim_matches(['[', ']'])) {
        notes.push(format!(
            "Warning: serving the API on {}, which is not a loopback address: anyone who \
             can reach it can read logs and state",
            opts.host
        ));
    }
    let token = record::new_token();
    let (shared, pump) = shared(
        subs.subscribe(),
        intents,
        token.clone(),
        &opts.host,
        addr.port(),
        info.clone(),
    );
    let app = router(shared);
    let serve = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    if let Some(dir) = &opts.record_dir {
        let rec = record::Record {
            pid: std::process::id(),
            host: opts.host.clone(),
            port: addr.port(),
            tiltfile: info.tiltfile.clone(),
        };
        if let Err(e) = record::write(dir, &rec, &token) {
            notes.push(format!("Warning: {e}; client verbs will need --port"));
        }
    }
    Ok(Server {
        addr,
        token,
        notes,
        tasks: vec![serve, pump],
        record_dir: opts.record_dir,
    })
}

async fn bind(opts: &WebOptions) -> Result<(tokio::net::TcpListener, Vec<String>), WebError> {
    let host = opts.host.trim_matches(['[', ']']).to_owned();
    let err = |port: u16| {
        let addr = format!("{}:{port}", opts.host);
        move |source| WebError::Bind { addr, source }
    };
    match tokio::net::TcpListener::bind((host.as_str(), opts.port)).await {
        Ok(l) => Ok((l, Vec::new())),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && !opts.explicit_port => {
            let l = tokio::net::TcpListener::bind((host.as_str(), 0))
                .await
                .map_err(err(0))?;
            let port = l.local_addr().map(|a| a.port()).unwrap_or(0);
            let note = format!(
                "Port {} is taken (another stilt or Tilt?); serving the API on port {port} instead",
                opts.port
            );
            Ok((l, vec![note]))
        }
        Err(e) => Err(err(opts.port)(e)),
    }
}

/// The handlers' shared state and the task that feeds the log history from `feed`.
pub fn shared(
    mut feed: Feed,
    intents: mpsc::UnboundedSender<Intent>,
    token: String,
    host: &str,
    port: u16,
    info: SessionInfo,
) -> (Shared, JoinHandle<()>) {
    let history = Arc::new(Mutex::new(LogHistory::default()));
    let (new_logs, _) = broadcast::channel(1024);
    let shared = Shared {
        snapshots: feed.snapshots.clone(),
        logs: history.clone(),
        new_logs: new_logs.clone(),
        intents,
        token,
        hosts: guard::HostRule::new(host, port),
        info,
    };
    let mut rx = feed.logs.take();
    let in_flight = feed.in_flight.clone();
    let pump = tokio::spawn(async move {
        let Some(rx) = rx.as_mut() else { return };
        while let Some(batch) = rx.recv().await {
            in_flight.fetch_sub(batch.len(), Ordering::SeqCst);
            let now = SystemTime::now();
            let lines: Vec<_> = batch.iter().map(|e| log_json(e, now)).collect();
            {
                let mut h = history.lock().unwrap_or_else(|e| e.into_inner());
                for l in &lines {
                    h.push(l.clone());
                }
            }
            // No SSE client listening is fine.
            let _ = new_logs.send(Arc::new(lines));
        }
    });
    (shared, pump)
}
