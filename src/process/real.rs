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

    /// Whether any process is still in the group (signal 0 probes without signalling).
    fn group_alive(&self) -> bool {
        match self.pid.and_then(|p| i32::try_from(p).ok()) {
            Some(pid) => killpg(Pid::from_raw(pid), None) != Err(nix::errno::Errno::ESRCH),
            None => false,
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
            // Forget the group once nothing is left in it, so the record does not grow
            // with every `cmd` run; stragglers keep it recorded.
            if !self.group_alive() {
                self.ended();
            }
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Records what the spawner reports.
    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl GroupLog for Log {
        fn started(&self, pgid: u32) {
            self.0.lock().expect("log").push(format!("started {pgid}"));
        }
        fn ended(&self, pgid: u32) {
            self.0.lock().expect("log").push(format!("ended {pgid}"));
        }
    }

    fn spec(script: &str) -> ProcSpec {
        ProcSpec {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            dir: std::env::temp_dir(),
            env: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_command_whose_group_emptied_is_forgotten_by_the_record() {
        let log = Arc::new(Log::default());
        let spawner = RealSpawner::recording(log.clone());
        let (tx, _rx) = mpsc::unbounded_channel();
        let mut child = spawner.spawn(&spec("true"), tx).expect("spawn");
        let pid = child.pid().expect("pid");
        child.wait().await.expect("wait");
        let seen = log.0.lock().expect("log").clone();
        assert_eq!(seen, vec![format!("started {pid}"), format!("ended {pid}")]);
    }

    #[tokio::test]
    async fn a_stopped_server_is_forgotten_by_the_record() {
        let log = Arc::new(Log::default());
        let spawner = RealSpawner::recording(log.clone());
        let (tx, _rx) = mpsc::unbounded_channel();
        let mut child = spawner.spawn(&spec("sleep 100 & wait"), tx).expect("spawn");
        let pid = child.pid().expect("pid");
        child.stop(Duration::from_secs(5)).await;
        let seen = log.0.lock().expect("log").clone();
        assert_eq!(seen, vec![format!("started {pid}"), format!("ended {pid}")]);
    }
}
