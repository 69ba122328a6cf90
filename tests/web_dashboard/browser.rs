//! A headless Chromium driven through chromedriver (Debian's `chromium` and
//! `chromium-driver`) over WebDriver with fantoccini.
//!
//! chromedriver starts in a process group of its own, and Chromium inherits it, so
//! dropping a [`Browser`] (a passing test, or a failing one) ends both by that group's
//! id: no browser is left behind.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::cli_support::{free_port, poll};

pub struct Browser {
    pub client: Client,
    driver: Child,
}

/// Where a program is on the PATH.
fn which(name: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

impl Browser {
    /// A fresh headless browser, or `None` (after saying so) when
    /// `STILT_TEST_BROWSER=0`. A missing chromedriver fails the test: CI installs it.
    pub async fn start() -> Option<Browser> {
        if std::env::var("STILT_TEST_BROWSER").is_ok_and(|v| v == "0") {
            println!("skipped: STILT_TEST_BROWSER=0");
            return None;
        }
        let driver_bin = which("chromedriver").unwrap_or_else(|| {
            panic!(
                "chromedriver is not on the PATH: install Debian's chromium and chromium-driver \
                 (.ci/run does), or set STILT_TEST_BROWSER=0 to skip the browser tests"
            )
        });
        let port = free_port();
        let mut cmd = Command::new(driver_bin);
        cmd.arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let driver = cmd.spawn().expect("start chromedriver");
        let mut browser = Browser {
            client: connect(port).await,
            driver,
        };
        browser.resize().await;
        Some(browser)
    }

    async fn resize(&mut self) {
        self.client
            .set_window_size(1280, 900)
            .await
            .expect("set window size");
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("open the page");
    }

    /// Runs `script` (a function body) in the page and returns its value.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until the expression is truthy in the page; fails with `what` and the
    /// expression's last value otherwise.
    pub async fn until(&self, what: &str, expr: &str, limit: Duration) -> Value {
        let start = Instant::now();
        let script = format!("return ({expr});");
        loop {
            let v = self.js(&script).await;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return v;
            }
            if start.elapsed() > limit {
                let page = self.js("return document.body.innerText;").await;
                panic!("{what}: not within {limit:?} ({expr} = {v})\npage:\n{page}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let el = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        el.click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    pub async fn select(&self, css: &str, value: &str) {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"));
        el.select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    /// Closes the session (Chromium exits); the group kill in `Drop` covers the rest.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

async fn connect(port: u16) -> Client {
    let up = poll(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    assert!(up, "chromedriver did not listen on port {port} within 10 s");
    let mut args = vec![
        "--headless=new",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--window-size=1280,900",
    ];
    // CI runs as root, where Chromium's sandbox cannot start.
    let root =
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").expect("/proc/self"))
            == 0;
    if root {
        args.push("--no-sandbox");
    }
    let mut options = json!({ "args": args });
    if let Some(bin) = which("chromium") {
        options["binary"] = json!(bin);
    }
    let caps = json!({ "goog:chromeOptions": options });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_or_else(|e| panic!("WebDriver session with headless Chromium: {e}"))
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(self.driver.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(3) {
            if let Ok(Some(_)) = self.driver.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.driver.wait();
    }
}
