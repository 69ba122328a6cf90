//! A guard that kills a child's whole process group when dropped, so a future that is
//! dropped mid-command (shutdown, a cancelled build) leaves no process behind, not
//! even grandchildren. The child must have been spawned with `process_group(0)`.

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

pub struct GroupGuard {
    pgid: Option<Pid>,
}

impl GroupGuard {
    /// Guards the group led by `pid` (the child's id; `None` once it was reaped).
    pub fn new(pid: Option<u32>) -> Self {
        let pgid = pid.and_then(|p| i32::try_from(p).ok()).map(Pid::from_raw);
        GroupGuard { pgid }
    }

    /// KILLs the whole group now (stragglers that still hold the pipes open).
    pub fn kill(&self) {
        if let Some(pgid) = self.pgid {
            // ESRCH (the group is already gone) is an expected race, not an error.
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }

    /// The group ended normally: nothing to kill on drop.
    pub fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}
