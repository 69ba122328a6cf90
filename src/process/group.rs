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

/// Makes the kernel SIGKILL the child spawned by `cmd` if stilt dies first, even by
/// `kill -9` (Linux `PR_SET_PDEATHSIG`). Only the direct child is covered: the setting
/// is cleared on fork, so grandchildren are ended by [`crate::instance`] at the next
/// start instead (it records every group). Elsewhere this does nothing.
///
/// The kernel sends the signal when the *thread* that forked exits, so only call this
/// from async code on a runtime worker (which lives as long as stilt), never from
/// `spawn_blocking`, whose idle threads exit.
pub fn die_with_stilt(cmd: &mut tokio::process::Command) {
    die_with_this_thread(cmd.as_std_mut());
}

/// Like [`die_with_stilt`] for a command that the calling thread waits for (a
/// Tiltfile `local()` on the load thread): the child is killed when this thread ends,
/// which is when stilt dies, since the thread outlives the command it waits for.
pub fn die_with_this_thread(cmd: &mut std::process::Command) {
    #[cfg(target_os = "linux")]
    set_pdeathsig(cmd);
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn set_pdeathsig(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs in the forked child before exec and only makes two
    // async-signal-safe system calls (prctl, getppid); it allocates nothing and takes
    // no lock. There is no safe API for code that must run between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
            // stilt died between fork and prctl: the signal would never come.
            if nix::unistd::getppid() != parent {
                return Err(std::io::Error::other(
                    "stilt exited while starting the command",
                ));
            }
            Ok(())
        });
    }
}
