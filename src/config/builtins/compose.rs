//! `docker_compose(...)` and `dc_resource(...)`: Docker Compose services as resources.
//!
//! `docker_compose` runs the real compose tool's `config` during the load (like
//! `local()`), so interpolation, merging and validation are compose's own and a bad
//! file fails at the call with the tool's message. `dc_resource` only records its
//! options: as in Tilt it may come before or after the `docker_compose` that declares
//! its service, so both meet in `config::assemble` once evaluation is over.

pub mod config_cmd;
pub mod services;

use std::path::PathBuf;

use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::list::ListRef;
use starlark::values::none::{NoneOr, NoneType};
use starlark::values::{Value, ValueLike};

use self::config_cmd::{ConfigCmd, Source, default_project_name};
use self::services::ServiceInfo;
use super::args::{str_or_list, trigger_mode_of};
use super::blob::Blob;
use super::blob::Text;
use super::values::links_arg;
use crate::config::collect::{Collector, Declared, call_site, current_dir, resolve};
use crate::model::{ComposeProject, Link, ResourceName, TriggerMode};

/// One `docker_compose` call, resolved.
#[derive(Debug, Clone)]
pub struct ComposeDecl {
    pub project: ComposeProject,
    /// The calls' arguments, merged: a later call for the project re-runs `config`.
    pub call: Call,
    pub services: Vec<ServiceInfo>,
    /// How many resources were declared before the call: its services go there.
    pub position: usize,
    /// The `trigger_mode()` default in force at the call.
    pub trigger_mode: TriggerMode,
}

/// One `dc_resource` call; `None` fields leave the service's defaults.
#[derive(Debug, Clone, Default)]
pub struct DcResourceOpts {
    pub service: String,
    pub project_name: Option<String>,
    pub new_name: Option<String>,
    pub trigger_mode: Option<TriggerMode>,
    pub resource_deps: Vec<ResourceName>,
    pub links: Vec<Link>,
    pub labels: Option<Vec<String>>,
    pub auto_init: Option<bool>,
    pub infer_links: Option<bool>,
    pub image: Option<String>,
}

fn sources(eval: &Evaluator, v: Value) -> anyhow::Result<Vec<Source>> {
    let items: Vec<Value> = match ListRef::from_value(v) {
        Some(l) => l.content().to_vec(),
        None => vec![v],
    };
    let out = items
        .into_iter()
        .map(|item| {
            if let Some(p) = item.unpack_str() {
                Ok(Source::File(resolve(eval, p)))
            } else if let Some(b) = item.downcast_ref::<Blob>() {
                Ok(Source::Inline(b.text.clone()))
            } else {
                bail!(
                    "docker_compose(): configPaths must be paths, blobs of YAML, or a list \
                     of them, not {}",
                    item.get_type()
                )
            }
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if out.is_empty() {
        bail!("docker_compose() needs at least one compose file");
    }
    Ok(out)
}

/// Records the files the model came from (a change reloads the Tiltfile); a missing
/// one is this call's error, clearer than the tool's traceback.
fn record_files(
    c: &Collector,
    sources: &[Source],
    env_file: Option<&PathBuf>,
) -> anyhow::Result<()> {
    for f in files_of(sources).iter().chain(env_file) {
        c.record_read(f);
        if !f.is_file() {
            bail!("docker_compose(): {} does not exist", f.display());
        }
    }
    Ok(())
}

fn project_of(
    eval: &Evaluator,
    sources: &[Source],
    name: &str,
) -> anyhow::Result<(String, PathBuf)> {
    let dir = match &sources[0] {
        Source::File(p) => p.parent().map(PathBuf::from).unwrap_or_default(),
        Source::Inline(_) => current_dir(eval),
    };
    let name = if name.is_empty() {
        default_project_name(&dir)
    } else {
        name.to_owned()
    };
    if name.is_empty() {
        bail!(
            "docker_compose(): cannot derive a project name from {}; pass project_name=",
            dir.display()
        );
    }
    Ok((name, dir))
}

/// What one `docker_compose` call asked for.
#[derive(Debug, Clone)]
pub struct Call {
    pub sources: Vec<Source>,
    pub env_file: Option<PathBuf>,
    pub profiles: Vec<String>,
    pub wait: bool,
}

impl Call {
    /// A later call for the same project adds its files (compose merges them in
    /// order, so an override file works as with `-f a -f b`), as in Tilt.
    fn merged_into(self, prev: &Call) -> Call {
        let mut profiles = prev.profiles.clone();
        profiles.extend(
            self.profiles
                .into_iter()
                .filter(|p| !prev.profiles.contains(p)),
        );
        Call {
            sources: prev.sources.iter().cloned().chain(self.sources).collect(),
            env_file: self.env_file.or_else(|| prev.env_file.clone()),
            profiles,
            wait: self.wait || prev.wait,
        }
    }
}

/// Runs `config` for `call` (merged with an earlier call for the same project) and
/// records the project.
fn declare(
    c: &Collector,
    eval: &Evaluator,
    name: String,
    project_dir: PathBuf,
    call: Call,
) -> anyhow::Result<()> {
    let prev = c
        .compose
        .borrow()
        .iter()
        .position(|d| d.value.project.name == name);
    let (call, project_dir) = match prev {
        Some(i) => {
            let compose = c.compose.borrow();
            let p = &compose[i].value;
            (call.merged_into(&p.call), p.project.project_dir.clone())
        }
        None => (call, project_dir),
    };
    let dot_env = project_dir.join(".env");
    if call.env_file.is_none() && dot_env.is_file() {
        c.record_read(&dot_env);
    }
    let model = ConfigCmd {
        project_name: &name,
        project_dir: &project_dir,
        env_file: call.env_file.as_deref(),
        profiles: &call.profiles,
        sources: &call.sources,
        env_overrides: &c.env_overrides.borrow(),
    }
    .run()?;
    let decl = ComposeDecl {
        services: services::services(&model, &project_dir, &call.profiles),
        project: ComposeProject {
            name,
            project_dir,
            files: files_of(&call.sources),
            env_file: call.env_file.clone(),
            profiles: call.profiles.clone(),
            wait: call.wait,
            model,
        },
        call,
        position: c.resources.borrow().len(),
        trigger_mode: c.default_trigger_mode.get(),
    };
    let mut compose = c.compose.borrow_mut();
    match prev {
        // The project keeps the place and call site of its first call.
        Some(i) => {
            compose[i].value = ComposeDecl {
                position: compose[i].value.position,
                trigger_mode: compose[i].value.trigger_mode,
                ..decl
            }
        }
        None => compose.push(Declared {
            value: decl,
            at: call_site(eval),
        }),
    }
    Ok(())
}

fn files_of(sources: &[Source]) -> Vec<PathBuf> {
    sources
        .iter()
        .filter_map(|s| match s {
            Source::File(p) => Some(p.clone()),
            Source::Inline(_) => None,
        })
        .collect()
}

#[starlark_module]
fn compose_module(b: &mut GlobalsBuilder) {
    #[allow(non_snake_case)]
    fn docker_compose<'v>(
        configPaths: Value<'v>,
        #[starlark(default = NoneType)] env_file: Value<'v>,
        #[starlark(default = "")] project_name: &str,
        #[starlark(default = NoneType)] profiles: Value<'v>,
        #[starlark(default = false)] wait: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        let sources = sources(eval, configPaths)?;
        let env_file = match env_file.unpack_str() {
            _ if env_file.is_none() => None,
            Some(p) => Some(resolve(eval, p)),
            None => bail!(
                "docker_compose(env_file=) must be a path, not {}",
                env_file.get_type()
            ),
        };
        record_files(c, &sources, env_file.as_ref())?;
        let (name, project_dir) = project_of(eval, &sources, project_name)?;
        let call = Call {
            sources,
            env_file,
            profiles: str_or_list(Some(profiles), "docker_compose(profiles=)")?,
            wait,
        };
        declare(c, eval, name, project_dir, call)?;
        Ok(NoneType)
    }

    /// Tilt's positional order: name, trigger_mode, resource_deps, links, labels,
    /// auto_init, project_name, new_name, infer_links, image.
    #[allow(clippy::too_many_arguments)]
    fn dc_resource<'v>(
        name: Text,
        #[starlark(default = NoneType)] trigger_mode: Value<'v>,
        #[starlark(default = NoneType)] resource_deps: Value<'v>,
        #[starlark(default = NoneType)] links: Value<'v>,
        #[starlark(default = NoneType)] labels: Value<'v>,
        #[starlark(default = NoneOr::None)] auto_init: NoneOr<bool>,
        #[starlark(default = "")] project_name: &str,
        #[starlark(default = "")] new_name: &str,
        #[starlark(default = NoneOr::None)] infer_links: NoneOr<bool>,
        #[starlark(default = "")] image: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let name = name.as_str();
        let c = Collector::get(eval)?;
        if name.trim().is_empty() {
            bail!("dc_resource() needs the name of a compose service");
        }
        if !new_name.is_empty() {
            super::resource_name::check(new_name)?;
        }
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let opts = DcResourceOpts {
            service: name.to_owned(),
            project_name: non_empty(project_name),
            new_name: non_empty(new_name),
            trigger_mode: if trigger_mode.is_none() {
                None
            } else {
                Some(trigger_mode_of(trigger_mode, c)?)
            },
            resource_deps: str_or_list(Some(resource_deps), "dc_resource(resource_deps=)")?
                .into_iter()
                .map(Into::into)
                .collect(),
            links: links_arg(links)?,
            labels: if labels.is_none() {
                None
            } else {
                Some(str_or_list(Some(labels), "dc_resource(labels=)")?)
            },
            auto_init: auto_init.into_option(),
            infer_links: infer_links.into_option(),
            image: non_empty(image),
        };
        c.dc_resources.borrow_mut().push(Declared {
            value: opts,
            at: call_site(eval),
        });
        Ok(NoneType)
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    compose_module(b);
}

#[cfg(test)]
#[path = "compose_tests.rs"]
mod tests;
