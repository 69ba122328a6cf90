//! Real processes via tokio, each in its own process group.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;

use super::{
    BoxFuture, Child, Exit, GroupLog, OutputLine, ProcSpec, ProcessError, Spawner, Stream,
};

/// Spawns real processes, each leading its own process group that the kernel kills
/// if stilt dies (see [`super::group::die_with_stilt`]); with [`RealSpawner::recording`]
/// each group is also written down so a later stilt can end what this one left.
#[derive(Default, Clone)]
pub struct RealSpawner {
    groups: Option<Arc<dyn GroupLog>>,
}

impl RealSpawner {
    /// Reports every group started and reaped to `groups`.
    pub fn recording(groups: Arc<dyn GroupLog>) -> Self {
        RealSpawner {
            groups: Some(groups),
        }
    }
}

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
        super::group::die_with_stilt(&mut cmd);
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
        let pid = child.id();
        if let (Some(groups), Some(pid)) = (&self.groups, pid) {
            groups.started(pid);
        }
        Ok(Box::new(RealChild {
            pid,
            child,
            reaped: false,
            groups: self.groups.clone(),
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
    groups: Option<Arc<dyn GroupLog>>,
}

impl RealChild {
    /// The group is gone (killed after its leader was reaped): forget it.
    fn ended(&mut self) {
        self.reaped = true;
        if let (Some(groups), Some(pid)) = (&self.groups, self.pid) {
            groups.ended(pid);
        }
    }

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
            // Stragglers that ignored TERM after the leader exited.
            self.signal_group(Signal::SIGKILL);
            self.ended();
            exit
        })
    }
}

impl Drop for RealChild {
    fn drop(&mut self) {
        if !self.reaped {
            self.signal_group(Signal::SIGKILL);
            self.ended();
        }
    }
}
