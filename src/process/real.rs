//! Real processes via tokio, each in its own process group.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;

use super::{BoxFuture, Child, Exit, OutputLine, ProcSpec, ProcessError, Spawner, Stream};

/// Spawns real processes, each leading its own process group.
#[derive(Debug, Default, Clone)]
pub struct RealSpawner;

impl Spawner for RealSpawner {
    fn spawn(
        &self,
        spec: &ProcSpec,
        out: mpsc::UnboundedSender<OutputLine>,
    ) -> Result<Box<dyn Child>, ProcessError> {
        let (program, args) = spec.argv.split_first().ok_or(ProcessError::Empty)?;
        if !spec.dir.is_dir() {
            return Err(ProcessError::NoDir {
                dir: spec.dir.clone(),
            });
        }
        let mut cmd = tokio::process::Command::new(program);
        cmd.args(args)
            .current_dir(&spec.dir)
            .envs(&spec.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn().map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ProcessError::NotFound {
                program: program.clone(),
            },
            _ => ProcessError::Spawn {
                program: program.clone(),
                source,
            },
        })?;
        if let Some(o) = child.stdout.take() {
            tokio::spawn(pump(o, Stream::Stdout, out.clone()));
        }
        if let Some(e) = child.stderr.take() {
            tokio::spawn(pump(e, Stream::Stderr, out));
        }
        Ok(Box::new(RealChild {
            pid: child.id(),
            child,
            reaped: false,
        }))
    }
}

async fn pump(r: impl AsyncRead + Unpin, stream: Stream, out: mpsc::UnboundedSender<OutputLine>) {
    super::lines::for_each_line(r, |line| out.send((stream, line)).is_ok()).await;
}

struct RealChild {
    pid: Option<u32>,
    child: tokio::process::Child,
    reaped: bool,
}

impl RealChild {
    fn signal_group(&self, sig: Signal) {
        if let Some(pid) = self.pid.and_then(|p| i32::try_from(p).ok()) {
            // ESRCH (group already gone) is the expected outcome of a race with exit.
            let _ = killpg(Pid::from_raw(pid), sig);
        }
    }
}

impl Child for RealChild {
    fn pid(&self) -> Option<u32> {
        self.pid
    }

    fn wait(&mut self) -> BoxFuture<'_, Result<Exit, ProcessError>> {
        Box::pin(async move {
            let status = self
                .child
                .wait()
                .await
                .map_err(|source| ProcessError::Wait {
                    pid: self.pid.unwrap_or(0),
                    source,
                })?;
            self.reaped = true;
            Ok(Exit::from_status(status))
        })
    }

    fn stop(&mut self, grace: Duration) -> BoxFuture<'_, Exit> {
        Box::pin(async move {
            self.signal_group(Signal::SIGTERM);
            let exit = match tokio::time::timeout(grace, self.child.wait()).await {
                Ok(Ok(status)) => Exit::from_status(status),
                _ => {
                    self.signal_group(Signal::SIGKILL);
                    match self.child.wait().await {
                        Ok(status) => Exit::from_status(status),
                        Err(_) => Exit::Signal(9),
                    }
                }
            };
            self.reaped = true;
            // Stragglers that ignored TERM after the leader exited.
            self.signal_group(Signal::SIGKILL);
            exit
        })
    }
}

impl Drop for RealChild {
    fn drop(&mut self) {
        if !self.reaped {
            self.signal_group(Signal::SIGKILL);
        }
    }
}
