//! `supervise`: the native form of Tilt's `restart_process` extension. It runs the
//! image's entrypoint as a child and runs it again each time stilt writes the restart
//! file after a live update, so the process picks up synced files without a new
//! container (and without `entr`, a shell or `date` in the image).
//!
//! It usually is PID 1 of its container, so it also does PID 1's jobs: stop signals
//! go to the child's whole process group (and the supervisor exits once the child
//! has), and every orphan that the kernel re-parents to it is reaped.
//!
//! `--exit-policy` says what happens when the process exits on its own: `restart`
//! (the default, as in Tilt) ends the supervisor with the process's exit code, so the
//! container exits and its restart policy applies; `continue` keeps the container
//! running and starts the process again at the next live update.

#![allow(unsafe_code)]

use std::ffi::{CString, c_int};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::sys::{self, Pid, SigSet};

/// How long a process gets to exit after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Events on the restart file this close together are one restart (a write can
/// arrive as several events).
const SETTLE: Duration = Duration::from_millis(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitPolicy {
    Restart,
    Continue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub restart_file: PathBuf,
    pub exit_policy: ExitPolicy,
    pub command: Vec<String>,
}

pub const USAGE: &str =
    "usage: supervise [--restart-file PATH] [--exit-policy restart|continue] -- COMMAND [ARG...]";

impl Options {
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut restart_file = PathBuf::from("/tmp/.restart-proc");
        let mut exit_policy = ExitPolicy::Restart;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--restart-file" => {
                    let v = it.next().ok_or("--restart-file needs a path")?;
                    if !v.starts_with('/') {
                        return Err(format!("--restart-file must be absolute, not {v:?}"));
                    }
                    restart_file = PathBuf::from(v);
                }
                "--exit-policy" => {
                    exit_policy = match it.next().map(String::as_str) {
                        Some("restart") => ExitPolicy::Restart,
                        Some("continue") => ExitPolicy::Continue,
                        other => {
                            return Err(format!(
                                "--exit-policy must be restart or continue, not {other:?}"
                            ));
                        }
                    }
                }
                "--" => {
                    let command: Vec<String> = it.cloned().collect();
                    if command.is_empty() {
                        return Err("no command after --".to_owned());
                    }
                    return Ok(Options {
                        restart_file,
                        exit_policy,
                        command,
                    });
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Err("no command (it follows --)".to_owned())
    }
}

/// Runs the supervisor; returns the exit code of the container's main process.
pub fn main(args: &[String]) -> i32 {
    let opts = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("stilt supervise: {e}\n{USAGE}");
            return 2;
        }
    };
    match Supervisor::start(opts).and_then(|mut s| s.run()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stilt supervise: {e}");
            1
        }
    }
}

/// Signals handled through the signalfd (blocked for normal delivery).
const HANDLED: [c_int; 7] = [
    sys::SIGCHLD,
    sys::SIGTERM,
    sys::SIGINT,
    sys::SIGHUP,
    sys::SIGQUIT,
    sys::SIGUSR1,
    sys::SIGUSR2,
];

fn is_stop(sig: c_int) -> bool {
    matches!(sig, sys::SIGTERM | sys::SIGINT | sys::SIGHUP | sys::SIGQUIT)
}

fn os_err(what: &str) -> io::Error {
    let e = io::Error::last_os_error();
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// A file descriptor closed on drop.
struct Fd(c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: the descriptor is owned by this value and closed once.
        unsafe {
            sys::close(self.0);
        }
    }
}

struct Running {
    pid: Pid,
    /// Set once SIGTERM was sent: SIGKILL follows at this time.
    kill_at: Option<Instant>,
}

struct Supervisor {
    opts: Options,
    signals: Fd,
    inotify: Fd,
    file_name: Vec<u8>,
    child: Option<Running>,
    /// A restart was asked while the process was still stopping.
    restart_pending: bool,
    /// A stop signal arrived: exit once the process has.
    stopping: Option<c_int>,
}

impl Supervisor {
    fn start(opts: Options) -> io::Result<Supervisor> {
        let (dir, name) = split(&opts.restart_file)?;
        // A FROM scratch image may have no /tmp: make the directory so it can be watched.
        std::fs::create_dir_all(&dir)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display())))?;
        let signals = block_signals()?;
        let inotify = watch_dir(&dir)?;
        let mut s = Supervisor {
            opts,
            signals,
            inotify,
            file_name: name,
            child: None,
            restart_pending: false,
            stopping: None,
        };
        s.spawn();
        Ok(s)
    }

    fn run(&mut self) -> io::Result<i32> {
        loop {
            let timeout = self.poll_timeout();
            let mut fds = [
                sys::PollFd {
                    fd: self.signals.0,
                    events: sys::POLLIN,
                    revents: 0,
                },
                sys::PollFd {
                    fd: self.inotify.0,
                    events: sys::POLLIN,
                    revents: 0,
                },
            ];
            // SAFETY: `fds` is a valid array of two pollfd for the duration of the call.
            let n = unsafe { sys::poll(fds.as_mut_ptr(), 2, timeout) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(os_err("poll"));
            }
            if fds[0].revents & sys::POLLIN != 0 {
                for sig in self.read_signals()? {
                    if let Some(code) = self.on_signal(sig) {
                        return Ok(code);
                    }
                }
            }
            if fds[1].revents & sys::POLLIN != 0 && self.restart_file_written()? {
                std::thread::sleep(SETTLE);
                self.restart_file_written()?;
                self.on_restart();
            }
            self.kill_if_overdue();
        }
    }

    fn poll_timeout(&self) -> c_int {
        match self.child.as_ref().and_then(|c| c.kill_at) {
            Some(at) => {
                let ms = at.saturating_duration_since(Instant::now()).as_millis();
                c_int::try_from(ms).unwrap_or(c_int::MAX)
            }
            None => -1,
        }
    }

    /// Handles one signal; `Some(code)` ends the supervisor.
    fn on_signal(&mut self, sig: c_int) -> Option<i32> {
        if sig == sys::SIGCHLD {
            return self.reap();
        }
        if let Some(c) = &self.child {
            // SAFETY: plain syscall; the group is the child's own (setpgid in spawn).
            unsafe {
                sys::kill(-c.pid, sig);
            }
        }
        if is_stop(sig) {
            self.stopping = Some(sig);
            if self.child.is_none() {
                return Some(128 + sig);
            }
        }
        None
    }

    /// Reaps every exited process; `Some(code)` when the supervisor must end.
    fn reap(&mut self) -> Option<i32> {
        loop {
            let mut status: c_int = 0;
            // SAFETY: `status` is a valid out pointer.
            let pid = unsafe { sys::waitpid(-1, &mut status, sys::WNOHANG) };
            if pid <= 0 {
                return None;
            }
            let Some(child) = &self.child else { continue };
            if child.pid != pid {
                continue; // an orphan re-parented to us
            }
            let was_stopped = child.kill_at.is_some();
            self.child = None;
            let code = sys::exit_code(status);
            if let Some(sig) = self.stopping {
                let _ = sig;
                return Some(code);
            }
            if was_stopped || self.restart_pending {
                self.restart_pending = false;
                self.spawn();
                continue;
            }
            match self.opts.exit_policy {
                ExitPolicy::Restart => return Some(code),
                ExitPolicy::Continue => eprintln!(
                    "stilt supervise: the process exited with code {code}; \
                     it starts again at the next live update"
                ),
            }
        }
    }

    fn on_restart(&mut self) {
        if self.stopping.is_some() {
            return;
        }
        match &mut self.child {
            Some(c) => {
                if c.kill_at.is_none() {
                    // SAFETY: plain syscall on the child's own process group.
                    unsafe {
                        sys::kill(-c.pid, sys::SIGTERM);
                    }
                    c.kill_at = Some(Instant::now() + STOP_GRACE);
                }
                self.restart_pending = true;
            }
            None => self.spawn(),
        }
    }

    fn kill_if_overdue(&mut self) {
        if let Some(c) = &self.child
            && c.kill_at.is_some_and(|at| Instant::now() >= at)
        {
            // SAFETY: plain syscall on the child's own process group.
            unsafe {
                sys::kill(-c.pid, sys::SIGKILL);
            }
        }
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new(&self.opts.command[0]);
        cmd.args(&self.opts.command[1..]);
        cmd.process_group(0);
        let empty = SigSet::empty();
        // SAFETY: only an async-signal-safe call between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                sys::sigprocmask(sys::SIG_SETMASK, &empty, std::ptr::null_mut());
                Ok(())
            });
        }
        match cmd.spawn() {
            // The Child handle is dropped unwaited: `reap` collects it with waitpid(-1).
            Ok(child) => match Pid::try_from(child.id()) {
                Ok(pid) => {
                    self.child = Some(Running { pid, kill_at: None });
                }
                Err(_) => eprintln!("stilt supervise: process id out of range"),
            },
            Err(e) => eprintln!(
                "stilt supervise: cannot start {:?}: {e}; trying again at the next live update",
                self.opts.command[0]
            ),
        }
    }

    fn read_signals(&self) -> io::Result<Vec<c_int>> {
        let mut out = Vec::new();
        loop {
            let mut info = [0u8; sys::SIGNALFD_SIGINFO_SIZE];
            let size = info.len();
            // SAFETY: reading at most `size` bytes into `info`.
            let n = unsafe { sys::read(self.signals.0, info.as_mut_ptr(), size) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock {
                    return Ok(out);
                }
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(os_err("reading signals"));
            }
            if usize::try_from(n).ok() != Some(size) {
                return Ok(out);
            }
            let signo = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
            out.push(c_int::try_from(signo).unwrap_or(0));
        }
    }

    /// Drains the inotify queue; whether one event named the restart file.
    fn restart_file_written(&self) -> io::Result<bool> {
        let mut hit = false;
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reading at most buf.len() bytes into buf.
            let n = unsafe { sys::read(self.inotify.0, buf.as_mut_ptr(), buf.len()) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::WouldBlock {
                    return Ok(hit);
                }
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(os_err("reading file events"));
            }
            let n = usize::try_from(n).unwrap_or(0);
            if n == 0 {
                return Ok(hit);
            }
            hit |= names_in(&buf[..n]).any(|name| name == self.file_name.as_slice());
        }
    }
}

/// The names carried by a buffer of inotify events.
fn names_in(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    const HEADER: usize = sys::INOTIFY_EVENT_HEADER;
    let mut at = 0;
    std::iter::from_fn(move || {
        while at + HEADER <= buf.len() {
            // Header fields: wd (i32), mask (u32), cookie (u32), len (u32).
            let len_bytes: [u8; 4] = buf[at + 12..at + 16].try_into().ok()?;
            let len = u32::from_ne_bytes(len_bytes) as usize;
            let start = at + HEADER;
            let end = (start + len).min(buf.len());
            at = start + len;
            let name = &buf[start..end];
            let name = &name[..name.iter().position(|b| *b == 0).unwrap_or(name.len())];
            if !name.is_empty() {
                return Some(name);
            }
        }
        None
    })
}


fn split(path: &Path) -> io::Result<(PathBuf, Vec<u8>)> {
    use std::os::unix::ffi::OsStrExt;
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => Ok((dir.to_path_buf(), name.as_bytes().to_vec())),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("restart file {} has no directory and name", path.display()),
        )),
    }
}

fn block_signals() -> io::Result<Fd> {
    let set = SigSet::of(&HANDLED);
    // SAFETY: syscalls with valid pointers.
    unsafe {
        if sys::sigprocmask(sys::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return Err(os_err("blocking signals"));
        }
        let fd = sys::signalfd(-1, &set, sys::CLOEXEC | sys::NONBLOCK);
        if fd < 0 {
            return Err(os_err("signalfd"));
        }
        Ok(Fd(fd))
    }
}

fn watch_dir(dir: &Path) -> io::Result<Fd> {
    use std::os::unix::ffi::OsStrExt;
    let c_dir = CString::new(dir.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path with a NUL byte"))?;
    // SAFETY: plain syscalls; `c_dir` outlives the call.
    unsafe {
        let fd = sys::inotify_init1(sys::CLOEXEC | sys::NONBLOCK);
        if fd < 0 {
            return Err(os_err("inotify_init1"));
        }
        let fd = Fd(fd);
        if sys::inotify_add_watch(fd.0, c_dir.as_ptr(), sys::IN_CLOSE_WRITE | sys::IN_MOVED_TO)
            < 0
        {
            return Err(os_err(&format!("watching {}", dir.display())));
        }
        Ok(fd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_defaults_and_options() {
        let o = Options::parse(&args(&["--", "web", "-p", "80"])).unwrap();
        assert_eq!(o.restart_file, PathBuf::from("/tmp/.restart-proc"));
        assert_eq!(o.exit_policy, ExitPolicy::Restart);
        assert_eq!(o.command, args(&["web", "-p", "80"]));
        let o = Options::parse(&args(&[
            "--restart-file",
            "/r",
            "--exit-policy",
            "continue",
            "--",
            "x",
        ]))
        .unwrap();
        assert_eq!(o.restart_file, PathBuf::from("/r"));
        assert_eq!(o.exit_policy, ExitPolicy::Continue);
    }

    #[test]
    fn rejects_bad_arguments() {
        for bad in [
            &["web"][..],
            &["--"][..],
            &["--exit-policy", "never", "--", "x"][..],
            &["--restart-file", "rel", "--", "x"][..],
            &["--restart-file"][..],
        ] {
            assert!(Options::parse(&args(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn reads_names_from_inotify_events() {
        let mut buf = Vec::new();
        for name in ["a", ".restart-proc"] {
            let padded = 16;
            buf.extend_from_slice(&1i32.to_ne_bytes());
            buf.extend_from_slice(&sys::IN_CLOSE_WRITE.to_ne_bytes());
            buf.extend_from_slice(&0u32.to_ne_bytes());
            buf.extend_from_slice(&(padded as u32).to_ne_bytes());
            let mut n = name.as_bytes().to_vec();
            n.resize(padded, 0);
            buf.extend_from_slice(&n);
        }
        let names: Vec<&[u8]> = names_in(&buf).collect();
        assert_eq!(names, vec![&b"a"[..], &b".restart-proc"[..]]);
    }

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(sys::exit_code(3 << 8), 3);
        assert_eq!(sys::exit_code(sys::SIGKILL), 128 + 9);
    }
}
