//! Running the renderers of `helm()` and `kustomize()` (`helm template`, `kustomize
//! build`) at load time: cached by what they read, and prefetched concurrently.
//!
//! Tilt runs them one after another on every load, so a Tiltfile with a few charts
//! spends seconds re-rendering charts nobody touched. Starlark evaluation stays serial
//! here too, but a render's output depends only on its [`RenderSpec`]: the program,
//! its arguments and working directory, the environment variables it reads and the
//! content of every input file. So:
//!
//! - the [`Renderer`] keys each render by a hash of all that ([`key`]) and keeps the
//!   output on disk in the project's state dir: a load whose inputs did not change
//!   runs nothing (`ci` re-runs and `up` restarts benefit too);
//! - each load records the specs it rendered; the next load starts, before evaluating,
//!   every recorded render whose key is not cached ([`Renderer::prefetch`]), all at
//!   once on their own threads, so when evaluation reaches `helm()` its output is
//!   ready or on its way, and independent charts render in parallel.
//!
//! A failure is never cached: the next load runs the command again. The process
//! behind each render is in [`runner`] (a trait, with a fake for tests).

#[cfg(test)]
pub mod fake;
pub mod key;
pub mod kustomization;
pub mod runner;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

pub use self::key::key;
pub use self::runner::{ProcessRunner, RenderError, RenderRunner};

/// One render: everything that decides its output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderSpec {
    /// The program as found on `$PATH` (absolute), so a different binary is a
    /// different render.
    pub program: PathBuf,
    pub args: Vec<String>,
    pub dir: PathBuf,
    /// The environment variables the program reads that the process has set.
    pub env: Vec<(String, String)>,
    /// Files and directories (read recursively) whose content the output depends on.
    pub inputs: Vec<PathBuf>,
}

impl RenderSpec {
    /// The command as a shell would show it, for messages (the program by its name:
    /// where `$PATH` found it is noise).
    pub fn shown(&self) -> String {
        let program = self.program.file_name().unwrap_or(self.program.as_os_str());
        let mut s = program.to_string_lossy().into_owned();
        for a in &self.args {
            s.push(' ');
            s.push_str(&crate::config::builtins::os::shell_quote(a));
        }
        s
    }
}

/// Overrides where the cache lives: a directory, or `off` (every render runs).
pub const CACHE_ENV: &str = "STILT_RENDER_CACHE";

/// The cache's file of specs the last load rendered.
const RECORD: &str = "recorded.json";

type Pending = JoinHandle<Result<String, RenderError>>;

/// The renders of one load: cache, prefetched ones in flight, and what ran.
pub struct Renderer {
    runner: Arc<dyn RenderRunner>,
    dir: Option<PathBuf>,
    pending: Mutex<HashMap<String, Pending>>,
    /// The keys and specs rendered by this load, recorded for the next one.
    used: Mutex<Vec<(String, RenderSpec)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Renderer {
    pub fn new(runner: Arc<dyn RenderRunner>, dir: Option<PathBuf>) -> Renderer {
        Renderer {
            runner,
            dir,
            pending: Mutex::default(),
            used: Mutex::default(),
        }
    }

    /// The renderer of a load of the Tiltfile at `tiltfile`, running real programs,
    /// caching in `<project state dir>/renders` unless [`CACHE_ENV`] says otherwise.
    pub fn for_load(tiltfile: &Path) -> Renderer {
        let dir = match std::env::var_os(CACHE_ENV).filter(|v| !v.is_empty()) {
            None => Some(crate::instance::state_dir(tiltfile).join("renders")),
            Some(v) if v == "off" => None,
            Some(v) => Some(PathBuf::from(v)),
        };
        Renderer::new(Arc::new(ProcessRunner), dir)
    }

    /// The cache directory, if caching is on.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Starts, each on its own thread, the renders the previous load recorded whose
    /// output is not cached. Returns how many it started.
    pub fn prefetch(&self) -> usize {
        let Some(dir) = &self.dir else { return 0 };
        let mut pending = lock(&self.pending);
        let mut started = 0;
        for spec in read_record(dir) {
            // A spec whose inputs are gone is not worth rendering ahead.
            let Ok(k) = key(&spec) else { continue };
            if pending.contains_key(&k) || cached(dir, &k).is_some() {
                continue;
            }
            let runner = Arc::clone(&self.runner);
            let dir = dir.clone();
            let key = k.clone();
            let spawned = std::thread::Builder::new()
                .name("render-prefetch".into())
                .spawn(move || {
                    let out = runner.run(&spec)?;
                    store(&dir, &key, &out);
                    Ok(out)
                });
            if let Ok(handle) = spawned {
                pending.insert(k, handle);
                started += 1;
            }
        }
        started
    }

    /// The output of `spec`: from the cache, from a prefetch, or by running it now.
    pub fn render(&self, spec: &RenderSpec) -> Result<String, RenderError> {
        let Some(dir) = self.dir.clone() else {
            return self.runner.run(spec);
        };
        let k = key(spec)?;
        lock(&self.used).push((k.clone(), spec.clone()));
        if let Some(out) = cached(&dir, &k) {
            return Ok(out);
        }
        let prefetched = lock(&self.pending).remove(&k);
        if let Some(handle) = prefetched {
            // A panicked prefetch is a bug; the render then runs here instead.
            if let Ok(result) = handle.join() {
                return result;
            }
        }
        let out = self.runner.run(spec)?;
        store(&dir, &k, &out);
        Ok(out)
    }

    /// Records this load's renders for the next load's prefetch and drops cached
    /// outputs no render of this load used (so the cache does not grow without end).
    /// Only after a successful load: a failed one may have stopped before some renders.
    pub fn finish(&self) {
        let Some(dir) = &self.dir else { return };
        let used = lock(&self.used);
        // A Tiltfile without helm()/kustomize() leaves no cache behind.
        if used.is_empty() {
            let _ = std::fs::remove_dir_all(dir);
            return;
        }
        let keep: BTreeSet<&str> = used.iter().map(|(k, _)| k.as_str()).collect();
        let specs: Vec<&RenderSpec> = used.iter().map(|(_, s)| s).collect();
        if let Ok(text) = serde_json::to_string_pretty(&specs) {
            write_atomic(&dir.join(RECORD), text.as_bytes());
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(k) = name.strip_suffix(".out")
                && !keep.contains(k)
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// `program` as the shell would find it: a path with a slash is taken as it is
/// (relative to `dir`), a bare name is looked up in `path_var` (`$PATH`).
pub fn find_program(program: &str, dir: &Path, path_var: Option<&str>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let runnable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = crate::config::collect::normalize(&dir.join(program));
        return runnable(&p).then_some(p);
    }
    std::env::split_paths(path_var?)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(program))
        .find(|p| runnable(p))
}

fn read_record(dir: &Path) -> Vec<RenderSpec> {
    std::fs::read_to_string(dir.join(RECORD))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

fn cached(dir: &Path, key: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(format!("{key}.out"))).ok()
}

/// Best effort: a cache that cannot be written only costs a re-render next time.
fn store(dir: &Path, key: &str, out: &str) {
    if std::fs::create_dir_all(dir).is_ok() {
        write_atomic(&dir.join(format!("{key}.out")), out.as_bytes());
    }
}

/// Written beside and renamed, so a reader never sees half an output.
fn write_atomic(path: &Path, bytes: &[u8]) {
    let Some(parent) = path.parent() else { return };
    if std::fs::create_dir_all(parent).is_err() {
        return;
    }
    let tmp = parent.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
