//! Helpers for tests that drive the real `stilt` binary: output capture, a running
//! `stilt up`, a tiny HTTP client and polling.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Stdout and stderr of a child, collected by two threads.
#[derive(Clone)]
pub struct Output(Arc<Mutex<String>>);

impl Output {
    pub fn capture(child: &mut Child) -> Output {
        let buf = Output(Arc::new(Mutex::new(String::new())));
        let readers: Vec<Box<dyn Read + Send>> = vec![
            Box::new(child.stdout.take().expect("stdout")),
            Box::new(child.stderr.take().expect("stderr")),
        ];
        for mut r in readers {
            let b = buf.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = r.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    let text = String::from_utf8_lossy(&chunk[..n]).into_owned();
                    b.0.lock().expect("lock").push_str(&text);
                }
            });
        }
        buf
    }

    pub fn text(&self) -> String {
        self.0.lock().expect("lock").clone()
    }
}

pub struct Up {
    pub child: Child,
    pub out: Output,
}

impl Up {
    /// Waits until the output contains `needle` (after `from` bytes); returns where it ends.
    pub fn wait_for(&self, needle: &str, from: usize, limit: Duration) -> usize {
        let start = Instant::now();
        loop {
            let text = self.out.text();
            if let Some(i) = text.get(from..).and_then(|t| t.find(needle)) {
                return from + i + needle.len();
            }
            assert!(
                start.elapsed() < limit,
                "no {needle:?} within {limit:?}; output:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn stop(mut self) -> String {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        std::thread::sleep(Duration::from_millis(50));
        self.out.text()
    }
}

/// A test that fails while `stilt up` runs must not leave it running.
impl Drop for Up {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The body of `GET /` on localhost:port (plain HTTP/1.0, no client crate needed).
pub fn http_get(port: u16) -> String {
    use std::io::Write;
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub fn poll(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// Runs `cmd` to completion with its output captured (killed after `limit`, which
/// fails the test).
pub fn run_to_end(mut cmd: Command, limit: Duration) -> (i32, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stilt");
    let out = Output::capture(&mut child);
    let start = Instant::now();
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            std::thread::sleep(Duration::from_millis(50));
            return (st.code().unwrap_or(-1), out.text());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{cmd:?} did not exit within {limit:?}:\n{}", out.text());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `cmd` (a `stilt up`) with its output captured.
pub fn start_up(mut cmd: Command) -> Up {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stilt up");
    let out = Output::capture(&mut child);
    Up { child, out }
}
