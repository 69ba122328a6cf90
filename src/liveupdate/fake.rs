//! A scripted [`ContainerUpdater`] for engine tests: it records every call and
//! answers with scripted exit codes, output and infrastructure failures.
//!
//! Clones share one state, so a test keeps a handle while the engine owns another.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::future::BoxFuture;

use crate::model::Cmd;
use crate::process::{LineSink, Stream};

use super::{ContainerUpdater, CopyFile, UpdateError, UpdateTarget};

/// One call the fake received, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdaterCall {
    Copy {
        container: String,
        files: Vec<CopyFile>,
    },
    Delete {
        container: String,
        paths: Vec<String>,
    },
    Exec {
        container: String,
        cmd: Cmd,
    },
    Restart {
        container: String,
    },
}

/// Which method a scripted failure applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FakeOp {
    Copy,
    Delete,
    Exec,
    Restart,
}

/// Builds the error a scripted failure returns, given the container.
pub type FailWith = fn(&str) -> UpdateError;

#[derive(Default)]
struct State {
    calls: Vec<UpdaterCall>,
    /// Keyed by the command's text (`Cmd`'s `Display`).
    exec_scripts: BTreeMap<String, (i64, Vec<String>)>,
    failures: BTreeMap<FakeOp, VecDeque<FailWith>>,
}

/// See the module docs.
#[derive(Clone, Default)]
pub struct FakeUpdater {
    state: Arc<Mutex<State>>,
}

impl FakeUpdater {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<UpdaterCall> {
        self.lock().calls.clone()
    }

    /// `exec` of a command whose text is `cmd` prints `output` (stdout) and exits
    /// with `code`; unscripted commands print nothing and exit 0.
    pub fn script_exec(&self, cmd: &str, code: i64, output: &[&str]) {
        let lines = output.iter().map(|l| (*l).to_owned()).collect();
        self.lock()
            .exec_scripts
            .insert(cmd.to_owned(), (code, lines));
    }

    /// The next call of `op` fails with "container is not running".
    pub fn fail_next(&self, op: FakeOp) {
        self.fail_next_with(op, |container| UpdateError::NotRunning {
            container: container.to_owned(),
            doing: "update files",
        });
    }

    /// The next call of `op` fails with the error `make` builds; queued failures
    /// are used one per call.
    pub fn fail_next_with(&self, op: FakeOp, make: FailWith) {
        self.lock().failures.entry(op).or_default().push_back(make);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock already failed; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `call`, then returns the scripted failure for `op`, if any.
    fn record(&self, op: FakeOp, container: &str, call: UpdaterCall) -> Result<(), UpdateError> {
        let mut state = self.lock();
        state.calls.push(call);
        let failure = state.failures.get_mut(&op).and_then(VecDeque::pop_front);
        failure.map_or(Ok(()), |make| Err(make(container)))
    }
}

impl ContainerUpdater for FakeUpdater {
    fn copy<'a>(
        &'a self,
        target: &'a UpdateTarget,
        files: &'a [CopyFile],
    ) -> BoxFuture<'a, Result<(), UpdateError>> {
        let container = target.container_id();
        let call = UpdaterCall::Copy {
            container: container.to_owned(),
            files: files.to_vec(),
        };
        let result = self.record(FakeOp::Copy, container, call);
        Box::pin(async move { result })
    }

    fn delete<'a>(
        &'a self,
        target: &'a UpdateTarget,
        paths: &'a [String],
    ) -> BoxFuture<'a, Result<(), UpdateError>> {
        let container = target.container_id();
        let call = UpdaterCall::Delete {
            container: container.to_owned(),
            paths: paths.to_vec(),
        };
        let result = self.record(FakeOp::Delete, container, call);
        Box::pin(async move { result })
    }

    fn exec<'a>(
        &'a self,
        target: &'a UpdateTarget,
        cmd: &'a Cmd,
        log: LineSink,
    ) -> BoxFuture<'a, Result<i64, UpdateError>> {
        let container = target.container_id();
        let call = UpdaterCall::Exec {
            container: container.to_owned(),
            cmd: cmd.clone(),
        };
        let result = self.record(FakeOp::Exec, container, call).map(|()| {
            // Cloned out so the lock is not held while `log` runs.
            let script = self.lock().exec_scripts.get(&cmd.to_string()).cloned();
            let (code, lines) = script.unwrap_or_default();
            for line in lines {
                log(Stream::Stdout, line);
            }
            code
        });
        Box::pin(async move { result })
    }

    fn restart<'a>(&'a self, target: &'a UpdateTarget) -> BoxFuture<'a, Result<(), UpdateError>> {
        let container = target.container_id();
        let call = UpdaterCall::Restart {
            container: container.to_owned(),
        };
        let result = self.record(FakeOp::Restart, container, call);
        Box::pin(async move { result })
    }
}
