//! The loop: actions in, decisions, workers out; shutdown leaves no process behind.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::containers::{Containers, Ctx};
use super::docker::DockerConnect;
use super::load_run::{LoadJob, run_load};
use super::local_run::{RunJob, run_local};
use super::route::Router;
use super::schedule::{Decision, schedule};
use super::serve::{ServeCmd, serve_worker};
use crate::config::{LoadControl, LoadFailure, LoadOptions, Loaded};
use crate::model::ResourceName;
use crate::process::{ProcSpec, Spawner};
use crate::store::{Action, EngineState, ServePhase, UpdatePhase, reduce};
use crate::watch::{FileWatch, WatchConfig, WatchEvent};

pub type LoadFn = Arc<dyn Fn(&LoadOptions) -> Result<Loaded, LoadFailure> + Send + Sync>;

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
}

/// The external systems the engine drives.
pub struct Deps {
    pub spawner: Arc<dyn Spawner>,
    /// `None` in `ci`: nothing needs watching when the run ends at the verdict.
    pub watch: Option<(Box<dyn FileWatch>, mpsc::UnboundedReceiver<WatchEvent>)>,
    pub load: LoadFn,
    /// Actions from outside the engine: a UI's intents (trigger, enable, quit).
    pub inbox: Option<mpsc::UnboundedReceiver<Action>>,
    /// Builds, compose and live update; connected when a resource first needs them.
    pub docker: DockerConnect,
}

struct Effects {
    opts: EngineOptions,
    spawner: Arc<dyn Spawner>,
    load: LoadFn,
    tx: mpsc::UnboundedSender<Action>,
    shutdown_tx: watch::Sender<bool>,
    tasks: JoinSet<()>,
    serves: HashMap<ResourceName, mpsc::UnboundedSender<ServeCmd>>,
    watcher: Option<Box<dyn FileWatch>>,
    watch_cfg: Option<WatchConfig>,
    router: Option<Router>,
    routed_loads: u32,
    containers: Containers,
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
    let (shutdown_tx, _) = watch::channel(false);
    let (watcher, mut watch_rx) = match deps.watch {
        Some((w, rx)) => (Some(w), Some(rx)),
        None => (None, None),
    };
    let mut fx = Effects {
        opts: opts.clone(),
        spawner: deps.spawner,
        load: deps.load,
        tx,
        shutdown_tx,
        tasks: JoinSet::new(),
        serves: HashMap::new(),
        watcher,
        watch_cfg: None,
        router: None,
        routed_loads: 0,
        containers: Containers::new(deps.docker),
    };
    let mut inbox = deps.inbox;
    let mut state = EngineState::new(opts.tiltfile.clone());
    tokio::pin!(shutdown);
    let code = loop {
        let decision = fx.reconcile(&mut state);
        if let Some(code) = view.update(&state, &decision, Instant::now()) {
            break code;
        }
        if state.quitting {
            break 130;
        }
        let wake = view.next_wakeup();
        tokio::select! {
            Some(a) = rx.recv() => {
                reduce(&mut state, a);
                while let Ok(a) = rx.try_recv() {
                    reduce(&mut state, a);
                }
            }
            Some(ev) = recv_opt(&mut watch_rx) => fx.on_watch_event(&mut state, ev),
            Some(a) = recv_opt(&mut inbox) => reduce(&mut state, a),
            _ = &mut shutdown => reduce(&mut state, Action::Quit),
            _ = sleep_until(wake) => {}
        }
    };
    fx.shutdown(&mut state, &mut rx).await;
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

impl Effects {
    /// Starts whatever the state now calls for; returns the scheduling decision.
    fn reconcile(&mut self, state: &mut EngineState) -> Decision {
        if state.quitting {
            return schedule(state);
        }
        self.maybe_load(state);
        self.sync_watch(state);
        self.sync_serves(state);
        let cx = Ctx {
            tasks: &mut self.tasks,
            tx: &self.tx,
            shutdown: self.shutdown_tx.subscribe(),
        };
        self.containers.sync(state, cx);
        let decision = schedule(state);
        for (name, reason) in &decision.start {
            reduce(
                state,
                Action::RunStarted {
                    resource: name.clone(),
                    reason: reason.clone(),
                    at: Instant::now(),
                },
            );
            self.start_run(state, name);
        }
        if decision.start.is_empty() {
            decision
        } else {
            schedule(state)
        }
    }

    /// Starts a load when one is wanted; the worker cancels it at shutdown.
    fn maybe_load(&mut self, state: &mut EngineState) {
        if !state.tiltfile.reload_requested || state.tiltfile.loading {
            return;
        }
        reduce(state, Action::ConfigLoadStarted);
        let job = LoadJob {
            load: self.load.clone(),
            opts: LoadOptions {
                tiltfile: self.opts.tiltfile.clone(),
                args: self.opts.args.clone(),
                subcommand: self.opts.subcommand.clone(),
                control: LoadControl::default(),
            },
            warn_after: self.opts.load_warn_after,
            grace: self.opts.stop_grace,
        };
        let worker = run_load(job, self.tx.clone(), self.shutdown_tx.subscribe());
        self.tasks.spawn(worker);
    }

    /// After each load: rebuild the router and point the watcher at the new roots.
    fn sync_watch(&mut self, state: &mut EngineState) {
        if self.routed_loads == state.tiltfile.loads {
            return;
        }
        self.routed_loads = state.tiltfile.loads;
        match Router::new(state.project.as_ref(), &state.tiltfile.files_read) {
            Ok(r) => self.router = Some(r),
            Err(e) => reduce(
                state,
                Action::WatchError {
                    message: e.to_string(),
                },
            ),
        }
        let (Some(watcher), Some(router)) = (self.watcher.as_mut(), self.router.as_ref()) else {
            return;
        };
        let settings = state
            .project
            .as_ref()
            .map(|p| p.settings.clone())
            .unwrap_or_default();
        let cfg = WatchConfig {
            roots: router.roots(),
            base_dir: state.base_dir(),
            use_gitignore: settings.use_gitignore,
            extra_ignores: settings.watch_ignore.clone(),
            quiet: settings.debounce_quiet,
            max_wait: settings.debounce_max_wait,
        };
        if self.watch_cfg.as_ref() == Some(&cfg) {
            return;
        }
        if let Err(e) = watcher.configure(cfg.clone()) {
            reduce(
                state,
                Action::WatchError {
                    message: e.to_string(),
                },
            );
        }
        self.watch_cfg = Some(cfg);
    }

    fn on_watch_event(&mut self, state: &mut EngineState, ev: WatchEvent) {
        match ev {
            WatchEvent::Changed(paths) => {
                let Some(router) = &self.router else { return };
                let routed = router.route(&paths);
                if routed.by_resource.is_empty() && routed.tiltfile_inputs.is_empty() {
                    return;
                }
                reduce(
                    state,
                    Action::FilesChanged {
                        by_resource: routed.by_resource,
                        tiltfile_inputs: routed.tiltfile_inputs,
                        at: Instant::now(),
                    },
                );
            }
            WatchEvent::Error(e) => reduce(
                state,
                Action::WatchError {
                    message: e.to_string(),
                },
            ),
        }
    }

    fn start_run(&mut self, state: &EngineState, name: &ResourceName) {
        let Some(r) = state.resources.get(name) else {
            return;
        };
        if r.spec.compose().is_some() {
            let cx = Ctx {
                tasks: &mut self.tasks,
                tx: &self.tx,
                shutdown: self.shutdown_tx.subscribe(),
            };
            return self.containers.start_run(state, name, cx);
        }
        let (Some(run), Some(spec)) = (r.running(), r.spec.local()) else {
            return;
        };
        let job = RunJob {
            name: name.clone(),
            run,
            spec: spec.clone(),
            grace: self.opts.stop_grace,
        };
        let fut = run_local(
            job,
            self.spawner.clone(),
            self.tx.clone(),
            self.shutdown_tx.subscribe(),
        );
        self.tasks.spawn(fut);
    }

    /// Starts servers whose run just succeeded; stops those of removed or disabled resources.
    fn sync_serves(&mut self, state: &mut EngineState) {
        self.serves.retain(|name, _| {
            state
                .resources
                .get(name)
                .is_some_and(|r| r.has_serve() && !r.disabled)
        });
        let due: Vec<ResourceName> = state
            .ordered()
            .filter(|r| {
                !r.disabled
                    && r.serve == ServePhase::NotStarted
                    && r.update == UpdatePhase::Done(crate::store::RunOutcome::Succeeded)
            })
            .map(|r| r.name().clone())
            .collect();
        for name in due {
            reduce(
                state,
                Action::ServeRequested {
                    resource: name.clone(),
                },
            );
            let Some(r) = state.resources.get(&name) else {
                continue;
            };
            let Some(local) = r.spec.local() else {
                continue;
            };
            let Some(cmd) = &local.serve_cmd else {
                continue;
            };
            let start = ServeCmd::Start {
                generation: r.serve_generation,
                spec: ProcSpec {
                    argv: cmd.argv(),
                    dir: local.serve_dir.clone(),
                    env: local.serve_env.clone(),
                },
                probe: local.readiness_probe.clone(),
            };
            let sender = self.serves.entry(name.clone()).or_insert_with(|| {
                let (stx, srx) = mpsc::unbounded_channel();
                let worker = serve_worker(
                    name.clone(),
                    srx,
                    self.spawner.clone(),
                    self.tx.clone(),
                    self.opts.stop_grace,
                );
                self.tasks.spawn(worker);
                stx
            });
            let _ = sender.send(start);
        }
    }

    /// Stops every run and server (TERM, then KILL after the grace period) and waits.
    async fn shutdown(
        &mut self,
        state: &mut EngineState,
        rx: &mut mpsc::UnboundedReceiver<Action>,
    ) {
        let _ = self.shutdown_tx.send(true);
        self.serves.clear();
        self.watcher = None;
        let limit = self.opts.stop_grace + Duration::from_secs(5);
        let _ = tokio::time::timeout(limit, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        self.tasks.abort_all();
        while let Ok(a) = rx.try_recv() {
            reduce(state, a);
        }
    }
}
