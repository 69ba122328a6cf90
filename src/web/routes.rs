//! The HTTP routes (the contract the dashboard and the client verbs rely on; see
//! `docs/web.md`). Reads answer from the latest snapshot and the log history;
//! writes only ever send an [`Intent`] to the engine.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc, watch};

use super::api::{LogLineJson, SessionInfo, session_json, ui_resource};
use super::assets;
use super::guard::{HostRule, check_token};
use super::logs::{LogHistory, LogQuery};
use crate::model::{ResourceName, TriggerMode};
use crate::store::Intent;
use crate::store::view::Snapshot;

/// Largest request body accepted (413 above).
pub const MAX_BODY: usize = 64 * 1024;

/// What every handler reads.
#[derive(Clone)]
pub struct Shared {
    pub snapshots: watch::Receiver<std::sync::Arc<Snapshot>>,
    pub logs: Arc<Mutex<LogHistory>>,
    pub new_logs: broadcast::Sender<Arc<Vec<LogLineJson>>>,
    pub intents: mpsc::UnboundedSender<Intent>,
    pub token: String,
    pub hosts: HostRule,
    pub info: SessionInfo,
}

pub fn router(shared: Shared) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/static/{file}", get(static_file))
        .route("/api/session", get(session))
        .route("/api/resources/{name}", get(resource))
        .route("/api/logs", get(logs))
        .route("/api/stream", get(stream))
        .route("/api/trigger", post(trigger))
        .route("/api/enable", post(enable))
        .route("/api/trigger-mode", post(trigger_mode))
        .route("/api/args", post(args))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// A JSON error answer: `{"error": "..."}`.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

/// The Host check on every request, the token check on every write.
async fn guard(State(s): State<Shared>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if let Err(e) = s.hosts.check(host) {
        return ApiError(StatusCode::FORBIDDEN, e.to_string()).into_response();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let token = req
            .headers()
            .get("x-stilt-token")
            .and_then(|h| h.to_str().ok());
        if let Err(e) = check_token(&s.token, token) {
            return ApiError(StatusCode::FORBIDDEN, e.to_string()).into_response();
        }
    }
    next.run(req).await
}

async fn index(State(s): State<Shared>) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        // The page holds the token: never cache it, never frame it.
        (header::CACHE_CONTROL, "no-store"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    (headers, assets::index(&s.token)).into_response()
}

async fn static_file(Path(file): Path<String>) -> Response {
    match assets::file(&file).filter(|_| file != "index.html") {
        Some((ty, body)) => ([(header::CONTENT_TYPE, ty)], body).into_response(),
        None => ApiError(StatusCode::NOT_FOUND, format!("no file {file:?}")).into_response(),
    }
}

fn current(s: &Shared) -> Arc<Snapshot> {
    s.snapshots.borrow().clone()
}

async fn session(State(s): State<Shared>) -> Response {
    Json(session_json(&current(&s), &s.info)).into_response()
}

async fn resource(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    let snap = current(&s);
    match snap.resources.iter().find(|r| r.name == name) {
        Some(r) => Json(ui_resource(r)).into_response(),
        None => unknown(&name).into_response(),
    }
}

fn unknown(name: &str) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("no resource named {name:?}"))
}

async fn logs(State(s): State<Shared>, Query(q): Query<LogQuery>) -> Response {
    let answer = s.logs.lock().unwrap_or_else(|e| e.into_inner()).query(&q);
    Json(answer).into_response()
}

/// SSE: the snapshot on connect and on each change, new log lines as they come.
async fn stream(State(s): State<Shared>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut snaps = s.snapshots.clone();
    snaps.mark_changed();
    let start = (snaps, s.new_logs.subscribe(), s.info.clone());
    let events = futures_util::stream::unfold(start, |(mut snaps, mut logs, info)| async move {
        let event = tokio::select! {
            changed = snaps.changed() => {
                changed.ok()?;
                let snap = snaps.borrow_and_update().clone();
                json_event("snapshot", &session_json(&snap, &info))
            }
            lines = logs.recv() => match lines {
                Ok(lines) => json_event("logs", &serde_json::json!({ "lines": &*lines })),
                Err(broadcast::error::RecvError::Lagged(n)) => json_event(
                    "logs",
                    &serde_json::json!({ "lines": [], "dropped": n }),
                ),
                Err(broadcast::error::RecvError::Closed) => return None,
            },
        };
        Some((Ok(event), (snaps, logs, info)))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

fn json_event(name: &str, body: &impl serde::Serialize) -> Event {
    Event::default()
        .event(name)
        .data(serde_json::to_string(body).unwrap_or_default())
}

/// Reads a JSON body, turning a too-large or malformed one into a JSON error.
fn body<T: for<'de> Deserialize<'de>>(raw: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let raw = raw.map_err(|e| ApiError(e.status(), e.body_text()))?;
    serde_json::from_slice(&raw)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("bad request body: {e}")))
}

fn ok() -> Response {
    Json(serde_json::json!({ "ok": true })).into_response()
}

fn send(s: &Shared, intent: Intent) -> Result<Response, ApiError> {
    s.intents.send(intent).map(|()| ok()).map_err(|_| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the engine is stopping".into(),
        )
    })
}

/// A resource the current snapshot has, or 404.
fn known(s: &Shared, name: &str) -> Result<ResourceName, ApiError> {
    let snap = current(s);
    if snap.resources.iter().any(|r| r.name == name) {
        Ok(ResourceName::from(name))
    } else {
        Err(unknown(name))
    }
}

#[derive(Deserialize)]
struct TriggerBody {
    resource: String,
}

async fn trigger(
    State(s): State<Shared>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let b: TriggerBody = body(raw)?;
    let resource = known(&s, &b.resource)?;
    send(&s, Intent::Trigger { resource })
}

#[derive(Deserialize)]
struct EnableBody {
    resources: Vec<String>,
    enabled: bool,
}

async fn enable(
    State(s): State<Shared>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let b: EnableBody = body(raw)?;
    let names = b
        .resources
        .iter()
        .map(|n| known(&s, n))
        .collect::<Result<Vec<_>, _>>()?;
    for resource in names {
        send(
            &s,
            Intent::SetEnabled {
                resource,
                enabled: b.enabled,
            },
        )?;
    }
    Ok(ok())
}

#[derive(Deserialize)]
struct TriggerModeBody {
    resource: String,
    mode: String,
}

async fn trigger_mode(
    State(s): State<Shared>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let b: TriggerModeBody = body(raw)?;
    let mode = match b.mode.as_str() {
        "auto" => TriggerMode::Auto,
        "manual" => TriggerMode::Manual,
        other => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                format!("mode must be \"auto\" or \"manual\", not {other:?}"),
            ));
        }
    };
    let resource = known(&s, &b.resource)?;
    send(&s, Intent::SetTriggerMode { resource, mode })
}

#[derive(Deserialize)]
struct ArgsBody {
    args: Vec<String>,
}

async fn args(
    State(s): State<Shared>,
    raw: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let b: ArgsBody = body(raw)?;
    send(&s, Intent::SetArgs { args: b.args })
}
