//! How the client verbs (`get`, `logs`, `trigger`, ...) reach a running stilt: find
//! the instance of the current project from its API record (or `--host`/`--port`),
//! then talk JSON to its HTTP API with hyper-util's client. Every failure is a
//! [`ClientError`] that says what to do about it.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use clap::Args;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::client::legacy::Client as Http;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::de::DeserializeOwned;

use crate::web::record;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error(
        "no stilt is running for {tiltfile} (start one with `stilt up`, or point at one with --port)"
    )]
    NotRunning { tiltfile: PathBuf },
    #[error(
        "no Tiltfile in {dir} or above it, so no project to ask (pass -f FILE, or --port of a running stilt)"
    )]
    NoProject { dir: PathBuf },
    #[error("no stilt answers on {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: hyper_util::client::legacy::Error,
    },
    #[error("{method} {path} failed: {status}: {message}")]
    Status {
        method: &'static str,
        path: String,
        status: u16,
        message: String,
    },
    #[error("reading the answer to {path}: {message}")]
    Body { path: String, message: String },
    #[error("bad request to {path}: {message}")]
    Request { path: String, message: String },
}

/// Which stilt to talk to (every client verb takes these).
#[derive(Debug, Args, Clone, Default)]
pub struct ConnectArgs {
    /// Host of the stilt to talk to (default: the one in the project's record, else 127.0.0.1).
    #[arg(long)]
    pub host: Option<String>,
    /// Port of the stilt to talk to [env: STILT_PORT, TILT_PORT] (default: the running
    /// instance of the project in this directory).
    #[arg(long)]
    pub port: Option<u16>,
    /// The project's Tiltfile (default: ./Tiltfile, or the nearest one above).
    #[arg(long = "file")]
    pub file: Option<PathBuf>,
}

/// Server-sent events as (event name, data); owns its connection.
pub type Events = std::pin::Pin<Box<dyn futures_util::Stream<Item = (String, String)> + Send>>;

/// A located instance.
pub struct Client {
    base: String,
    token: Option<String>,
    http: Http<HttpConnector, Full<Bytes>>,
}

impl Client {
    /// Finds the instance: `--port` (or the environment), else the project's record.
    pub fn locate(args: &ConnectArgs) -> Result<Client, ClientError> {
        let env_port = ["STILT_PORT", "TILT_PORT"]
            .iter()
            .find_map(|k| std::env::var(k).ok()?.parse::<u16>().ok());
        let (host, port, token) = match args.port.or(env_port) {
            Some(port) => {
                let host = args
                    .host
                    .clone()
                    .unwrap_or_else(|| crate::web::DEFAULT_HOST.into());
                (host, port, token_for_port(port))
            }
            None => {
                let tiltfile = find_tiltfile(args.file.as_deref())?;
                let dir = crate::instance::state_dir(&tiltfile);
                let rec = record::read(&dir).ok_or(ClientError::NotRunning { tiltfile })?;
                let host = args.host.clone().unwrap_or(rec.host);
                (host, rec.port, record::read_token(&dir).ok())
            }
        };
        Ok(Client::at(&host, port, token))
    }

    pub fn at(host: &str, port: u16, token: Option<String>) -> Client {
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        Client {
            base: format!("http://{host}:{port}"),
            token,
            http: Http::builder(TokioExecutor::new()).build_http(),
        }
    }

    async fn send(
        &self,
        method: &'static str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ClientError> {
        let bad = |message: String| ClientError::Request {
            path: path.to_owned(),
            message,
        };
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        if let Some(t) = &self.token {
            req = req.header("x-stilt-token", t);
        }
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let req = req
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| bad(e.to_string()))?;
        let resp = self
            .http
            .request(req)
            .await
            .map_err(|source| ClientError::Connect {
                addr: self.base.clone(),
                source,
            })?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        let status = resp.status().as_u16();
        let text = read_body(path, resp).await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or(text);
        Err(ClientError::Status {
            method,
            path: path.to_owned(),
            status,
            message,
        })
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let resp = self.send("GET", path, None).await?;
        let text = read_body(path, resp).await?;
        serde_json::from_str(&text).map_err(|e| ClientError::Body {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> Result<(), ClientError> {
        self.send("POST", path, Some(body)).await.map(|_| ())
    }

    /// The server-sent events of `/api/stream`, as (event, data) pairs.
    pub async fn events(&self) -> Result<Events, ClientError> {
        let resp = self.send("GET", "/api/stream", None).await?;
        let frames = resp.into_body().into_data_stream();
        let parsed = futures_util::stream::unfold(
            (frames, String::new(), Vec::<(String, String)>::new()),
            |(mut frames, mut buf, mut ready)| async move {
                loop {
                    if !ready.is_empty() {
                        let ev = ready.remove(0);
                        return Some((ev, (frames, buf, ready)));
                    }
                    let chunk = frames.next().await?.ok()?;
                    buf.push_str(&String::from_utf8_lossy(&chunk));
                    ready.extend(take_events(&mut buf));
                }
            },
        );
        Ok(Box::pin(parsed))
    }
}

async fn read_body(
    path: &str,
    resp: hyper::Response<hyper::body::Incoming>,
) -> Result<String, ClientError> {
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| ClientError::Body {
            path: path.to_owned(),
            message: e.to_string(),
        })?
        .to_bytes();
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Complete events at the front of `buf` (removed from it): SSE events end with a
/// blank line; `event:` names them, `data:` lines carry the payload.
pub fn take_events(buf: &mut String) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Some(end) = buf.find("\n\n") {
        let block: String = buf.drain(..end + 2).collect();
        let mut name = String::from("message");
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("event:") {
                name = v.trim_start().to_owned();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push(v.strip_prefix(' ').unwrap_or(v));
            }
        }
        if !data.is_empty() {
            out.push((name, data.join("\n")));
        }
    }
    out
}

/// `-f FILE`, or `Tiltfile` in the current directory or the nearest one above it.
fn find_tiltfile(file: Option<&Path>) -> Result<PathBuf, ClientError> {
    if let Some(f) = file {
        return Ok(f.to_path_buf());
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    cwd.ancestors()
        .map(|d| d.join("Tiltfile"))
        .find(|p| p.is_file())
        .ok_or(ClientError::NoProject { dir: cwd.clone() })
}

/// With `--port`, the token of the instance recorded with that port, if any.
fn token_for_port(port: u16) -> Option<String> {
    let root = crate::instance::state_dir(Path::new("/"))
        .parent()?
        .to_path_buf();
    std::fs::read_dir(root)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|dir| record::read(dir).is_some_and(|r| r.port == port))
        .and_then(|dir| record::read_token(&dir).ok())
}

/// Prints the error and gives the exit code of a failed client verb.
pub fn fail(e: &ClientError) -> i32 {
    eprintln!("Error: {e}");
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_split_at_blank_lines_and_partial_ones_wait() {
        let mut buf = String::from(
            "event: snapshot\ndata: {\"a\":1}\n\n: keep-alive\n\nevent: logs\ndata: x",
        );
        assert_eq!(
            take_events(&mut buf),
            [("snapshot".into(), "{\"a\":1}".into())]
        );
        buf.push_str("\n\n");
        assert_eq!(take_events(&mut buf), [("logs".into(), "x".into())]);
        assert!(buf.is_empty());
    }
}
