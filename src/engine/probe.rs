//! Readiness probes for `serve_cmd`: exec, HTTP GET and TCP, with Tilt's thresholds.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::model::{Probe, ProbeAction, ResourceName};
use crate::store::Action;

/// Counts consecutive results and says when readiness flips. Pure.
#[derive(Debug, Default)]
pub struct Thresholds {
    ready: bool,
    successes: u32,
    failures: u32,
}

impl Thresholds {
    /// Records one result; returns the new readiness when it changed.
    pub fn record(
        &mut self,
        ok: bool,
        success_threshold: u32,
        failure_threshold: u32,
    ) -> Option<bool> {
        if ok {
            self.successes += 1;
            self.failures = 0;
            if !self.ready && self.successes >= success_threshold {
                self.ready = true;
                return Some(true);
            }
        } else {
            self.failures += 1;
            self.successes = 0;
            if self.ready && self.failures >= failure_threshold {
                self.ready = false;
                return Some(false);
            }
        }
        None
    }
}

pub async fn run(
    name: ResourceName,
    generation: u64,
    probe: Probe,
    tx: mpsc::UnboundedSender<Action>,
) {
    tokio::time::sleep(probe.initial_delay).await;
    let mut t = Thresholds::default();
    loop {
        let ok = matches!(
            tokio::time::timeout(probe.timeout, check(&probe.action)).await,
            Ok(true)
        );
        if let Some(ready) = t.record(ok, probe.success_threshold, probe.failure_threshold) {
            let sent = tx.send(Action::ProbeResult {
                resource: name.clone(),
                generation,
                ready,
            });
            if sent.is_err() {
                return;
            }
        }
        tokio::time::sleep(probe.period).await;
    }
}

async fn check(action: &ProbeAction) -> bool {
    match action {
        ProbeAction::TcpSocket { host, port } => {
            TcpStream::connect((host.as_str(), *port)).await.is_ok()
        }
        ProbeAction::HttpGet {
            host, port, path, ..
        } => http_ok(host, *port, path).await,
        ProbeAction::Exec { command } => exec_ok(command).await,
    }
}

async fn exec_ok(command: &[String]) -> bool {
    let Some((program, args)) = command.split_first() else {
        return false;
    };
    let status = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .status()
        .await;
    status.is_ok_and(|s| s.success())
}

/// Most of a response the probe reads to close cleanly; past it, it closes anyway.
const DRAIN_LIMIT: usize = 1 << 20;

/// A minimal HTTP/1.0 GET: success is a 2xx or 3xx status line, as in Kubernetes.
/// The response is read to its end (the server closes an HTTP/1.0 connection) before
/// the probe closes: closing with unread data makes the kernel reset the connection,
/// and servers log a "connection reset" traceback for every probe.
async fn http_ok(host: &str, port: u16, path: &str) -> bool {
    let Ok(mut s) = TcpStream::connect((host, port)).await else {
        return false;
    };
    let req = format!(
        "GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\nUser-Agent: stilt-probe\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 64];
    let mut n = 0;
    while n < 12 {
        match s.read(&mut head[n..]).await {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    let ok = status_ok(&head[..n]);
    let mut rest = [0u8; 8192];
    let mut read = n;
    while read < DRAIN_LIMIT {
        match s.read(&mut rest).await {
            Ok(0) | Err(_) => break,
            Ok(k) => read += k,
        }
    }
    let _ = s.shutdown().await;
    ok
}

fn status_ok(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok());
    matches!(code, Some(200..=399))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_needs_success_threshold_in_a_row() {
        let mut t = Thresholds::default();
        assert_eq!(t.record(true, 2, 3), None);
        assert_eq!(t.record(false, 2, 3), None);
        assert_eq!(t.record(true, 2, 3), None);
        assert_eq!(t.record(true, 2, 3), Some(true));
    }

    #[test]
    fn readiness_is_lost_after_failure_threshold_in_a_row() {
        let mut t = Thresholds::default();
        t.record(true, 1, 2);
        assert_eq!(t.record(false, 1, 2), None);
        assert_eq!(t.record(false, 1, 2), Some(false));
        assert_eq!(t.record(true, 1, 2), Some(true));
    }

    #[tokio::test]
    async fn the_http_probe_reads_the_whole_response_so_the_server_sees_no_reset() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.expect("accept");
            let mut req = [0u8; 512];
            let _ = conn.read(&mut req).await;
            let body = vec![b'x'; 256 * 1024];
            let head = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
            conn.write_all(head.as_bytes()).await?;
            // Written in pieces, as a server does: a client that closed early makes
            // a later write fail with "connection reset" or "broken pipe".
            for chunk in body.chunks(16 * 1024) {
                conn.write_all(chunk).await?;
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            conn.shutdown().await
        });
        assert!(http_ok("127.0.0.1", port, "/").await);
        let served = server.await.expect("server task");
        assert!(served.is_ok(), "the server saw {served:?}");
    }

    #[test]
    fn http_status_2xx_and_3xx_pass() {
        assert!(status_ok(b"HTTP/1.1 200 OK\r\n"));
        assert!(status_ok(b"HTTP/1.0 302 Found"));
        assert!(!status_ok(b"HTTP/1.1 500 Oops"));
        assert!(!status_ok(b"garbage"));
    }
}
