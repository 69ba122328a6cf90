//! The evaluation's accumulator: builtins record typed specs here (via `eval.extra`).
//!
//! One `Collector` lives for one evaluation of the main Tiltfile and every file it
//! loads. It uses `RefCell`s because starlark evaluation is single-threaded and
//! builtins only get a shared reference to `eval.extra`.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use starlark::any::ProvidesStaticType;
use starlark::environment::FrozenModule;
use starlark::eval::Evaluator;

use super::builtins::compose::{ComposeDecl, DcResourceOpts};
use super::builtins::config_args::ConfigArgs;
use super::control::LoadControl;
use super::error::Location;
use super::k8s::kubeconfig::{self, K8sEnv};
use super::k8s::render::{ProcessRunner, Renderer};
use super::k8s::resources::K8sDecls;
use crate::model::{ImageSpec, Resource, Settings, TriggerMode};

/// Something declared by a builtin call, with the place of the call.
#[derive(Debug, Clone)]
pub struct Declared<T> {
    pub value: T,
    pub at: Option<Location>,
}

#[derive(ProvidesStaticType)]
pub struct Collector {
    /// Directory of the main Tiltfile.
    pub main_dir: PathBuf,
    pub main_path: PathBuf,
    /// Arguments after `--` on the command line.
    pub args: Vec<String>,
    /// `up`, `ci` or `down`: exposed as `config.tilt_subcommand`.
    pub subcommand: String,
    pub resources: RefCell<Vec<Declared<Resource>>>,
    /// `docker_build` / `custom_build`, in declaration order.
    pub images: RefCell<Vec<Declared<ImageSpec>>>,
    /// `docker_compose` calls; their services become resources after evaluation.
    pub compose: RefCell<Vec<Declared<ComposeDecl>>>,
    /// `dc_resource` options, applied after evaluation (they may precede the service).
    pub dc_resources: RefCell<Vec<Declared<DcResourceOpts>>>,
    /// `k8s_yaml` objects and `k8s_resource` calls; resources are built after evaluation.
    pub k8s: RefCell<K8sDecls>,
    /// The file whose module holds the `workload_to_resource_function` (in its
    /// `extra_value`), if one was registered.
    pub k8s_name_fn: RefCell<Option<PathBuf>>,
    /// The kubeconfig's context and namespace (after `--context`/`--namespace`),
    /// read on first use.
    k8s_env: OnceCell<Result<K8sEnv, String>>,
    pub settings: RefCell<Settings>,
    pub default_trigger_mode: Cell<TriggerMode>,
    pub files_read: RefCell<BTreeSet<PathBuf>>,
    pub warnings: RefCell<Vec<String>>,
    /// Lines printed by `print()` and echoed by `local()`.
    pub output: RefCell<Vec<String>>,
    pub config: RefCell<ConfigArgs>,
    /// Set by `exit()`: evaluation stops early but successfully.
    pub exit_requested: Cell<bool>,
    /// `os.putenv` (`Some`) and `os.unsetenv` (`None`): applied over the process
    /// environment by `os.getenv`, `os.environ` and `local()`, so the Tiltfile never
    /// mutates the real process environment.
    pub env_overrides: RefCell<BTreeMap<String, Option<String>>>,
    /// Files being loaded right now, to report `load()` cycles.
    pub(crate) loading: RefCell<Vec<PathBuf>>,
    pub(crate) loaded: RefCell<HashMap<PathBuf, FrozenModule>>,
    /// Cancellation, `local()` process groups and the current statement, shared with
    /// whoever started the load.
    pub control: LoadControl,
    /// Runs `helm template` / `kustomize build` for `helm()` and `kustomize()`, with
    /// the render cache and prefetch (`config::k8s::render`).
    pub renders: Renderer,
}

impl Collector {
    pub fn new(main_path: PathBuf, args: Vec<String>, subcommand: String) -> Self {
        let main_dir = main_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        Self {
            main_dir,
            main_path,
            args,
            subcommand,
            resources: RefCell::default(),
            images: RefCell::default(),
            compose: RefCell::default(),
            dc_resources: RefCell::default(),
            k8s: RefCell::default(),
            k8s_name_fn: RefCell::default(),
            k8s_env: OnceCell::new(),
            settings: RefCell::default(),
            default_trigger_mode: Cell::new(TriggerMode::Auto),
            files_read: RefCell::default(),
            warnings: RefCell::default(),
            output: RefCell::default(),
            config: RefCell::default(),
            exit_requested: Cell::new(false),
            env_overrides: RefCell::default(),
            loading: RefCell::default(),
            loaded: RefCell::default(),
            control: LoadControl::default(),
            renders: Renderer::new(std::sync::Arc::new(ProcessRunner), None),
        }
    }

    /// The collector of the running evaluation.
    pub fn get<'a>(eval: &Evaluator<'_, 'a, '_>) -> anyhow::Result<&'a Collector> {
        eval.extra
            .and_then(|e| e.downcast_ref::<Collector>())
            .ok_or_else(|| {
                anyhow::anyhow!("internal error: Tiltfile evaluated without a collector")
            })
    }

    /// Records that the evaluation depends on `path`: a change to it reloads the Tiltfile.
    pub fn record_read(&self, path: &Path) {
        self.files_read.borrow_mut().insert(path.to_path_buf());
    }

    /// An environment variable as the Tiltfile sees it (process env + overrides).
    pub fn getenv(&self, key: &str) -> Option<String> {
        match self.env_overrides.borrow().get(key) {
            Some(v) => v.clone(),
            None => std::env::var(key).ok(),
        }
    }

    /// The whole environment as the Tiltfile sees it, sorted by name.
    pub fn environ(&self) -> BTreeMap<String, String> {
        let mut env: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        for (k, v) in self.env_overrides.borrow().iter() {
            match v {
                Some(v) => env.insert(k.clone(), v.clone()),
                None => env.remove(k),
            };
        }
        env
    }

    /// The Kubernetes context and namespace in use: `--context`/`--namespace`, else
    /// the kubeconfig's (`$KUBECONFIG` as the process has it, else `~/.kube/config`).
    pub fn k8s_env(&self) -> anyhow::Result<K8sEnv> {
        let env = self.k8s_env.get_or_init(|| {
            let home = std::env::var_os("HOME").map(PathBuf::from);
            let list = std::env::var("KUBECONFIG").ok();
            let paths = kubeconfig::paths(list.as_deref(), home.as_deref());
            let k = self.settings.borrow().k8s.clone();
            kubeconfig::read(&paths)
                .map(|cfg| cfg.resolve(k.context.as_deref(), k.namespace.as_deref()))
                .map_err(|e| e.to_string())
        });
        env.clone().map_err(|e| anyhow::anyhow!(e))
    }

    pub fn warn(&self, msg: impl Into<String>) {
        self.warnings.borrow_mut().push(msg.into());
    }
}

/// The directory of the Tiltfile (main or loaded) being executed when the builtin is
/// called: relative paths resolve against it, as in Tilt. A function defined in a
/// `load()`ed file and called from the main Tiltfile resolves against the main
/// Tiltfile; the loaded file's own top-level code resolves against its directory.
pub fn current_dir(eval: &Evaluator<'_, '_, '_>) -> PathBuf {
    let Some(c) = eval.extra.and_then(|e| e.downcast_ref::<Collector>()) else {
        return PathBuf::from(".");
    };
    c.loading
        .borrow()
        .last()
        .and_then(|file| file.parent())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| c.main_dir.clone())
}

/// `path` made absolute against the executing file's directory, with `.` and `..` folded.
pub fn resolve(eval: &Evaluator<'_, '_, '_>, path: &str) -> PathBuf {
    normalize(&current_dir(eval).join(path))
}

/// Lexically folds `.` and `..` (no file system access, so missing paths work).
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Where the builtin being run was called from.
pub fn call_site(eval: &Evaluator<'_, '_, '_>) -> Option<Location> {
    eval.call_stack_top_location()
        .map(|s| Location::from_span(&s))
}
