//! `NotifyWatch` against real inotify in a temp dir. Waits are generous (seconds)
//! and only bound how long a failure takes; nothing asserts on speed.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::time::timeout;

use super::{FileWatch, NotifyWatch, WatchConfig, WatchEvent};

const WAIT: Duration = Duration::from_secs(10);

/// Owns the temp dir, the watcher and its event channel.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    watch: NotifyWatch,
    rx: UnboundedReceiver<WatchEvent>,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let (tx, rx) = unbounded_channel();
        Self {
            _dir: dir,
            root,
            watch: NotifyWatch::new(tx),
            rx,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn mkdir(&self, rel: &str) {
        fs::create_dir_all(self.path(rel)).unwrap();
    }

    fn cfg(&self, roots: &[&str]) -> WatchConfig {
        WatchConfig {
            roots: roots.iter().map(|r| self.path(r)).collect(),
            base_dir: self.root.clone(),
            use_gitignore: true,
            extra_ignores: vec![],
            quiet: Duration::from_millis(100),
            max_wait: Duration::from_secs(10),
        }
    }

    fn configure(&mut self, roots: &[&str]) {
        let cfg = self.cfg(roots);
        self.watch.configure(cfg).unwrap();
    }

    fn watched(&self) -> Vec<PathBuf> {
        self.watch.watched_dirs()
    }

    /// The next batch; fails on timeout or on an error event.
    async fn next_batch(&mut self) -> Vec<PathBuf> {
        match timeout(WAIT, self.rx.recv()).await {
            Ok(Some(WatchEvent::Changed(paths))) => paths,
            other => panic!("expected a batch, got {other:?}"),
        }
    }

    /// Batches until one contains `path`; returns everything seen.
    async fn wait_for(&mut self, path: &Path) -> Vec<PathBuf> {
        let mut seen = Vec::new();
        while !seen.iter().any(|p| p == path) {
            seen.extend(self.next_batch().await);
        }
        seen
    }

    async fn assert_quiet_for(&mut self, dur: Duration) {
        if let Ok(event) = timeout(dur, self.rx.recv()).await {
            panic!("expected no event, got {event:?}");
        }
    }
}

fn rel<'a>(fx: &Fixture, paths: &'a [PathBuf]) -> Vec<&'a Path> {
    paths
        .iter()
        .map(|p| p.strip_prefix(&fx.root).unwrap())
        .collect()
}

#[tokio::test]
async fn a_write_is_reported() {
    let mut fx = Fixture::new();
    fx.write("src/main.go", "v1");
    fx.configure(&["."]);
    fx.write("src/main.go", "v2");
    let seen = fx.wait_for(&fx.path("src/main.go")).await;
    assert!(seen.iter().all(|p| p.starts_with(&fx.root)), "{seen:?}");
}

#[tokio::test]
async fn gitignored_dir_gets_no_watch_and_no_events() {
    let mut fx = Fixture::new();
    fx.write(".gitignore", "node_modules/\n");
    fx.write("node_modules/pkg/lib/index.js", "");
    fx.write("src/app.js", "");
    fx.configure(&[""]);
    let watched = fx.watched();
    assert_eq!(watched, vec![fx.root.clone(), fx.path("src")]);

    fx.write("node_modules/pkg/lib/index.js", "changed");
    fx.write("node_modules/new.js", "new");
    fx.write("src/app.js", "changed");
    let seen = fx.wait_for(&fx.path("src/app.js")).await;
    assert_eq!(rel(&fx, &seen), [Path::new("src/app.js")]);
}

#[tokio::test]
async fn editor_temp_files_are_not_reported() {
    let mut fx = Fixture::new();
    fx.configure(&[""]);
    fx.write(".main.go.swp", "");
    fx.write("main.go~", "");
    fx.write("4913", "");
    fx.write("main.go", "");
    let seen = fx.wait_for(&fx.path("main.go")).await;
    assert_eq!(rel(&fx, &seen), [Path::new("main.go")]);
}

#[tokio::test]
async fn files_in_a_just_created_nested_dir_are_reported_and_watched() {
    let mut fx = Fixture::new();
    fx.configure(&[""]);
    fx.write("a/b/f", "x");
    fx.wait_for(&fx.path("a/b/f")).await;
    assert!(fx.watched().contains(&fx.path("a/b")));

    fx.write("a/b/g", "later");
    fx.wait_for(&fx.path("a/b/g")).await;
}

#[tokio::test]
async fn a_thousand_file_burst_is_one_batch() {
    let mut fx = Fixture::new();
    let mut cfg = fx.cfg(&[""]);
    // Generous quiet window so a slow CI disk cannot split the burst.
    cfg.quiet = Duration::from_secs(2);
    cfg.max_wait = Duration::from_secs(60);
    fx.watch.configure(cfg).unwrap();

    for i in 0..1000 {
        fx.write(&format!("f{i:04}.txt"), "x");
    }
    let batch = fx.next_batch().await;
    assert_eq!(batch.len(), 1000, "one batch with every file");
    fx.assert_quiet_for(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_gitignored_file_root_is_still_reported() {
    let mut fx = Fixture::new();
    fx.write(".gitignore", "tilt_config.json\nother.txt\n");
    fx.write("tilt_config.json", "{}");
    fx.configure(&["", "tilt_config.json"]);

    fx.write("other.txt", "ignored");
    fx.write("tilt_config.json", "{\"a\":1}");
    let seen = fx.wait_for(&fx.path("tilt_config.json")).await;
    assert_eq!(rel(&fx, &seen), [Path::new("tilt_config.json")]);
}

#[tokio::test]
async fn a_file_root_alone_reports_only_itself_including_rename_over() {
    let mut fx = Fixture::new();
    fx.write("Tiltfile", "v1");
    fx.configure(&["Tiltfile"]);
    assert_eq!(fx.watched(), vec![fx.root.clone()]);

    fx.write("unrelated.txt", "x");
    // Editors save via a temp file renamed over the target.
    fx.write(".Tiltfile.tmp", "v2");
    fs::rename(fx.path(".Tiltfile.tmp"), fx.path("Tiltfile")).unwrap();
    let seen = fx.wait_for(&fx.path("Tiltfile")).await;
    assert_eq!(rel(&fx, &seen), [Path::new("Tiltfile")]);
}

#[tokio::test]
async fn reconfigure_adds_and_removes_watched_dirs() {
    let mut fx = Fixture::new();
    fx.mkdir("a/inner");
    fx.mkdir("b");
    fx.configure(&["a"]);
    assert_eq!(fx.watched(), vec![fx.path("a"), fx.path("a/inner")]);

    fx.configure(&["b"]);
    assert_eq!(fx.watched(), vec![fx.path("b")]);
    fx.configure(&["b"]); // identical: a no-op
    assert_eq!(fx.watched(), vec![fx.path("b")]);

    fx.write("a/inner/x", "not watched any more");
    fx.write("b/y", "watched");
    let seen = fx.wait_for(&fx.path("b/y")).await;
    assert_eq!(rel(&fx, &seen), [Path::new("b/y")]);
}

#[tokio::test]
async fn a_missing_root_is_picked_up_when_created() {
    let mut fx = Fixture::new();
    fx.configure(&["later"]);
    assert_eq!(fx.watched(), vec![fx.root.clone()]);
    fx.write("unrelated", "x");
    fx.write("later/sub/f", "x");
    let seen = fx.wait_for(&fx.path("later/sub/f")).await;
    assert!(!seen.contains(&fx.path("unrelated")), "{seen:?}");
    assert!(fx.watched().contains(&fx.path("later/sub")));
}

#[tokio::test]
async fn removed_dirs_lose_their_watch() {
    let mut fx = Fixture::new();
    fx.mkdir("gone/deeper");
    fx.configure(&[""]);
    assert!(fx.watched().contains(&fx.path("gone/deeper")));
    fs::remove_dir_all(fx.path("gone")).unwrap();
    fx.wait_for(&fx.path("gone")).await;
    assert_eq!(fx.watched(), vec![fx.root.clone()]);
}

#[tokio::test]
async fn editing_gitignore_rereads_the_rules() {
    let mut fx = Fixture::new();
    fx.write(".gitignore", "gen/\n");
    fx.mkdir("gen");
    fx.configure(&[""]);
    assert!(!fx.watched().contains(&fx.path("gen")));
    fx.write(".gitignore", "# nothing ignored\n");
    fx.wait_for(&fx.path(".gitignore")).await;
    assert!(fx.watched().contains(&fx.path("gen")));
}

#[tokio::test]
async fn dropping_the_watcher_stops_its_thread() {
    let mut fx = Fixture::new();
    fx.configure(&[""]);
    let Fixture { watch, mut rx, .. } = fx;
    drop(watch);
    // The thread owned the only sender: the channel closes once it has exited.
    assert!(matches!(timeout(WAIT, rx.recv()).await, Ok(None)));
}
