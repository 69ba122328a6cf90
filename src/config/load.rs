//! `load()`: evaluate the main Tiltfile and turn what it declared into a project.

use std::path::{Path, PathBuf};

use super::assemble::{Declarations, assemble};
use super::collect::{Collector, normalize};
use super::control::LoadControl;
use super::error::ConfigError;
use super::loader::eval_file;
use crate::model::{Project, Resource, ResourceName, topo_order};

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub tiltfile: PathBuf,
    /// Arguments after `--`.
    pub args: Vec<String>,
    /// `up`, `ci` or `down`, for `config.tilt_subcommand`.
    pub subcommand: String,
    /// Lets the starter cancel the load (and the `local()` commands it runs) and see
    /// where it is; see [`LoadControl`].
    pub control: LoadControl,
    /// `--context` and `--namespace` from the command line (`k8s_context()`,
    /// `k8s_namespace()` and the deploy target use them).
    pub k8s: crate::model::K8sSettings,
}

#[derive(Debug)]
pub struct Loaded {
    pub project: Project,
    /// Every file the evaluation read: a change to one reloads the Tiltfile.
    pub files_read: Vec<PathBuf>,
    pub warnings: Vec<String>,
    /// What `print()` and `local()` wrote.
    pub output: Vec<String>,
}

#[derive(Debug)]
pub struct LoadFailure {
    pub error: ConfigError,
    /// Files read before the failure: watching them lets a fix trigger a reload.
    pub files_read: Vec<PathBuf>,
    pub output: Vec<String>,
}

/// Stack of the thread that evaluates: starlark recurses on the native stack while
/// it parses, compiles and evaluates, and [`nesting::MAX_DEPTH`] levels in any shape
/// (and starlark's 2000-frame call stack) need far more than the 2 MiB a tokio or
/// test thread has. Pages are only touched when used, so a large reservation is cheap.
///
/// [`nesting::MAX_DEPTH`]: super::nesting::MAX_DEPTH
const EVAL_STACK: usize = 128 * 1024 * 1024;

/// Evaluates the Tiltfile on its own thread with a large, fixed stack ([`EVAL_STACK`])
/// and waits for it, so the caller's stack size never decides whether a deep
/// Tiltfile loads. Cancelling still works: the [`LoadControl`] is shared with the
/// thread, and a caller that abandons the load abandons the wait with it.
// A failed load is rare and carries the files to watch; boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub fn load(opts: &LoadOptions) -> Result<Loaded, LoadFailure> {
    let owned = opts.clone();
    let thread = std::thread::Builder::new()
        .name("tiltfile-load".into())
        .stack_size(EVAL_STACK)
        .spawn(move || load_here(&owned));
    match thread {
        // A panic in a builtin is a bug: pass it on as if the load ran here.
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        Err(source) => Err(LoadFailure {
            error: ConfigError::StartThread { source },
            files_read: Vec::new(),
            output: Vec::new(),
        }),
    }
}

#[allow(clippy::result_large_err)]
fn load_here(opts: &LoadOptions) -> Result<Loaded, LoadFailure> {
    let path = absolute(&opts.tiltfile);
    let mut c = Collector::new(path.clone(), opts.args.clone(), opts.subcommand.clone());
    c.control = opts.control.clone();
    c.settings.borrow_mut().k8s = opts.k8s.clone();
    c.record_read(&path);
    c.renders = super::k8s::render::Renderer::for_load(&path);
    c.renders.prefetch();
    let result = evaluate(&c, &path).and_then(|()| finish(&c, &path));
    if result.is_ok() {
        c.renders.finish();
    }
    let files_read = c.files_read.borrow().iter().cloned().collect();
    let output = c.output.take();
    match result {
        Ok(project) => Ok(Loaded {
            project,
            files_read,
            warnings: c.warnings.take(),
            output,
        }),
        Err(error) => Err(LoadFailure {
            error,
            files_read,
            output,
        }),
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        normalize(p)
    } else {
        let cwd = std::env::current_dir().unwrap_or_default();
        normalize(&cwd.join(p))
    }
}

fn evaluate(c: &Collector, path: &Path) -> Result<(), ConfigError> {
    let src = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadTiltfile {
        path: path.to_path_buf(),
        source,
    })?;
    match eval_file(c, path, src, false) {
        Ok(_) => Ok(()),
        // `exit()` stops evaluation through an error; what was declared before it stands.
        Err(_) if c.exit_requested.get() => Ok(()),
        Err(_) if c.control.is_cancelled() => Err(ConfigError::Cancelled),
        Err(e) => Err(ConfigError::from_starlark(&e)),
    }
}

/// Assembles what the builtins declared (compose services and images join the local
/// resources), checks it as a whole (deps graph) and builds the project.
fn finish(c: &Collector, path: &Path) -> Result<Project, ConfigError> {
    let assembled = assemble(Declarations {
        locals: c.resources.take(),
        images: c.images.take(),
        compose: c.compose.take(),
        dc_resources: c.dc_resources.take(),
        k8s: c.k8s.take(),
        trigger_mode: c.default_trigger_mode.get(),
    })?;
    c.warnings.borrow_mut().extend(assembled.warnings);
    let declared = assembled.resources;
    let resources: Vec<Resource> = declared.iter().map(|d| d.value.clone()).collect();
    if let Err(e) = topo_order(&resources) {
        let culprit = match &e {
            crate::model::GraphError::UnknownDep { resource, .. } => resource.clone(),
            crate::model::GraphError::Cycle { cycle } => cycle[0].clone(),
        };
        let at = declared
            .iter()
            .find(|d| d.value.name.as_str() == culprit)
            .and_then(|d| d.at.clone());
        return Err(match at {
            Some(location) => ConfigError::Declared {
                message: e.to_string(),
                location,
            },
            None => ConfigError::Eval {
                rendered: e.to_string(),
                location: None,
            },
        });
    }
    super::k8s::resources::guard_project(c, &declared)?;
    let enabled = enabled_resources(c, &resources)?;
    Ok(Project {
        tiltfile: path.to_path_buf(),
        resources,
        settings: c.settings.borrow().clone(),
        enabled,
        images: assembled.images,
    })
}

/// The names to run with their `resource_deps`, or `None` for all. Without
/// `config.parse()`, words after `--` name resources, as in Tilt.
fn enabled_resources(
    c: &Collector,
    resources: &[Resource],
) -> Result<Option<Vec<ResourceName>>, ConfigError> {
    let cfg = c.config.borrow();
    let names = match (&cfg.enabled_resources, cfg.parsed) {
        (Some(list), _) => list.clone(),
        (None, false) if !c.args.is_empty() => c.args.clone(),
        _ => return Ok(None),
    };
    let mut out: Vec<ResourceName> = Vec::new();
    let mut todo: Vec<String> = names;
    while let Some(n) = todo.pop() {
        let Some(r) = resources.iter().find(|r| r.name.as_str() == n) else {
            let known: Vec<&str> = resources.iter().map(|r| r.name.as_str()).collect();
            return Err(ConfigError::Eval {
                rendered: format!(
                    "error: no resource named {n:?} to enable (declared: {})",
                    known.join(", ")
                ),
                location: None,
            });
        };
        if !out.contains(&r.name) {
            out.push(r.name.clone());
            todo.extend(r.resource_deps.iter().map(|d| d.0.clone()));
        }
    }
    Ok(Some(out))
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
