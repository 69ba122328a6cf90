//! A stand-in for stilt's API server that the page cannot tell apart: it serves the
//! real files of `ui/` and canned JSON (tests/fixtures/ui), keeps the page's event
//! stream open so a test can push snapshots and log lines when it wants, and records
//! every POST with its token. The page's own behaviour (rendering, filters, keys,
//! the requests it sends) is tested here without an engine; the real server is
//! tested in `real_stilt`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

pub const TOKEN: &str = "test-token-7f3a";

#[derive(Debug, Clone)]
pub struct Post {
    pub path: String,
    pub token: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    session: Mutex<String>,
    logs: Mutex<Vec<Value>>,
    posts: Mutex<Vec<Post>>,
    streams: Mutex<Vec<TcpStream>>,
    stop: AtomicBool,
}

pub struct FakeApi {
    pub port: u16,
    shared: Arc<Shared>,
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ui")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The canned session (tests/fixtures/ui/session.json).
pub fn session_fixture() -> Value {
    serde_json::from_str(&fixture("session.json")).expect("session.json")
}

impl FakeApi {
    pub fn start() -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let logs: Value = serde_json::from_str(&fixture("logs.json")).expect("logs.json");
        let shared = Arc::new(Shared::default());
        *shared.session.lock().unwrap() = session_fixture().to_string();
        *shared.logs.lock().unwrap() = logs["lines"].as_array().cloned().unwrap_or_default();
        listener.set_nonblocking(true).expect("nonblocking");
        let s = shared.clone();
        std::thread::spawn(move || {
            while !s.stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let s = s.clone();
                        std::thread::spawn(move || serve(conn, &s));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FakeApi { port, shared }
    }

    pub fn url(&self, hash: &str) -> String {
        format!("http://127.0.0.1:{}/{hash}", self.port)
    }

    pub fn posts(&self) -> Vec<Post> {
        self.shared.posts.lock().unwrap().clone()
    }

    /// How many pages hold the event stream open.
    pub fn streams(&self) -> usize {
        self.shared.streams.lock().unwrap().len()
    }

    /// Sends a new snapshot to every open stream (and serves it from now on).
    pub fn push_snapshot(&self, snapshot: &Value) {
        let text = snapshot.to_string();
        *self.shared.session.lock().unwrap() = text.clone();
        self.send("snapshot", &text);
    }

    pub fn push_logs(&self, lines: &[Value]) {
        self.send("logs", &serde_json::json!({ "lines": lines }).to_string());
    }

    fn send(&self, event: &str, data: &str) {
        let msg = format!("event: {event}\ndata: {data}\n\n");
        let mut streams = self.shared.streams.lock().unwrap();
        streams.retain_mut(|s| s.write_all(msg.as_bytes()).and_then(|()| s.flush()).is_ok());
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for s in self.shared.streams.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

struct Request {
    method: String,
    path: String,
    query: String,
    token: Option<String>,
    body: Vec<u8>,
}

fn read_request(conn: &TcpStream) -> Option<Request> {
    let mut r = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let (mut length, mut token) = (0usize, None);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        match k.to_ascii_lowercase().as_str() {
            "content-length" => length = v.trim().parse().ok()?,
            "x-stilt-token" => token = Some(v.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Request {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        token,
        body,
    })
}

fn respond(mut conn: TcpStream, status: &str, ty: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ty}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
}

fn serve(mut conn: TcpStream, s: &Shared) {
    let Some(req) = read_request(&conn) else {
        return;
    };
    let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("ui");
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/") => {
            let page = std::fs::read_to_string(ui.join("index.html")).expect("ui/index.html");
            let page = page.replace("{{STILT_TOKEN}}", TOKEN);
            respond(conn, "200 OK", "text/html; charset=utf-8", page.as_bytes());
        }
        ("GET", p) if p.starts_with("/static/") => {
            let name = &p["/static/".len()..];
            let ty = match name.rsplit('.').next() {
                Some("js") => "text/javascript",
                Some("css") => "text/css",
                Some("svg") => "image/svg+xml",
                _ => "application/octet-stream",
            };
            match std::fs::read(ui.join(name)) {
                Ok(body) if !name.contains('/') => respond(conn, "200 OK", ty, &body),
                _ => respond(conn, "404 Not Found", "text/plain", b"no such file"),
            }
        }
        ("GET", "/api/session") => {
            let body = s.session.lock().unwrap().clone();
            respond(conn, "200 OK", "application/json", body.as_bytes());
        }
        ("GET", "/api/logs") => {
            let since: i64 = req
                .query
                .split('&')
                .find_map(|kv| kv.strip_prefix("since_seq="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(-1);
            let lines: Vec<Value> = s
                .logs
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l["seq"].as_i64().is_some_and(|q| q > since))
                .cloned()
                .collect();
            let body = serde_json::json!({ "lines": lines }).to_string();
            respond(conn, "200 OK", "application/json", body.as_bytes());
        }
        ("GET", "/api/stream") => {
            let first = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n\
                 event: snapshot\ndata: {}\n\n",
                s.session.lock().unwrap()
            );
            if conn.write_all(first.as_bytes()).is_ok() {
                s.streams.lock().unwrap().push(conn);
            }
        }
        ("POST", path) => {
            let body = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            s.posts.lock().unwrap().push(Post {
                path: path.to_owned(),
                token: req.token,
                body,
            });
            respond(conn, "200 OK", "application/json", br#"{"ok":true}"#);
        }
        _ => {
            let _ = conn.flush();
            respond(conn, "404 Not Found", "text/plain", b"not found");
        }
    }
}
