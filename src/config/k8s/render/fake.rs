//! A hand-written [`RenderRunner`] for tests: answers every render with a text made
//! from its arguments, counts the runs, and can take its time (to see renders overlap).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{RenderError, RenderRunner, RenderSpec};

#[derive(Default)]
pub struct FakeRunner {
    pub runs: AtomicUsize,
    /// How long each run takes.
    pub delay: Duration,
    /// Runs in progress now, and the most seen at once.
    pub running: AtomicUsize,
    pub max_running: AtomicUsize,
    /// Arguments of each run, in the order they started.
    pub log: Mutex<Vec<Vec<String>>>,
    /// Renders whose first argument is this fail.
    pub fail_on: Option<String>,
}

impl FakeRunner {
    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

impl RenderRunner for FakeRunner {
    fn run(&self, spec: &RenderSpec) -> Result<String, RenderError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut log) = self.log.lock() {
            log.push(spec.args.clone());
        }
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        self.running.fetch_sub(1, Ordering::SeqCst);
        if spec.args.first() == self.fail_on.as_ref() {
            return Err(RenderError::Failed {
                command: spec.shown(),
                status: "exit code 1".into(),
                stderr: "fake failure".into(),
            });
        }
        Ok(format!("rendered {}\n", spec.args.join(" ")))
    }
}
