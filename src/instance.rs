//! One running stilt per project, and cleanup after a stilt that was killed.
//!
//! Each project (a Tiltfile path) has a state directory,
//! `$XDG_STATE_HOME/stilt/<hash of the canonical Tiltfile path>` (`~/.local/state/...`
//! when `XDG_STATE_HOME` is unset), outside the project so nothing needs ignoring. It holds:
//! - `instance.lock`: `up` and `ci` hold an exclusive `flock` on it while they run and
//!   write `<pid> <unix start time>` into it. The kernel drops the lock when the process
//!   dies, however it dies, so a killed instance never leaves a stale lock.
//! - `groups`: one `<pgid> <start time of the leader in clock ticks>` line per process
//!   group stilt started ([`GroupRecord`]). Direct children die with stilt
//!   (`PR_SET_PDEATHSIG`), but their children do not; the next instance, once it holds
//!   the lock, ends every process still in a recorded group ([`reap_leftovers`]).

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::fcntl::{Flock, FlockArg};

use crate::process::GroupLog;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstanceError {
    #[error("cannot prepare stilt's state directory {dir}: {source}")]
    StateDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "another stilt is already running for {tiltfile} ({holder}); stop it first, or pass \
         --allow-second-instance to run both (they will fight over the same resources)"
    )]
    AlreadyRunning { tiltfile: PathBuf, holder: String },
}

/// The state directory of the project whose Tiltfile is `tiltfile`.
pub fn state_dir(tiltfile: &Path) -> PathBuf {
    state_home().join("stilt").join(project_id(tiltfile))
}

/// The project's identity: 16 hex characters of the hash of its canonical Tiltfile
/// path. It names the state directory and labels what stilt applies to a cluster.
pub fn project_id(tiltfile: &Path) -> String {
    let canonical = std::fs::canonicalize(tiltfile).unwrap_or_else(|_| tiltfile.to_path_buf());
    let hash = blake3::hash(canonical.as_os_str().as_encoded_bytes()).to_hex();
    hash.as_str()[..16].to_owned()
}

fn state_home() -> PathBuf {
    match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".local/state"),
            None => std::env::temp_dir(),
        },
    }
}

/// The running instance of a project: holds the lock until dropped.
pub struct Instance {
    _lock: Flock<File>,
    groups: Arc<GroupRecord>,
}

impl Instance {
    /// Takes the project's lock, or names the instance holding it.
    pub fn acquire(tiltfile: &Path) -> Result<Instance, InstanceError> {
        let dir = state_dir(tiltfile);
        std::fs::create_dir_all(&dir).map_err(|source| InstanceError::StateDir {
            dir: dir.clone(),
            source,
        })?;
        let path = dir.join("instance.lock");
        let lock_err = |source| InstanceError::Lock {
            path: path.clone(),
            source,
        };
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(lock_err)?;
        let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
                return Err(InstanceError::AlreadyRunning {
                    tiltfile: tiltfile.to_path_buf(),
                    holder: describe_holder(&mut file),
                });
            }
            Err((_, errno)) => return Err(lock_err(errno.into())),
        };
        let stamp = format!("{} {}\n", std::process::id(), unix_now().as_secs());
        lock.set_len(0).map_err(lock_err)?;
        lock.rewind().map_err(lock_err)?;
        lock.write_all(stamp.as_bytes()).map_err(lock_err)?;
        let groups = Arc::new(GroupRecord::new(dir.join("groups")));
        Ok(Instance {
            _lock: lock,
            groups,
        })
    }

    /// Where the spawner records its process groups.
    pub fn groups(&self) -> Arc<GroupRecord> {
        self.groups.clone()
    }

    /// Ends every process left in the groups a killed predecessor recorded; returns
    /// how many were signalled. Only safe while holding the lock.
    pub fn reap_leftovers(&self) -> usize {
        let recorded = self.groups.take_previous();
        reap_leftovers(&recorded)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // A clean exit stopped every group; nothing is left for the next instance.
        self.groups.clear();
    }
}

fn describe_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let mut parts = text.split_whitespace();
    let pid = parts.next().and_then(|p| p.parse::<u32>().ok());
    let since = parts.next().and_then(|s| s.parse::<u64>().ok());
    match (pid, since) {
        (Some(pid), Some(since)) => {
            let ago = unix_now().as_secs().saturating_sub(since);
            format!("pid {pid}, running for {}", human(ago))
        }
        (Some(pid), None) => format!("pid {pid}"),
        _ => "pid unknown".into(),
    }
}

fn human(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{}s", secs / 60, secs % 60),
        _ => format!("{}h{}m", secs / 3600, (secs % 3600) / 60),
    }
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// A process group stilt started: its id and its leader's start time, which tells
/// a group stilt started from a later one that reuses the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group {
    pub pgid: i32,
    pub start: u64,
}

/// The `groups` file, rewritten on each change (it holds a few lines).
pub struct GroupRecord {
    path: PathBuf,
    live: Mutex<Vec<Group>>,
}

impl GroupRecord {
    fn new(path: PathBuf) -> Self {
        GroupRecord {
            path,
            live: Mutex::new(Vec::new()),
        }
    }

    /// What a previous instance left in the file (then forgotten).
    fn take_previous(&self) -> Vec<Group> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        self.clear();
        text.lines().filter_map(parse_group).collect()
    }

    fn clear(&self) {
        let _ = std::fs::remove_file(&self.path);
    }

    fn change(&self, f: impl FnOnce(&mut Vec<Group>)) {
        let Ok(mut live) = self.live.lock() else {
            return;
        };
        f(&mut live);
        let text: String = live
            .iter()
            .map(|g| format!("{} {}\n", g.pgid, g.start))
            .collect();
        // Best effort: a failed write only costs the cleanup after a SIGKILL.
        let _ = std::fs::write(&self.path, text);
    }
}

impl GroupLog for GroupRecord {
    fn started(&self, pgid: u32) {
        let Ok(pgid) = i32::try_from(pgid) else {
            return;
        };
        if let Some(stat) = proc_stat(pgid) {
            self.change(|live| {
                live.push(Group {
                    pgid,
                    start: stat.start,
                })
            });
        }
    }

    fn ended(&self, pgid: u32) {
        self.change(|live| live.retain(|g| i64::from(g.pgid) != i64::from(pgid)));
    }
}

fn parse_group(line: &str) -> Option<Group> {
    let mut parts = line.split_whitespace();
    let pgid = parts.next()?.parse().ok()?;
    let start = parts.next()?.parse().ok()?;
    Some(Group { pgid, start })
}

/// The fields of `/proc/<pid>/stat` this module needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    pub pgrp: i32,
    pub start: u64,
}

/// Parses `/proc/<pid>/stat` (the command name, in parentheses, may hold anything,
/// so fields are counted from the last `)`).
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(3) ppid(4) pgrp(5) ... starttime(22), 1-based as in proc(5).
    Some(ProcStat {
        pgrp: fields.get(2)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

fn proc_stat(pid: i32) -> Option<ProcStat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Which of `procs` (pid, stat) belong to one of `groups`: in the group, and started
/// no earlier than its recorded leader. If the leader is still there but started at
/// another time, the id was reused by a group stilt did not start: it is skipped.
pub fn leftovers(groups: &[Group], procs: &[(i32, ProcStat)]) -> Vec<i32> {
    let reused = |g: &Group| {
        procs
            .iter()
            .any(|(pid, s)| *pid == g.pgid && s.start != g.start)
    };
    let ours: Vec<&Group> = groups.iter().filter(|g| !reused(g)).collect();
    procs
        .iter()
        .filter(|(_, s)| ours.iter().any(|g| g.pgid == s.pgrp && s.start >= g.start))
        .map(|(pid, _)| *pid)
        .collect()
}

/// SIGKILLs the [`leftovers`] of `groups` among the running processes.
pub fn reap_leftovers(groups: &[Group]) -> usize {
    if groups.is_empty() {
        return 0;
    }
    let procs: Vec<(i32, ProcStat)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| Some((pid, proc_stat(pid)?)))
        .collect();
    let pids = leftovers(groups, &procs);
    for pid in &pids {
        // ESRCH: it exited meanwhile, which is what we wanted.
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(*pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    pids.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(pgrp: i32, start: u64) -> ProcStat {
        ProcStat { pgrp, start }
    }

    #[test]
    fn stat_fields_are_counted_after_a_name_with_spaces_and_parens() {
        let line =
            "4242 (a) b (c) S 1 4240 4240 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1 2";
        assert_eq!(parse_stat(line), Some(stat(4240, 987654)));
    }

    #[test]
    fn leftover_grandchildren_are_found_after_their_leader_died() {
        let groups = [Group {
            pgid: 100,
            start: 50,
        }];
        let procs = [
            (101, stat(100, 51)),
            (102, stat(100, 60)),
            (200, stat(200, 10)),
        ];
        assert_eq!(leftovers(&groups, &procs), vec![101, 102]);
    }

    #[test]
    fn a_reused_group_id_is_not_killed() {
        let groups = [Group {
            pgid: 100,
            start: 50,
        }];
        let procs = [(100, stat(100, 900)), (101, stat(100, 901))];
        assert!(leftovers(&groups, &procs).is_empty());
    }

    #[test]
    fn processes_older_than_the_recorded_leader_are_not_killed() {
        let groups = [Group {
            pgid: 100,
            start: 50,
        }];
        let procs = [(101, stat(100, 49))];
        assert!(leftovers(&groups, &procs).is_empty());
    }

    #[test]
    fn a_second_acquire_names_the_running_instance() {
        let dir = std::env::temp_dir().join(format!("stilt-instance-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok();
        let tiltfile = dir.join("Tiltfile");
        std::fs::write(&tiltfile, "").ok();
        let first = Instance::acquire(&tiltfile).expect("first instance");
        let err = Instance::acquire(&tiltfile)
            .err()
            .expect("second is refused");
        let pid = std::process::id();
        assert!(err.to_string().contains(&format!("pid {pid}")), "{err}");
        drop(first);
        assert!(
            Instance::acquire(&tiltfile).is_ok(),
            "lock released on drop"
        );
        let _ = std::fs::remove_dir_all(state_dir(&tiltfile));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
