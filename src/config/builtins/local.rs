//! `local(command, ...)`: runs a command synchronously while the Tiltfile loads and
//! returns its stdout as a blob (the one builtin that starts a process, as in Tilt).
//!
//! The child sees the process environment, then the Tiltfile's `os.putenv` /
//! `os.unsetenv` overrides, then `env=`. Its stdout and stderr go to the load output
//! (unless `quiet=True`); a failure names the command, the exit code and the tail of
//! what it wrote.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::bail;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::NoneType;

use super::args::{cmd, str_dict};
use super::blob::{Blob, text_of};
use super::os::shell_quote;
use crate::config::collect::{Collector, current_dir, resolve};
use crate::config::control::{Cancelled, LoadControl};
use crate::model::Cmd;

/// How many trailing lines of output a failure message shows.
const TAIL_LINES: usize = 20;

fn display(cmd: &Cmd) -> String {
    match cmd {
        Cmd::Shell(s) => s.clone(),
        Cmd::Argv(argv) => argv
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    lines[start..].join("\n")
}

struct Run<'a> {
    cmd: &'a Cmd,
    dir: &'a Path,
    env: std::collections::BTreeMap<String, String>,
    overrides: std::collections::BTreeMap<String, Option<String>>,
    stdin: Option<String>,
    control: &'a LoadControl,
}

struct Finished {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

fn run(r: Run) -> anyhow::Result<Finished> {
    let shown = display(r.cmd);
    let mut command = match r.cmd {
        Cmd::Shell(s) => {
            let mut c = Command::new("sh");
            c.arg("-c").arg(s);
            c
        }
        Cmd::Argv(argv) => {
            let (program, rest) = argv
                .split_first()
                .ok_or_else(|| anyhow::anyhow!("local() needs a non-empty command"))?;
            let mut c = Command::new(program);
            c.args(rest);
            c
        }
    };
    if !r.dir.is_dir() {
        bail!(
            "local({shown:?}): working directory {} does not exist",
            r.dir.display()
        );
    }
    command.current_dir(r.dir);
    for (k, v) in &r.overrides {
        match v {
            Some(v) => command.env(k, v),
            None => command.env_remove(k),
        };
    }
    command.envs(&r.env);
    // Its own process group: cancelling the load signals the command and everything
    // it started, and a Ctrl-C meant for stilt does not reach it behind stilt's back.
    command.process_group(0);
    // Killed with stilt, even by `kill -9`, instead of running on as an orphan.
    crate::process::group::die_with_this_thread(&mut command);
    if r.control.is_cancelled() {
        return Err(Cancelled.into());
    }
    command
        .stdin(if r.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|e| match (e.kind(), r.cmd) {
        (std::io::ErrorKind::NotFound, Cmd::Argv(argv)) => {
            anyhow::anyhow!(
                "local(): command not found: {:?} (is it installed and on $PATH?)",
                argv[0]
            )
        }
        (std::io::ErrorKind::NotFound, Cmd::Shell(_)) => {
            anyhow::anyhow!("local({shown:?}): cannot run `sh` (not found on $PATH)")
        }
        _ => anyhow::anyhow!("local({shown:?}): cannot start: {e}"),
    })?;
    // The child leads its group, so its pid is the group id. Pids fit in an i32.
    let pgid = Pid::from_raw(child.id() as i32);
    // Deregisters the group when the command is done, whichever way this returns.
    let _registered = match r.control.child_started(pgid, &shown) {
        Ok(guard) => guard,
        Err(cancelled) => {
            let _ = killpg(pgid, Signal::SIGKILL);
            let _ = child.wait();
            return Err(cancelled.into());
        }
    };
    // Write stdin from a thread so a child that fills its stdout pipe cannot deadlock us.
    let writer = match (r.stdin, child.stdin.take()) {
        (Some(input), Some(mut pipe)) => Some(std::thread::spawn(move || {
            // A child that exits without reading its stdin is not an error.
            let _ = pipe.write_all(input.as_bytes());
        })),
        _ => None,
    };
    let out = child
        .wait_with_output()
        .map_err(|e| anyhow::anyhow!("local({shown:?}): waiting for the command failed: {e}"))?;
    if let Some(w) = writer {
        let _ = w.join();
    }
    Ok(Finished {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    })
}

fn failure(shown: &str, f: &Finished) -> anyhow::Error {
    let status = match f.code {
        Some(127) => "exit code 127 (command not found)".to_owned(),
        Some(code) => format!("exit code {code}"),
        None => "no exit code (killed by a signal)".to_owned(),
    };
    let mut msg = format!("command {shown:?} failed with {status}");
    for (name, text) in [("stderr", &f.stderr), ("stdout", &f.stdout)] {
        if !text.trim().is_empty() {
            msg.push_str(&format!("\n{name}:\n{}", tail(text)));
        }
    }
    anyhow::anyhow!(msg)
}

#[starlark_module]
fn local_module(b: &mut GlobalsBuilder) {
    /// Tilt's positional order: command, quiet, command_bat, echo_off, env, dir, stdin.
    #[allow(clippy::too_many_arguments)]
    fn local<'v>(
        command: Value<'v>,
        #[starlark(default = false)] quiet: bool,
        #[starlark(default = NoneType)] command_bat: Value<'v>,
        #[starlark(default = false)] echo_off: bool,
        #[starlark(default = NoneType)] env: Value<'v>,
        #[starlark(default = "")] dir: &str,
        #[starlark(default = NoneType)] stdin: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Blob> {
        // Windows-only variant: accepted so shared Tiltfiles run.
        let _ = command_bat;
        let c = Collector::get(eval)?;
        let Some(cmd) = cmd(Some(command), "local() command")? else {
            bail!("local() needs a non-empty command");
        };
        let dir = if dir.is_empty() {
            current_dir(eval)
        } else {
            resolve(eval, dir)
        };
        let stdin = if stdin.is_none() {
            None
        } else {
            Some(text_of(stdin, "local(stdin=)")?)
        };
        let shown = display(&cmd);
        if !echo_off {
            c.output.borrow_mut().push(format!("local: {shown}"));
        }
        let finished = run(Run {
            cmd: &cmd,
            dir: &dir,
            env: str_dict(Some(env), "local(env=)")?,
            overrides: c.env_overrides.borrow().clone(),
            stdin,
            control: &c.control,
        })?;
        if !quiet {
            let mut output = c.output.borrow_mut();
            for line in finished.stdout.lines().chain(finished.stderr.lines()) {
                output.push(format!(" → {line}"));
            }
        }
        if finished.code != Some(0) {
            return Err(failure(&shown, &finished));
        }
        Ok(Blob::new(finished.stdout))
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    local_module(b);
}

#[cfg(test)]
#[path = "local_tests.rs"]
mod tests;
