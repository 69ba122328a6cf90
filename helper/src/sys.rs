//! The few Linux calls the supervisor needs that std does not offer, declared by hand
//! (the helper has no dependencies). x86_64 and aarch64 Linux share these numbers and
//! layouts; glibc's static library provides the symbols.

#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_long};

pub type Pid = c_int;

pub const SIGHUP: c_int = 1;
pub const SIGINT: c_int = 2;
pub const SIGQUIT: c_int = 3;
pub const SIGKILL: c_int = 9;
pub const SIGUSR1: c_int = 10;
pub const SIGUSR2: c_int = 12;
pub const SIGTERM: c_int = 15;
pub const SIGCHLD: c_int = 17;

pub const SIG_BLOCK: c_int = 0;
pub const SIG_SETMASK: c_int = 2;

/// O_CLOEXEC and O_NONBLOCK, which signalfd and inotify_init1 flags reuse.
pub const CLOEXEC: c_int = 0o2_000_000;
pub const NONBLOCK: c_int = 0o4_000;

pub const IN_CLOSE_WRITE: u32 = 0x8;
pub const IN_MOVED_TO: u32 = 0x80;
/// struct inotify_event without its name: wd, mask, cookie, len.
pub const INOTIFY_EVENT_HEADER: usize = 16;

pub const POLLIN: i16 = 1;
pub const WNOHANG: c_int = 1;

/// glibc's sigset_t: 1024 bits.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SigSet([u64; 16]);

#[repr(C)]
pub struct PollFd {
    pub fd: c_int,
    pub events: i16,
    pub revents: i16,
}

/// struct signalfd_siginfo is 128 bytes; the signal number comes first.
pub const SIGNALFD_SIGINFO_SIZE: usize = 128;

unsafe extern "C" {
    fn sigemptyset(set: *mut SigSet) -> c_int;
    fn sigaddset(set: *mut SigSet, sig: c_int) -> c_int;
    pub fn sigprocmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    pub fn signalfd(fd: c_int, mask: *const SigSet, flags: c_int) -> c_int;
    pub fn inotify_init1(flags: c_int) -> c_int;
    pub fn inotify_add_watch(fd: c_int, path: *const c_char, mask: u32) -> c_int;
    pub fn poll(fds: *mut PollFd, nfds: c_long, timeout: c_int) -> c_int;
    pub fn waitpid(pid: Pid, status: *mut c_int, options: c_int) -> Pid;
    pub fn kill(pid: Pid, sig: c_int) -> c_int;
    pub fn read(fd: c_int, buf: *mut u8, count: usize) -> isize;
    pub fn close(fd: c_int) -> c_int;
}

impl SigSet {
    pub fn empty() -> SigSet {
        let mut s = SigSet([0; 16]);
        // SAFETY: `s` is a valid sigset_t-sized buffer.
        unsafe {
            sigemptyset(&mut s);
        }
        s
    }

    pub fn of(signals: &[c_int]) -> SigSet {
        let mut s = SigSet::empty();
        for sig in signals {
            // SAFETY: as above; the signal numbers are valid.
            unsafe {
                sigaddset(&mut s, *sig);
            }
        }
        s
    }
}

/// The exit code a shell would show for a wait status.
pub fn exit_code(status: c_int) -> i32 {
    let sig = status & 0x7f;
    if sig == 0 {
        (status >> 8) & 0xff
    } else if sig != 0x7f {
        128 + sig
    } else {
        1
    }
}
