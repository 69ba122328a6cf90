//! `local_resource(...)`: a command run on change and/or a long-running server.

use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::NoneType;

use super::args::{cmd, str_dict, str_or_list, trigger_mode_of};
use super::blob::Text;
use super::resource_name;
use super::values::{ProbeValue, links_arg};
use crate::config::collect::{Collector, Declared, call_site, current_dir, resolve};
use crate::model::{LocalSpec, Resource, ResourceKind};

/// A string or blob argument; `None` is `""`.
fn optional_text(v: Value, what: &str) -> anyhow::Result<String> {
    if v.is_none() {
        return Ok(String::new());
    }
    super::blob::text_of(v, what)
}

#[starlark_module]
fn local_resource_module(b: &mut GlobalsBuilder) {
    /// Tilt's positional order: name, cmd, deps, trigger_mode, resource_deps, ignore,
    /// auto_init, serve_cmd, cmd_bat, serve_cmd_bat, allow_parallel, links, tags, env,
    /// serve_env, readiness_probe, dir, serve_dir, labels.
    #[allow(clippy::too_many_arguments)]
    fn local_resource<'v>(
        name: Text,
        #[starlark(default = NoneType)] cmd: Value<'v>,
        #[starlark(default = NoneType)] deps: Value<'v>,
        #[starlark(default = NoneType)] trigger_mode: Value<'v>,
        #[starlark(default = NoneType)] resource_deps: Value<'v>,
        #[starlark(default = NoneType)] ignore: Value<'v>,
        #[starlark(default = true)] auto_init: bool,
        #[starlark(default = NoneType)] serve_cmd: Value<'v>,
        #[starlark(default = NoneType)] cmd_bat: Value<'v>,
        #[starlark(default = NoneType)] serve_cmd_bat: Value<'v>,
        #[starlark(default = false)] allow_parallel: bool,
        #[starlark(default = NoneType)] links: Value<'v>,
        #[starlark(default = NoneType)] tags: Value<'v>,
        #[starlark(default = NoneType)] env: Value<'v>,
        #[starlark(default = NoneType)] serve_env: Value<'v>,
        #[starlark(default = NoneType)] readiness_probe: Value<'v>,
        #[starlark(default = NoneType)] dir: Value<'v>,
        #[starlark(default = NoneType)] serve_dir: Value<'v>,
        #[starlark(default = NoneType)] labels: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let name = name.as_str();
        // Windows-only variants: accepted so shared Tiltfiles run, never used here.
        let _ = (cmd_bat, serve_cmd_bat, tags);
        let c = Collector::get(eval)?;
        if name.trim().is_empty() {
            bail!("local_resource() needs a non-empty name");
        }
        resource_name::check(name)?;
        if c.resources
            .borrow()
            .iter()
            .any(|r| r.value.name.as_str() == name)
        {
            bail!("a resource named {name:?} is already declared");
        }
        // `None` (as in Tilt) and `""` mean the Tiltfile's directory.
        let dir = optional_text(dir, "dir")?;
        let serve_dir = optional_text(serve_dir, "serve_dir")?;
        let here = current_dir(eval);
        let dir_of = |d: &str| {
            if d.is_empty() {
                here.clone()
            } else {
                resolve(eval, d)
            }
        };
        let spec = LocalSpec {
            cmd: self::cmd(Some(cmd), "cmd")?,
            serve_cmd: self::cmd(Some(serve_cmd), "serve_cmd")?,
            deps: str_or_list(Some(deps), "deps")?
                .iter()
                .map(|d| resolve(eval, d))
                .collect(),
            ignore: str_or_list(Some(ignore), "ignore")?,
            env: str_dict(Some(env), "env")?,
            serve_env: str_dict(Some(serve_env), "serve_env")?,
            dir: dir_of(&dir),
            serve_dir: dir_of(&serve_dir),
            readiness_probe: probe_arg(readiness_probe)?,
            allow_parallel,
        };
        // The engine compiles these on each load; a bad one is this call's error.
        crate::watch::PathFilter::new(&c.main_dir, &spec.ignore)?;
        if spec.cmd.is_none() && spec.serve_cmd.is_none() {
            bail!("local_resource {name:?} needs a cmd or a serve_cmd");
        }
        if !dir.is_empty() && spec.cmd.is_none() {
            bail!(
                "local_resource {name:?}: dir= is set but cmd is not ('dir' only affects 'cmd'; \
                 use serve_dir= for serve_cmd)"
            );
        }
        if !serve_dir.is_empty() && spec.serve_cmd.is_none() {
            bail!(
                "local_resource {name:?}: serve_dir= is set but serve_cmd is not \
                 ('serve_dir' only affects 'serve_cmd')"
            );
        }
        let resource = Resource {
            name: name.into(),
            labels: str_or_list(Some(labels), "labels")?,
            links: links_arg(links)?,
            resource_deps: str_or_list(Some(resource_deps), "resource_deps")?
                .into_iter()
                .map(Into::into)
                .collect(),
            trigger_mode: trigger_mode_of(trigger_mode, c)?,
            auto_init,
            kind: ResourceKind::Local(spec),
        };
        let at = call_site(eval);
        c.resources.borrow_mut().push(Declared {
            value: resource,
            at,
        });
        Ok(NoneType)
    }
}

fn probe_arg(v: Value) -> anyhow::Result<Option<crate::model::Probe>> {
    if v.is_none() {
        return Ok(None);
    }
    let p = super::args::downcast::<ProbeValue>(v, "readiness_probe", "a probe(...)")?;
    Ok(Some(p.probe.clone()))
}

pub fn register(b: &mut GlobalsBuilder) {
    local_resource_module(b);
}
