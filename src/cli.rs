//! Command line: Tilt's verbs and flags.

pub mod args;
pub mod backends;
pub mod ci;
pub mod client;
pub mod completion;
pub mod describe;
pub mod down;
pub mod enable;
pub mod get;
pub mod junit;
pub mod logs;
pub mod tiltfile_result;
pub mod trigger;
pub mod up;
pub mod wait;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "stilt", version, about = "A fast, Tiltfile-compatible dev loop", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start every resource, watch files and update on change.
    Up(UpArgs),
    /// Run the same engine headless: exit 0 when all resources are ready, 1 on failure or timeout.
    Ci(CiArgs),
    /// Remove what `up` created (runs the Tiltfile with config.tilt_subcommand == "down").
    Down(DownArgs),
    /// Print the version.
    Version,
    /// Experimental commands (Tilt's `alpha` group).
    #[command(subcommand)]
    Alpha(AlphaCommand),
    #[command(flatten)]
    Client(ClientCommand),
}

/// Verbs that talk to a running `stilt up`/`ci` through its HTTP API.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Print resources or the session (Tilt's UIResource and Session shapes).
    Get(get::GetArgs),
    /// Show everything about one resource.
    Describe(describe::DescribeArgs),
    /// Print logs, optionally following them.
    Logs(logs::LogsArgs),
    /// Run a resource's update now.
    Trigger(trigger::TriggerArgs),
    /// Enable resources.
    Enable(enable::EnableArgs),
    /// Disable resources.
    Disable(enable::EnableArgs),
    /// Wait until resources meet a condition (Ready, UpToDate).
    Wait(wait::WaitArgs),
    /// Set new Tiltfile arguments; the Tiltfile is evaluated again.
    Args(args::ArgsArgs),
    /// Print a shell completion script (bash, zsh, fish).
    Completion(completion::CompletionArgs),
}

impl ClientCommand {
    /// Runs the verb; returns the exit code.
    pub async fn run(self) -> i32 {
        match self {
            ClientCommand::Get(a) => get::get(a).await,
            ClientCommand::Describe(a) => describe::describe(a).await,
            ClientCommand::Logs(a) => logs::logs(a).await,
            ClientCommand::Trigger(a) => trigger::trigger(a).await,
            ClientCommand::Enable(a) => enable::set_enabled(a, true).await,
            ClientCommand::Disable(a) => enable::set_enabled(a, false).await,
            ClientCommand::Wait(a) => wait::wait(a).await,
            ClientCommand::Args(a) => args::args(a).await,
            ClientCommand::Completion(a) => completion::completion(&a, &mut std::io::stdout()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AlphaCommand {
    /// Evaluate the Tiltfile, start nothing, and print what it declares as JSON.
    TiltfileResult(CommonArgs),
}

#[derive(Debug, Args, Clone)]
pub struct CommonArgs {
    /// Path to the Tiltfile.
    #[arg(short = 'f', long = "file", default_value = "Tiltfile")]
    pub file: PathBuf,
    /// Resource names to enable, or arguments for config.parse() (flag-like ones after `--`).
    ///
    /// As in Tilt, names may follow the verb directly (`stilt up web api`) or come
    /// after `--` (`stilt up -- web api`); `-- --port 9000` passes flags to the Tiltfile.
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Report the line a Tiltfile load is stuck on once it has run this long, and again
    /// each time as long again passes (e.g. 90s, 5m; 0 = never).
    #[arg(long, value_parser = parse_timeout, default_value = "60s")]
    pub load_warn_after: Duration,
    /// Kubernetes context to use instead of the kubeconfig's current context.
    #[arg(long)]
    pub context: Option<String>,
    /// Namespace for Kubernetes objects that name none (default: the context's).
    #[arg(long)]
    pub namespace: Option<String>,
}

impl CommonArgs {
    /// `--load-warn-after`, with 0 meaning never.
    pub fn load_warn_after(&self) -> Option<Duration> {
        (!self.load_warn_after.is_zero()).then_some(self.load_warn_after)
    }

    /// The Kubernetes settings the command line gives.
    pub fn k8s(&self) -> crate::model::K8sSettings {
        crate::model::K8sSettings {
            context: self.context.clone(),
            namespace: self.namespace.clone(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Print logs and status changes instead of the full-screen UI.
    #[arg(long)]
    pub stream: bool,
    #[command(flatten)]
    pub web: ServeArgs,
    /// Run even if another stilt is running for this Tiltfile (by default the second
    /// one refuses to start, naming the first).
    #[arg(long)]
    pub allow_second_instance: bool,
}

#[derive(Debug, Args)]
// `down` enables nothing: its arguments only reach config.parse().
#[command(mut_arg("args", |a| a.help("Arguments for the Tiltfile (config.parse); flag-like ones go after `--`")))]
pub struct DownArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Also remove the named volumes declared by Docker Compose projects.
    #[arg(long)]
    pub delete_volumes: bool,
    /// Also delete the Kubernetes Namespaces the Tiltfile declares (kept by default).
    #[arg(long)]
    pub delete_namespaces: bool,
}

#[derive(Debug, Args)]
pub struct CiArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub web: ServeArgs,
    /// Write a JUnit XML report (one test case per resource) to FILE when the run ends.
    #[arg(long, value_name = "FILE")]
    pub output_junit: Option<PathBuf>,
    /// Write the final state (the API's /api/session JSON) to FILE when the run ends.
    #[arg(long, value_name = "FILE")]
    pub output_snapshot_on_exit: Option<PathBuf>,
    /// Give up after this long (e.g. 30m, 90s; 0 = never). Default: ci_settings(timeout=) or 30m.
    #[arg(long, value_parser = parse_timeout)]
    pub timeout: Option<Duration>,
    /// Run even if another stilt is running for this Tiltfile (by default the second
    /// one refuses to start, naming the first).
    #[arg(long)]
    pub allow_second_instance: bool,
}

/// Where `up` and `ci` serve the HTTP API and dashboard.
#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    /// Address to serve the API and dashboard on [env: STILT_HOST, TILT_HOST; default:
    /// 127.0.0.1]. Anything but loopback prints a warning.
    #[arg(long)]
    pub host: Option<String>,
    /// Port of the API and dashboard [env: STILT_PORT, TILT_PORT; default: 10350; 0 =
    /// no server]. When the default port is taken, another free port is used.
    #[arg(long)]
    pub port: Option<u16>,
}

impl ServeArgs {
    /// Flags first, then STILT_*, then TILT_*; `None` when the server is off.
    pub fn resolve(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<crate::web::WebOptions>, String> {
        let from_env =
            |names: [&str; 2]| names.iter().find_map(|n| env(n).filter(|v| !v.is_empty()));
        let (port, explicit_port) = match (self.port, from_env(["STILT_PORT", "TILT_PORT"])) {
            (Some(p), _) => (p, true),
            (None, Some(v)) => (
                v.parse()
                    .map_err(|_| format!("bad port in the environment: {v:?}"))?,
                true,
            ),
            (None, None) => (crate::web::DEFAULT_PORT, false),
        };
        if port == 0 {
            return Ok(None);
        }
        let host = self
            .host
            .clone()
            .or_else(|| from_env(["STILT_HOST", "TILT_HOST"]))
            .unwrap_or_else(|| crate::web::DEFAULT_HOST.to_owned());
        Ok(Some(crate::web::WebOptions {
            host,
            port,
            explicit_port,
            record_dir: None,
        }))
    }
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    crate::config::builtins::args::go_duration(s).map_err(|e| e.to_string())
}

/// Takes the project's instance lock (unless `allow_second` is set) and ends what a
/// killed predecessor left; returns the spawner to use and the lock to hold while
/// running. On refusal the message is printed and `Err` carries the exit code.
pub fn claim_instance(
    tiltfile: &std::path::Path,
    allow_second: bool,
) -> Result<
    (
        crate::process::real::RealSpawner,
        Option<crate::instance::Instance>,
    ),
    i32,
> {
    use crate::process::real::RealSpawner;
    if allow_second {
        // Not the owner of the project's records: neither reap nor record.
        return Ok((RealSpawner::default(), None));
    }
    match crate::instance::Instance::acquire(tiltfile) {
        Ok(instance) => {
            let reaped = instance.reap_leftovers();
            if reaped > 0 {
                eprintln!("stilt: ended {reaped} process(es) left by a stilt that was killed");
            }
            Ok((RealSpawner::recording(instance.groups()), Some(instance)))
        }
        Err(e @ crate::instance::InstanceError::AlreadyRunning { .. }) => {
            eprintln!("Error: {e}");
            Err(1)
        }
        Err(e) => {
            // Without a state directory stilt still runs, only unguarded.
            eprintln!("Warning: {e}; not guarding against a second instance");
            Ok((RealSpawner::default(), None))
        }
    }
}

/// Resolves once on Ctrl-C, SIGTERM or SIGHUP (the terminal or parent shell went away).
pub async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    async fn next(s: &mut Option<tokio::signal::unix::Signal>) {
        match s {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = next(&mut term) => {}
        _ = next(&mut hup) => {}
    }
}

pub const STOP_GRACE: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn args_of(argv: &[&str]) -> Vec<String> {
        let cli = Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        match cli.command {
            Command::Up(a) => a.common.args,
            Command::Ci(a) => a.common.args,
            Command::Down(a) => a.common.args,
            Command::Version | Command::Alpha(_) | Command::Client(_) => Vec::new(),
        }
    }

    #[test]
    fn every_verb_definition_is_consistent() {
        // Catches clashing short flags (a shared `-f` once broke `stilt logs`).
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_flags_beat_stilt_env_which_beats_tilt_env() {
        let env = |k: &str| match k {
            "STILT_PORT" => Some("2000".to_owned()),
            "TILT_PORT" => Some("3000".to_owned()),
            "TILT_HOST" => Some("0.0.0.0".to_owned()),
            _ => None,
        };
        let none = ServeArgs::default().resolve(env).expect("ok").expect("on");
        assert_eq!(
            (none.host.as_str(), none.port, none.explicit_port),
            ("0.0.0.0", 2000, true)
        );
        let flag = ServeArgs {
            port: Some(0),
            host: None,
        }
        .resolve(env)
        .expect("ok");
        assert!(flag.is_none(), "--port 0 turns the server off");
        let default = ServeArgs::default()
            .resolve(|_| None)
            .expect("ok")
            .expect("on");
        assert_eq!(
            (default.host.as_str(), default.port, default.explicit_port),
            ("127.0.0.1", 10350, false)
        );
        assert!(ServeArgs::default().resolve(|_| Some("x".into())).is_err());
    }

    #[test]
    fn up_and_ci_accept_bare_resource_names_as_tilt_does() {
        assert_eq!(args_of(&["stilt", "up", "web", "api"]), ["web", "api"]);
        assert_eq!(args_of(&["stilt", "ci", "web"]), ["web"]);
    }

    #[test]
    fn names_after_a_double_dash_still_work_and_flags_there_go_to_the_tiltfile() {
        assert_eq!(args_of(&["stilt", "up", "--", "web"]), ["web"]);
        assert_eq!(
            args_of(&["stilt", "ci", "--timeout", "5s", "--", "--port", "9000"]),
            ["--port", "9000"]
        );
    }

    #[test]
    fn stilt_flags_after_a_bare_name_are_still_stilt_flags() {
        let cli = Cli::try_parse_from(["stilt", "up", "web", "--stream"]).expect("parse");
        let Command::Up(up) = cli.command else {
            panic!("not up")
        };
        assert!(up.stream);
        assert_eq!(up.common.args, ["web"]);
    }

    #[test]
    fn down_help_does_not_call_its_arguments_resource_names() {
        let help = Cli::command()
            .find_subcommand_mut("down")
            .expect("down")
            .render_help()
            .to_string();
        assert!(help.contains("Arguments for the Tiltfile"), "{help}");
        assert!(!help.contains("resource names"), "{help}");
    }
}
