//! File builtins: `blob`, `read_file`, `read_json`, `read_yaml`, `read_yaml_stream`,
//! `watch_file`, `listdir`.
//!
//! Paths resolve against the directory of the calling Tiltfile, and every path read
//! is recorded (even a missing one that fell back to `default=`), so creating or
//! editing it reloads the Tiltfile.

use std::path::{Path, PathBuf};

use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::NoneType;

use super::blob::Text;
use super::blob::{Blob, text_of};
use super::data::to_value;
use super::encoding::{docs_value, parse_json, parse_yaml, parse_yaml_stream};
use crate::config::collect::{Collector, resolve};

/// Reads `path` (recorded as read). `Ok(None)` when it does not exist.
fn read_text(
    eval: &Evaluator,
    path: &str,
    what: &str,
) -> anyhow::Result<(PathBuf, Option<String>)> {
    let c = Collector::get(eval)?;
    let abs = resolve(eval, path);
    c.record_read(&abs);
    match std::fs::read(&abs) {
        Ok(bytes) => Ok((abs, Some(String::from_utf8_lossy(&bytes).into_owned()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok((abs, None)),
        Err(e) => Err(anyhow::anyhow!(
            "{what}: cannot read {}: {e}",
            abs.display()
        )),
    }
}

fn missing(what: &str, abs: &Path) -> anyhow::Error {
    anyhow::anyhow!("{what}: file not found: {}", abs.display())
}

/// `read_json`/`read_yaml`/...: read the file, parse it, or fall back to `default`
/// when it is missing (the path is recorded either way, so creating it reloads).
fn read_parsed<'v, 'a, 'e>(
    eval: &mut Evaluator<'v, 'a, 'e>,
    path: &str,
    default: Value<'v>,
    what: &str,
    parse: impl FnOnce(&str, &str, &mut Evaluator<'v, 'a, 'e>) -> anyhow::Result<Value<'v>>,
) -> anyhow::Result<Value<'v>> {
    let (abs, text) = read_text(eval, path, what)?;
    match text {
        Some(t) => parse(&t, &format!("file {}", abs.display()), eval),
        None if default.is_none() => Err(missing(what, &abs)),
        None => Ok(default),
    }
}

/// The files under `dir` (recursively if asked), sorted.
fn list_files(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("listdir(): cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| anyhow::anyhow!("listdir(): cannot read {}: {e}", dir.display()))?;
        let path = entry.path();
        // Follows symlinks, like Tilt's os.Stat-based walk.
        if path.is_dir() {
            if recursive {
                list_files(&path, true, out)?;
            }
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[starlark_module]
fn files_module(b: &mut GlobalsBuilder) {
    fn blob<'v>(#[starlark(require = pos)] s: Value<'v>) -> anyhow::Result<Blob> {
        Ok(Blob::new(text_of(s, "blob() argument")?))
    }

    /// `default=None` (or no default) makes a missing file an error, as in Tilt.
    fn read_file<'v>(
        #[starlark(require = pos)] file_path: Text,
        #[starlark(default = NoneType)] default: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let file_path = file_path.as_str();
        let (abs, text) = read_text(eval, file_path, "read_file()")?;
        match text {
            Some(t) => Ok(eval.heap().alloc(Blob::new(t))),
            None if default.is_none() => Err(missing("read_file()", &abs)),
            None => match default.unpack_str() {
                Some(s) => Ok(eval.heap().alloc(Blob::new(s))),
                None => Ok(default),
            },
        }
    }

    fn read_json<'v>(
        #[starlark(require = pos)] path: Text,
        #[starlark(default = NoneType)] default: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let path = path.as_str();
        read_parsed(eval, path, default, "read_json()", |t, src, eval| {
            to_value(parse_json(t, src)?, eval.heap())
        })
    }

    fn read_yaml<'v>(
        #[starlark(require = pos)] path: Text,
        #[starlark(default = NoneType)] default: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let path = path.as_str();
        read_parsed(eval, path, default, "read_yaml()", |t, src, eval| {
            to_value(parse_yaml(t, src)?, eval.heap())
        })
    }

    fn read_yaml_stream<'v>(
        #[starlark(require = pos)] path: Text,
        #[starlark(default = NoneType)] default: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let path = path.as_str();
        read_parsed(eval, path, default, "read_yaml_stream()", |t, src, eval| {
            docs_value(parse_yaml_stream(t, src)?, eval)
        })
    }

    /// Records a file or directory: a change under it reloads the Tiltfile.
    fn watch_file<'v>(
        #[starlark(require = pos)] file_path: Text,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let file_path = file_path.as_str();
        let c = Collector::get(eval)?;
        c.record_read(&resolve(eval, file_path));
        Ok(NoneType)
    }

    /// Absolute paths of the files (not directories) in `directory`, sorted.
    fn listdir<'v>(
        #[starlark(require = pos)] directory: Text,
        #[starlark(default = false)] recursive: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Vec<String>> {
        let directory = directory.as_str();
        let c = Collector::get(eval)?;
        let dir = resolve(eval, directory);
        c.record_read(&dir);
        if !dir.is_dir() {
            anyhow::bail!("listdir(): not a directory: {}", dir.display());
        }
        let mut files = Vec::new();
        list_files(&dir, recursive, &mut files)?;
        files.sort();
        Ok(files
            .into_iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect())
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    files_module(b);
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
