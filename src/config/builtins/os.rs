//! `os`, `os.path`, `sys` and `shlex`: Tilt's helper modules.
//!
//! Differences from Tilt, on purpose:
//! - `os.putenv` / `os.unsetenv` do not touch the real process environment: they
//!   record overrides in the `Collector`, which `os.getenv`, `os.environ` and
//!   `local()` apply. The effect inside one Tiltfile evaluation is the same.
//! - `os.environ` is a dict snapshot taken when each Tiltfile (main or loaded)
//!   starts evaluating (see [`super::per_eval`]): `os.environ[k]`, `.get`, `in`
//!   and iteration work, but assigning to it does not set the variable (use
//!   `os.putenv`), and it does not see `os.putenv` calls made later in the file.
//! - `os.path.join`, `basename` and `dirname` follow Go's `filepath` rules (as
//!   Tilt does), e.g. `join("a", "/b") == "a/b"` and `dirname("a/b/") == "a/b"`.
//! - `sys.argv` is this process's real argv (Tilt's is too).

use std::path::{Component, Path, PathBuf};

use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::none::{NoneOr, NoneType};
use starlark::values::tuple::UnpackTuple;

use super::blob::Text;
use crate::config::collect::{Collector, current_dir, resolve};

/// POSIX shell quoting (Python's `shlex.quote`): safe words pass through, anything
/// else is single-quoted with `'` written as `'"'"'`; the empty string is `''`.
pub fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".to_owned();
    }
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if s.chars().all(safe) {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', r#"'"'"'"#))
}

/// Go's `filepath.Clean`: lexical, keeps leading `..` of relative paths, `""` is `.`.
pub fn go_clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

fn go_base(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

fn go_dir(path: &str) -> String {
    match path.rfind('/') {
        Some(i) => go_clean(&path[..=i]),
        None => ".".to_owned(),
    }
}

/// `target` relative to `base` (both absolute and normalized), lexically.
pub fn relative(target: &Path, base: &Path) -> PathBuf {
    let t: Vec<Component> = target.components().collect();
    let b: Vec<Component> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn string(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[starlark_module]
fn os_module(b: &mut GlobalsBuilder) {
    /// Tilt: the directory of the Tiltfile being executed (not the process cwd).
    fn getcwd<'v>(eval: &mut Evaluator<'v, '_, '_>) -> anyhow::Result<String> {
        Ok(string(&current_dir(eval)))
    }

    fn getenv<'v>(
        #[starlark(require = pos)] key: Text,
        #[starlark(default = NoneOr::None)] default: NoneOr<&str>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneOr<String>> {
        let key = key.as_str();
        let c = Collector::get(eval)?;
        Ok(match c.getenv(key) {
            Some(v) => NoneOr::Other(v),
            None => default
                .into_option()
                .map_or(NoneOr::None, |d| NoneOr::Other(d.to_owned())),
        })
    }

    fn putenv<'v>(
        #[starlark(require = pos)] key: starlark::values::Value<'v>,
        #[starlark(require = pos)] value: starlark::values::Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        // A blob (`local()`'s output) is accepted where a string is, as in Tilt.
        let key = super::blob::text_of(key, "os.putenv() key")?;
        let value = super::blob::text_of(value, "os.putenv() value")?;
        let (key, value) = (key.as_str(), value.as_str());
        if key.is_empty() || key.contains('=') || key.contains('\0') || value.contains('\0') {
            bail!("os.putenv(): invalid environment variable name {key:?}");
        }
        let c = Collector::get(eval)?;
        c.env_overrides
            .borrow_mut()
            .insert(key.to_owned(), Some(value.to_owned()));
        Ok(NoneType)
    }

    fn unsetenv<'v>(
        #[starlark(require = pos)] key: Text,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let key = key.as_str();
        let c = Collector::get(eval)?;
        c.env_overrides.borrow_mut().insert(key.to_owned(), None);
        Ok(NoneType)
    }
}

#[starlark_module]
fn path_module(b: &mut GlobalsBuilder) {
    fn abspath<'v>(
        #[starlark(require = pos)] path: Text,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<String> {
        let path = path.as_str();
        Ok(string(&resolve(eval, path)))
    }

    /// `relpath(targpath, basepath=<Tiltfile dir>)`; `start=` is accepted as in Python.
    fn relpath<'v>(
        #[starlark(require = pos)] targpath: Text,
        #[starlark(default = NoneOr::None)] basepath: NoneOr<&str>,
        #[starlark(require = named, default = NoneOr::None)] start: NoneOr<&str>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<String> {
        let targpath = targpath.as_str();
        let base = match basepath.into_option().or(start.into_option()) {
            Some(b) => resolve(eval, b),
            None => current_dir(eval),
        };
        Ok(string(&relative(&resolve(eval, targpath), &base)))
    }

    fn basename(#[starlark(require = pos)] path: Text) -> anyhow::Result<String> {
        Ok(go_base(path.as_str()))
    }

    fn dirname(#[starlark(require = pos)] path: Text) -> anyhow::Result<String> {
        Ok(go_dir(path.as_str()))
    }

    /// Does not watch the path (Tilt #4062); use `watch_file` for that.
    fn exists<'v>(
        #[starlark(require = pos)] path: Text,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<bool> {
        let path = path.as_str();
        Ok(resolve(eval, path).exists())
    }

    fn isdir<'v>(
        #[starlark(require = pos)] path: Text,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<bool> {
        let path = path.as_str();
        Ok(resolve(eval, path).is_dir())
    }

    fn isfile<'v>(
        #[starlark(require = pos)] path: Text,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<bool> {
        let path = path.as_str();
        Ok(resolve(eval, path).is_file())
    }

    fn join(#[starlark(args)] parts: UnpackTuple<Text>) -> anyhow::Result<String> {
        let parts: Vec<&str> = parts
            .items
            .iter()
            .map(Text::as_str)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.is_empty() {
            return Ok(String::new());
        }
        Ok(go_clean(&parts.join("/")))
    }

    fn realpath<'v>(
        #[starlark(require = pos)] path: Text,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<String> {
        let path = path.as_str();
        let abs = resolve(eval, path);
        std::fs::canonicalize(&abs)
            .map(|p| string(&p))
            .map_err(|e| anyhow::anyhow!("os.path.realpath(): {}: {e}", abs.display()))
    }
}

#[starlark_module]
fn shlex_module(b: &mut GlobalsBuilder) {
    fn quote(#[starlark(require = pos)] s: &str) -> anyhow::Result<String> {
        Ok(shell_quote(s))
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    b.namespace("os", |b| {
        os_module(b);
        b.set("name", "posix");
        b.namespace("path", path_module);
    });
    b.namespace("sys", |b| {
        b.set(
            "argv",
            std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>(),
        );
        let exe = std::env::current_exe()
            .map(|p| string(&p))
            .unwrap_or_default();
        b.set("executable", exe);
    });
    b.namespace("shlex", shlex_module);
}

#[cfg(test)]
#[path = "os_tests.rs"]
mod tests;
