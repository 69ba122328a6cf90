//! `kustomize(paths, kustomize_bin=None, flags=[])`: `kustomize build` of a directory,
//! returned as a blob of YAML for `k8s_yaml` (as in Tilt).
//!
//! As in Tilt: `kustomize_bin` names the program (it must exist); without it,
//! `kustomize` from `$PATH`, falling back to `kubectl kustomize` when there is none.
//! The path is passed relative to the Tiltfile's directory (kustomize mishandles some
//! absolute paths). Only the kustomization's files are watched: the kustomization
//! file and what it lists, recursively through bases
//! (`config::k8s::render::kustomization`). The build goes through the load's renderer
//! (`config::k8s::render`): a reload whose files did not change runs nothing.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::{NoneOr, NoneType};

use super::args::str_or_list;
use super::blob::Blob;
use super::blob::Text;
use crate::config::collect::{Collector, current_dir, resolve};
use crate::config::k8s::render::{RenderSpec, find_program, kustomization};

/// The program and its leading arguments: `[kustomize, build]` or `[kubectl,
/// kustomize]`. `find` looks a program up as the shell would.
pub fn command(
    kustomize_bin: Option<&str>,
    find: impl Fn(&str) -> Option<PathBuf>,
) -> anyhow::Result<(PathBuf, Vec<String>)> {
    if let Some(bin) = kustomize_bin {
        let program = find(bin).ok_or_else(|| {
            anyhow!("kustomize(): kustomize_bin {bin:?} was not found (or is not executable)")
        })?;
        return Ok((program, vec!["build".into()]));
    }
    if let Some(program) = find("kustomize") {
        return Ok((program, vec!["build".into()]));
    }
    if let Some(program) = find("kubectl") {
        return Ok((program, vec!["kustomize".into()]));
    }
    bail!(
        "kustomize(): neither `kustomize` nor `kubectl` (for `kubectl kustomize`) was found \
         on $PATH; install one of them, or pass kustomize_bin="
    )
}

/// `path` relative to `base` when it is under it, else as it is.
fn relative(path: &Path, base: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".into(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => path.display().to_string(),
    }
}

fn kustomize_dir(eval: &Evaluator, path: &str) -> anyhow::Result<PathBuf> {
    let dir = resolve(eval, path);
    if !dir.is_dir() {
        bail!("kustomize(): {} is not a directory", dir.display());
    }
    if kustomization::file_of(&dir).is_none() {
        bail!(
            "kustomize(): {} has no kustomization.yaml (nor kustomization.yml, \
             Kustomization)",
            dir.display()
        );
    }
    Ok(dir)
}

#[starlark_module]
fn kustomize_module(b: &mut GlobalsBuilder) {
    fn kustomize<'v>(
        #[starlark(require = pos)] paths: Text,
        #[starlark(default = NoneOr::None)] kustomize_bin: NoneOr<&str>,
        #[starlark(default = NoneType)] flags: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Blob> {
        let paths = paths.as_str();
        let c = Collector::get(eval)?;
        let dir = kustomize_dir(eval, paths)?;
        let inputs = kustomization::deps(&dir);
        for p in &inputs {
            c.record_read(p);
        }
        let cwd = current_dir(eval);
        let path_var = c.getenv("PATH");
        let find = |p: &str| find_program(p, &cwd, path_var.as_deref());
        let bin = kustomize_bin.into_option().filter(|b| !b.is_empty());
        let (program, mut args) = command(bin, find)?;
        args.extend(str_or_list(Some(flags), "kustomize(flags=)")?);
        args.push(relative(&dir, &cwd));
        let spec = RenderSpec {
            program,
            args,
            dir: cwd,
            env: Vec::new(),
            inputs,
        };
        c.output
            .borrow_mut()
            .push(format!("kustomize: {}", spec.shown()));
        let text = c
            .renders
            .render(&spec)
            .map_err(|e| anyhow!("kustomize(): {e}"))?;
        Ok(Blob::new(text))
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    kustomize_module(b);
}

#[cfg(test)]
#[path = "kustomize_tests.rs"]
mod tests;
