//! The loop: actions in, decisions, controllers out; shutdown leaves no process behind.
//!
//! Only this loop calls [`reduce`]. Each turn it reduces what the workers reported,
//! lets each controller start what the state calls for (they return actions rather
//! than change the state), asks [`schedule`] which runs and servers start, hands each
//! start to the controller of the resource's kind, and shows the state to the view.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::deploy::DeployController;
use super::local::LocalController;
use super::schedule::{Decision, schedule};
use super::tasks::Tasks;
use super::tiltfile::{LoadFn, TiltfileController};
use super::watching::WatchController;
use crate::config::{LoadControl, LoadOptions};
use crate::deploy::Connect;
use crate::process::Spawner;
use crate::store::{Action, EngineState, Intent, reduce};
use crate::watch::{FileWatch, WatchEvent};

/// Actions reduced in one turn at most, before the view looks again.
const MAX_BATCH: usize = 256;

/// A reader of engine state: the stream printer, the CI reporter, the TUI.
pub trait View: Send {
    /// Called after each batch of actions. `Some(code)` ends the engine with that exit code.
    fn update(&mut self, state: &EngineState, decision: &Decision, now: Instant) -> Option<i32>;
    /// When the view wants to be called again even if nothing happens (timeouts).
    fn next_wakeup(&self) -> Option<Instant> {
        None
    }
    /// Called once after shutdown, to show what the last moments logged.
    fn finish(&mut self, _state: &EngineState, _decision: &Decision) {}
}

#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub tiltfile: PathBuf,
    pub args: Vec<String>,
    pub subcommand: String,
    /// Time between TERM and KILL when stopping a process group.
    pub stop_grace: Duration,
    /// Report where a Tiltfile load is once it has run this long (`None`: never).
    pub load_warn_after: Option<Duration>,
    /// `--context` / `--namespace`.
    pub k8s: crate::model::K8sSettings,
}

/// The external systems the engine drives.
pub struct Deps {
    pub spawner: Arc<dyn Spawner>,
    /// `None` in `ci`: nothing needs watching when the run ends at the verdict.
    pub watch: Option<(Box<dyn FileWatch>, mpsc::UnboundedReceiver<WatchEvent>)>,
    pub load: LoadFn,
    /// Requests from a UI (trigger, enable, trigger mode, quit).
    pub inbox: Option<mpsc::UnboundedReceiver<Intent>>,
    /// Image builds and deploy targets; connected when a resource first needs them.
    pub backends: Connect,
}

/// One controller per concern; each starts workers and returns actions.
struct Controllers {
    tiltfile: TiltfileController,
    watch: WatchController,
    local: LocalController,
    deploy: DeployController,
}

/// Runs until the view returns an exit code or `shutdown` resolves; returns the code.
pub async fn run(
    mut opts: EngineOptions,
    deps: Deps,
    view: &mut dyn View,
    shutdown: impl Future<Output = ()>,
) -> i32 {
    // Reasons show paths relative to the Tiltfile's directory, so it must be absolute.
    if let Ok(abs) = std::path::absolute(&opts.tiltfile) {
        opts.tiltfile = abs;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (watcher, mut watch_rx) = match deps.watch {
        Some((w, rx)) => (Some(w), Some(rx)),
        None => (None, None),
    };
    let load_opts = LoadOptions {
        tiltfile: opts.tiltfile.clone(),
        args: opts.args.clone(),
        subcommand: opts.subcommand.clone(),
        k8s: opts.k8s.clone(),
        control: LoadControl::default(),
    };
    let mut c = Controllers {
        tiltfile: TiltfileController::new(
            deps.load,
            load_opts,
            opts.load_warn_after,
            opts.stop_grace,
        ),
        watch: WatchController::new(watcher),
        local: LocalController::new(deps.spawner, opts.stop_grace),
        deploy: DeployController::new(deps.backends),
    };
    let mut tasks = Tasks::new(tx);
    let mut inbox = deps.inbox;
    let mut state = EngineState::new(opts.tiltfile.clone());
    tokio::pin!(shutdown);
    let code = loop {
        let decision = c.reconcile(&mut state, &mut tasks);
        if let Some(code) = view.update(&state, &decision, crate::clock::now()) {
            break code;
        }
        if state.quitting {
            break 130;
        }
        let wake = view.next_wakeup();
        tokio::select! {
            Some(a) = rx.recv() => {
                reduce(&mut state, a);
                // Bounded, so the view sees a flood of output in chunks before each
                // resource's capped log buffer would evict lines it has not printed.
                for _ in 1..MAX_BATCH {
                    match rx.try_recv() {
                        Ok(a) => reduce(&mut state, a),
                        Err(_) => break,
                    }
                }
            }
            Some(ev) = recv_opt(&mut watch_rx) => {
                if let Some(a) = c.watch.on_event(ev) {
                    reduce(&mut state, a);
                }
            }
            Some(i) = recv_opt(&mut inbox) => reduce(&mut state, i.into_action(crate::clock::now())),
            _ = &mut shutdown => reduce(&mut state, Action::Quit),
            _ = sleep_until(wake) => {}
        }
    };
    // Stops every run and server (TERM, then KILL after the grace period) and waits.
    c.local.stop();
    c.watch.stop();
    tasks.stop(opts.stop_grace + Duration::from_secs(5)).await;
    while let Ok(a) = rx.try_recv() {
        reduce(&mut state, a);
    }
    let decision = schedule(&state);
    view.finish(&state, &decision);
    code
}

async fn recv_opt<T>(rx: &mut Option<mpsc::UnboundedReceiver<T>>) -> Option<T> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

impl Controllers {
    /// Lets each controller act on the state, then starts what the scheduler decides;
    /// returns the decision that stands afterwards.
    fn reconcile(&mut self, state: &mut EngineState, tasks: &mut Tasks) -> Decision {
        if state.quitting {
            return schedule(state);
        }
        let mut actions = Vec::new();
        actions.extend(self.tiltfile.sync(state, tasks));
        actions.extend(self.watch.sync(state, tasks));
        for a in actions {
            reduce(state, a);
        }
        self.local.sync(state);
        self.deploy.sync(state, tasks);
        let decision = schedule(state);
        if decision.start.is_empty() && decision.serve.is_empty() {
            return decision;
        }
        for name in &decision.serve {
            reduce(
                state,
                Action::ServeRequested {
                    resource: name.clone(),
                },
            );
            self.local.start_serve(state, name, tasks);
        }
        for (name, reason) in &decision.start {
            reduce(
                state,
                Action::RunStarted {
                    resource: name.clone(),
                    reason: reason.clone(),
                    at: crate::clock::now(),
                },
            );
            let deployed = state
                .resources
                .get(name)
                .is_some_and(|r| r.spec.deploy_target().is_some());
            if deployed {
                self.deploy.start_run(state, name, tasks);
            } else {
                self.local.start_run(state, name, tasks);
            }
        }
        schedule(state)
    }
}
