//! A hand-written `FileWatch` for engine tests: records every config it is given
//! and lets the test inject batches or errors as if files had changed. It is
//! `Clone` (shared state), so a test keeps a handle after giving one to the engine.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;

use super::{FileWatch, WatchConfig, WatchError, WatchEvent};

#[derive(Debug, Clone)]
pub struct FakeWatch {
    /// Every config passed to `configure`, in order.
    pub configs: Arc<Mutex<Vec<WatchConfig>>>,
    /// When set, the next `configure` fails with this error (and records nothing).
    pub fail_next: Arc<Mutex<Option<WatchError>>>,
    out: UnboundedSender<WatchEvent>,
}

impl FakeWatch {
    pub fn new(out: UnboundedSender<WatchEvent>) -> Self {
        Self {
            configs: Arc::default(),
            fail_next: Arc::default(),
            out,
        }
    }

    /// Sends one batch, sorted and deduplicated like the real watcher's.
    /// Returns false when the receiver is gone.
    pub fn emit(&self, paths: impl IntoIterator<Item = PathBuf>) -> bool {
        let mut batch: Vec<PathBuf> = paths.into_iter().collect();
        batch.sort();
        batch.dedup();
        self.out.send(WatchEvent::Changed(batch)).is_ok()
    }

    /// Sends an error event. Returns false when the receiver is gone.
    pub fn emit_error(&self, err: WatchError) -> bool {
        self.out.send(WatchEvent::Error(err)).is_ok()
    }

    /// The most recent config, if any.
    pub fn last_config(&self) -> Option<WatchConfig> {
        self.configs.lock().ok()?.last().cloned()
    }
}

impl FileWatch for FakeWatch {
    fn configure(&mut self, cfg: WatchConfig) -> Result<(), WatchError> {
        if let Some(err) = self.fail_next.lock().ok().and_then(|mut f| f.take()) {
            return Err(err);
        }
        if let Ok(mut configs) = self.configs.lock() {
            configs.push(cfg);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cfg() -> WatchConfig {
        WatchConfig {
            roots: vec![PathBuf::from("/p")],
            base_dir: PathBuf::from("/p"),
            use_gitignore: true,
            extra_ignores: vec![],
            quiet: Duration::from_millis(15),
            max_wait: Duration::from_secs(10),
        }
    }

    #[test]
    fn records_configs_and_emits_sorted_batches() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let fake = FakeWatch::new(tx);
        let mut boxed: Box<dyn FileWatch> = Box::new(fake.clone());
        boxed.configure(cfg()).unwrap();
        assert_eq!(fake.last_config(), Some(cfg()));

        assert!(fake.emit([
            PathBuf::from("/p/b"),
            PathBuf::from("/p/a"),
            PathBuf::from("/p/b")
        ]));
        match rx.try_recv().unwrap() {
            WatchEvent::Changed(paths) => {
                assert_eq!(paths, vec![PathBuf::from("/p/a"), PathBuf::from("/p/b")]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn fail_next_fails_once() {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let mut fake = FakeWatch::new(tx);
        *fake.fail_next.lock().unwrap() = Some(WatchError::Stopped);
        assert!(fake.configure(cfg()).is_err());
        assert!(fake.configure(cfg()).is_ok());
        assert_eq!(fake.configs.lock().unwrap().len(), 1);
    }
}
