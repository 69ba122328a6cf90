//! A scripted spawner for engine tests: no real processes, deterministic outcomes.
//!
//! A script is chosen by the command line (`argv.join(" ")`); unknown commands exit 0.
//! Scripts either exit at once with a code or run until stopped (a server). Every
//! spawn and stop is recorded so tests can assert on what the engine did.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::{BoxFuture, Child, Exit, OutputLine, ProcSpec, ProcessError, Spawner, Stream};

#[derive(Debug, Clone)]
pub enum Script {
    /// Print the lines, then exit with the code.
    Exit { lines: Vec<String>, code: i32 },
    /// Print the lines, then run until stopped.
    Serve { lines: Vec<String> },
    /// Fail to start, like a missing program.
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Spawned(String),
    Stopped(String),
}

#[derive(Default, Clone)]
pub struct FakeSpawner {
    scripts: Arc<Mutex<HashMap<String, Script>>>,
    events: Arc<Mutex<Vec<Event>>>,
    next_pid: Arc<Mutex<u32>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl FakeSpawner {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn script(&self, command: &str, script: Script) {
        lock(&self.scripts).insert(command.to_owned(), script);
    }

    pub fn events(&self) -> Vec<Event> {
        lock(&self.events).clone()
    }

    pub fn spawned(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Spawned(c) => Some(c),
                Event::Stopped(_) => None,
            })
            .collect()
    }
}

impl Spawner for FakeSpawner {
    fn spawn(
        &self,
        spec: &ProcSpec,
        out: mpsc::UnboundedSender<OutputLine>,
    ) -> Result<Box<dyn Child>, ProcessError> {
        let command = spec.argv.join(" ");
        let script = lock(&self.scripts)
            .get(&command)
            .cloned()
            .unwrap_or(Script::Exit {
                lines: vec![],
                code: 0,
            });
        if let Script::NotFound = script {
            return Err(ProcessError::NotFound {
                program: spec.argv.first().cloned().unwrap_or_default(),
            });
        }
        lock(&self.events).push(Event::Spawned(command.clone()));
        let pid = {
            let mut p = lock(&self.next_pid);
            *p += 1;
            1000 + *p
        };
        let (lines, exit) = match script {
            Script::Exit { lines, code } => (lines, Some(Exit::Code(code))),
            Script::Serve { lines } => (lines, None),
            Script::NotFound => (vec![], None),
        };
        for l in lines {
            let _ = out.send((Stream::Stdout, l));
        }
        let (stop_tx, stop_rx) = watch::channel(false);
        Ok(Box::new(FakeChild {
            pid,
            exit,
            command,
            stop_tx,
            stop_rx,
            events: self.events.clone(),
        }))
    }
}

struct FakeChild {
    pid: u32,
    exit: Option<Exit>,
    command: String,
    stop_tx: watch::Sender<bool>,
    stop_rx: watch::Receiver<bool>,
    events: Arc<Mutex<Vec<Event>>>,
}

impl Child for FakeChild {
    fn pid(&self) -> Option<u32> {
        Some(self.pid)
    }

    fn wait(&mut self) -> BoxFuture<'_, Result<Exit, ProcessError>> {
        Box::pin(async move {
            if let Some(e) = self.exit {
                return Ok(e);
            }
            let _ = self.stop_rx.wait_for(|stopped| *stopped).await;
            Ok(Exit::Signal(15))
        })
    }

    fn stop(&mut self, _grace: Duration) -> BoxFuture<'_, Exit> {
        Box::pin(async move {
            lock(&self.events).push(Event::Stopped(self.command.clone()));
            let _ = self.stop_tx.send(true);
            self.exit.unwrap_or(Exit::Signal(15))
        })
    }
}
