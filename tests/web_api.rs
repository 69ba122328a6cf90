//! The HTTP API's handlers over a hand-made snapshot, without a running engine:
//! JSON shapes (compared with golden files in `fixtures/web/`; regenerate with
//! `STILT_REGENERATE_GOLDEN=1`), the Host and token checks, the body size cap, and
//! that each write becomes exactly the intent it names.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use stilt::model::{ResourceName, TriggerMode};
use stilt::store::Intent;
use stilt::store::view::{ResourceView, RunView, RuntimeStatus, Snapshot, UpdateStatus};
use stilt::web::api::{LogLineJson, SessionInfo};
use stilt::web::guard::HostRule;
use stilt::web::logs::LogHistory;
use stilt::web::routes::{Shared, router};
use tokio::sync::{broadcast, mpsc, watch};
use tower::ServiceExt;

const TOKEN: &str = "0123456789abcdef";
const HOST: &str = "localhost:10350";

fn t(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_933_876 + secs)
}

fn resource(name: &str) -> ResourceView {
    ResourceView {
        name: name.into(),
        kind: "local".into(),
        labels: vec![],
        update: UpdateStatus::Ok,
        runtime: RuntimeStatus::NotApplicable,
        last_run: Some(RunView {
            reason: "initial run".into(),
            started: t(0),
            took: Some(Duration::from_millis(1200)),
            error: None,
        }),
        earlier_runs: Vec::new(),
        container: None,
        hold: None,
        error: None,
        endpoints: vec![],
        disabled: false,
        trigger_mode: TriggerMode::Auto,
    }
}

/// Three resources: one ok with a link and labels, one failed, one waiting (manual).
fn snapshot() -> Snapshot {
    let web = ResourceView {
        labels: vec!["frontend".into()],
        runtime: RuntimeStatus::Ok,
        endpoints: vec!["http://localhost:8000 (web)".into()],
        kind: "docker-compose".into(),
        container: Some("0123456789ab".into()),
        ..resource("web")
    };
    let api = ResourceView {
        update: UpdateStatus::Error,
        error: Some("exit status 2".into()),
        last_run: Some(RunView {
            reason: "2 files changed: api/main.py, api/db.py".into(),
            started: t(30),
            took: Some(Duration::from_millis(450)),
            error: Some("exit status 2".into()),
        }),
        earlier_runs: vec![RunView {
            reason: "initial run".into(),
            started: t(0),
            took: Some(Duration::from_millis(1200)),
            error: None,
        }],
        container: Some("pid 4242".into()),
        ..resource("api")
    };
    let worker = ResourceView {
        update: UpdateStatus::Pending,
        hold: Some("waiting on api".into()),
        last_run: None,
        trigger_mode: TriggerMode::Manual,
        ..resource("worker")
    };
    Snapshot {
        resources: vec![web, api, worker],
        ..Snapshot::default()
    }
}

struct Fixture {
    app: axum::Router,
    intents: mpsc::UnboundedReceiver<Intent>,
    _snapshots: watch::Sender<Arc<Snapshot>>,
}

impl Fixture {
    fn new() -> Fixture {
        let (stx, srx) = watch::channel(Arc::new(snapshot()));
        let (itx, irx) = mpsc::unbounded_channel();
        let mut history = LogHistory::default();
        for (seq, resource, text) in [
            (1, None, "Loading Tiltfile"),
            (2, Some("web"), "listening"),
            (3, Some("api"), "Traceback"),
        ] {
            history.push(LogLineJson {
                seq,
                resource: resource.map(str::to_owned),
                source: if resource.is_some() {
                    "runtime"
                } else {
                    "tiltfile"
                }
                .into(),
                level: "info".into(),
                time: "2026-11-29T06:31:16.000000Z".into(),
                text: text.into(),
            });
        }
        let shared = Shared {
            snapshots: srx,
            logs: Arc::new(Mutex::new(history)),
            new_logs: broadcast::channel(16).0,
            intents: itx,
            token: TOKEN.into(),
            hosts: HostRule::new("127.0.0.1", 10350),
            info: SessionInfo {
                tiltfile: "/p/Tiltfile".into(),
                started: t(0),
                pid: 4242,
                mode: "up".into(),
            },
        };
        Fixture {
            app: router(shared),
            intents: irx,
            _snapshots: stx,
        }
    }

    async fn call(&self, req: Request<Body>) -> (StatusCode, String) {
        let resp = self.app.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    async fn get(&self, uri: &str) -> (StatusCode, String) {
        self.call(
            Request::get(uri)
                .header("host", HOST)
                .body(Body::empty())
                .expect("req"),
        )
        .await
    }

    async fn post(&self, uri: &str, token: Option<&str>, body: &str) -> (StatusCode, String) {
        let mut req = Request::post(uri)
            .header("host", HOST)
            .header("content-type", "application/json");
        if let Some(tok) = token {
            req = req.header("x-stilt-token", tok);
        }
        self.call(req.body(Body::from(body.to_owned())).expect("req"))
            .await
    }

    fn sent(&mut self) -> Vec<Intent> {
        let mut out = Vec::new();
        while let Ok(i) = self.intents.try_recv() {
            out.push(i);
        }
        out
    }
}

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/web")
}

/// Compares pretty-printed JSON with `fixtures/web/NAME.json`.
fn check_golden(name: &str, body: &str) {
    let value: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {body}"));
    let got = serde_json::to_string_pretty(&value).expect("pretty") + "\n";
    let path = golden_dir().join(format!("{name}.json"));
    if std::env::var_os("STILT_REGENERATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing {}: run with STILT_REGENERATE_GOLDEN=1",
            path.display()
        )
    });
    assert_eq!(got, want, "{name}: JSON differs from {}", path.display());
}

#[tokio::test]
async fn session_json_has_tilt_uiresource_field_names() {
    let f = Fixture::new();
    let (status, body) = f.get("/api/session").await;
    assert_eq!(status, StatusCode::OK);
    check_golden(
        "session",
        &body.replace(env!("CARGO_PKG_VERSION"), "<version>"),
    );
}

#[tokio::test]
async fn one_resource_by_name_and_a_json_404_for_an_unknown_one() {
    let f = Fixture::new();
    let (status, body) = f.get("/api/resources/api").await;
    assert_eq!(status, StatusCode::OK);
    check_golden("resource_api", &body);
    let (status, body) = f.get("/api/resources/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, r#"{"error":"no resource named \"nope\""}"#);
}

#[tokio::test]
async fn logs_filter_by_resource_and_sequence() {
    let f = Fixture::new();
    let (status, body) = f.get("/api/logs?resource=web").await;
    assert_eq!(status, StatusCode::OK);
    check_golden("logs_web", &body);
    let (_, body) = f.get("/api/logs?since_seq=2").await;
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["lines"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["lines"][0]["text"], "Traceback");
    assert_eq!(v["nextSeq"], 3);
}

#[tokio::test]
async fn a_foreign_host_header_is_refused_naming_the_rule() {
    let f = Fixture::new();
    for host in ["evil.example:10350", "localhost:9999"] {
        let req = Request::get("/api/session")
            .header("host", host)
            .body(Body::empty())
            .expect("req");
        let (status, body) = f.call(req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{host}");
        assert!(body.contains("DNS rebinding"), "{body}");
    }
    let (status, _) = f
        .call(Request::get("/").body(Body::empty()).expect("req"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no Host header");
}

#[tokio::test]
async fn writes_without_the_right_token_are_refused_and_send_nothing() {
    let mut f = Fixture::new();
    let body = r#"{"resource":"web"}"#;
    for token in [None, Some("wrong")] {
        let (status, answer) = f.post("/api/trigger", token, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(answer.contains("X-Stilt-Token"), "{answer}");
    }
    assert_eq!(f.sent(), []);
    let (status, answer) = f.post("/api/trigger", Some(TOKEN), body).await;
    assert_eq!(
        (status, answer.as_str()),
        (StatusCode::OK, r#"{"ok":true}"#)
    );
    assert_eq!(
        f.sent(),
        [Intent::Trigger {
            resource: ResourceName::from("web")
        }]
    );
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused_with_413() {
    let mut f = Fixture::new();
    let big = format!(r#"{{"args":["{}"]}}"#, "x".repeat(70 * 1024));
    let (status, body) = f.post("/api/args", Some(TOKEN), &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.starts_with(r#"{"error":"#), "{body}");
    assert_eq!(f.sent(), []);
    let (status, _) = f
        .post("/api/args", Some(TOKEN), r#"{"args":["--port","9000"]}"#)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        f.sent(),
        [Intent::SetArgs {
            args: vec!["--port".into(), "9000".into()]
        }]
    );
}

#[tokio::test]
async fn enable_and_trigger_mode_become_intents_and_unknown_names_send_none() {
    let mut f = Fixture::new();
    let (status, _) = f
        .post(
            "/api/enable",
            Some(TOKEN),
            r#"{"resources":["web","api"],"enabled":false}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let off = |n: &str| Intent::SetEnabled {
        resource: ResourceName::from(n),
        enabled: false,
    };
    assert_eq!(f.sent(), [off("web"), off("api")]);
    let (status, _) = f
        .post(
            "/api/enable",
            Some(TOKEN),
            r#"{"resources":["web","nope"],"enabled":true}"#,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(f.sent(), []);
    let (status, _) = f
        .post(
            "/api/trigger-mode",
            Some(TOKEN),
            r#"{"resource":"web","mode":"manual"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        f.sent(),
        [Intent::SetTriggerMode {
            resource: ResourceName::from("web"),
            mode: TriggerMode::Manual
        }]
    );
    let (status, body) = f
        .post(
            "/api/trigger-mode",
            Some(TOKEN),
            r#"{"resource":"web","mode":"sometimes"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("auto"), "{body}");
    let (status, _) = f.post("/api/trigger", Some(TOKEN), "not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_page_carries_the_token_and_no_cors_header_is_sent() {
    let f = Fixture::new();
    let req = Request::get("/")
        .header("host", HOST)
        .header("origin", "http://evil.example")
        .body(Body::empty())
        .expect("req");
    let resp = f.app.clone().oneshot(req).await.expect("infallible");
    assert!(resp.headers().get("access-control-allow-origin").is_none());
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let page = String::from_utf8_lossy(&body);
    assert!(
        page.contains(&format!(r#"<meta name="stilt-token" content="{TOKEN}">"#)),
        "{page}"
    );
    assert!(!page.contains("{{STILT_TOKEN}}"));
    let (status, _) = f.get("/static/style.css").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f.get("/static/nope.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_stream_starts_with_a_snapshot_event() {
    let f = Fixture::new();
    let req = Request::get("/api/stream")
        .header("host", HOST)
        .body(Body::empty())
        .expect("req");
    let resp = f.app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(
        resp.headers().get("content-type").map(|v| v.as_bytes()),
        Some(&b"text/event-stream"[..])
    );
    let mut body = resp.into_body();
    let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("an event within 5 s")
        .expect("a frame")
        .expect("no error");
    let text = String::from_utf8_lossy(frame.data_ref().expect("data")).into_owned();
    assert!(
        text.starts_with("event: snapshot\ndata: {\"session\":"),
        "{text}"
    );
    assert!(
        text.contains("\"uiResources\":[{\"metadata\":{\"name\":\"web\""),
        "{text}"
    );
}
