//! The file-watching controller: after each load it rebuilds the router and points
//! the watcher at the new roots (off the loop: the watcher's walk of a large tree
//! takes a while); each debounced batch becomes one routed `FilesChanged`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::route::Router;
use super::tasks::Tasks;
use crate::store::{Action, EngineState, Problem, Severity};
use crate::watch::{FileWatch, WatchConfig, WatchError, WatchEvent};

pub struct WatchController {
    /// `None` in `ci`: nothing needs watching when the run ends at the verdict.
    watcher: Option<Arc<Mutex<Box<dyn FileWatch>>>>,
    config: Option<WatchConfig>,
    router: Option<Router>,
    routed_loads: u32,
    /// Counts configurations handed to the watcher; only the latest is applied.
    generation: Arc<AtomicU64>,
}

impl WatchController {
    pub fn new(watcher: Option<Box<dyn FileWatch>>) -> Self {
        WatchController {
            watcher: watcher.map(|w| Arc::new(Mutex::new(w))),
            config: None,
            router: None,
            routed_loads: 0,
            generation: Arc::default(),
        }
    }

    /// After each load: a new router, and the watcher reconfigured if its roots changed.
    pub fn sync(&mut self, state: &EngineState, tasks: &mut Tasks) -> Vec<Action> {
        if self.routed_loads == state.tiltfile.loads {
            return vec![];
        }
        self.routed_loads = state.tiltfile.loads;
        let mut actions = vec![];
        match Router::new(state.project.as_ref(), &state.tiltfile.files_read) {
            Ok(r) => self.router = Some(r),
            Err(e) => actions.push(Action::Problem(Problem::new(
                Severity::Critical,
                format!("file watching: {e}"),
            ))),
        }
        let (Some(watcher), Some(router)) = (&self.watcher, &self.router) else {
            return actions;
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
        if self.config.as_ref() == Some(&cfg) {
            return actions;
        }
        self.config = Some(cfg.clone());
        // Two reloads in a row start two of these; the watcher must end up with the
        // newer config whichever takes the lock first.
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let latest = self.generation.clone();
        let (watcher, tx) = (watcher.clone(), tasks.tx());
        tasks.spawn(async move {
            let configured = tokio::task::spawn_blocking(move || {
                let mut w = watcher.lock().unwrap_or_else(|e| e.into_inner());
                if latest.load(Ordering::SeqCst) != generation {
                    return Ok(());
                }
                w.configure(cfg).map_err(|e| problem(&e))
            })
            .await
            .unwrap_or_else(|e| {
                Err(Problem::new(
                    Severity::Critical,
                    format!("internal error: the file watcher crashed: {e}"),
                ))
            });
            if let Err(p) = configured {
                let _ = tx.send(Action::Problem(p));
            }
        });
        actions
    }

    /// A batch of changed paths, routed to the resources and Tiltfile inputs they touch.
    pub fn on_event(&self, ev: WatchEvent) -> Option<Action> {
        match ev {
            WatchEvent::Changed(paths) => {
                let routed = self.router.as_ref()?.route(&paths);
                if routed.by_resource.is_empty() && routed.tiltfile_inputs.is_empty() {
                    return None;
                }
                Some(Action::FilesChanged {
                    by_resource: routed.by_resource,
                    tiltfile_inputs: routed.tiltfile_inputs,
                    at: crate::clock::now(),
                })
            }
            WatchEvent::Error(e) => Some(Action::Problem(problem(&e))),
        }
    }

    /// Stops watching (at shutdown).
    pub fn stop(&mut self) {
        self.watcher = None;
    }
}

/// A watcher error, typed: without watches on some files, saves there go unseen for
/// the whole session, which a user must not miss.
fn problem(e: &WatchError) -> Problem {
    let severity = match e {
        WatchError::WatchLimit { .. } | WatchError::Start { .. } => Severity::Critical,
        _ => Severity::Warning,
    };
    Problem::new(severity, e.to_string())
}
