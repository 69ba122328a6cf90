//! `custom_build(ref, command, deps, ...)`: an image built by the user's own command,
//! which must produce `$EXPECTED_REF`.

use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::NoneType;

use super::args::{cmd, str_dict, str_or_list};
use super::blob::Text;
use super::docker_build::{declare, declared_name};
use super::live_update::{Inputs, spec_of};
use crate::config::collect::{Collector, current_dir, resolve};
use crate::model::{CustomBuild, ImageBuild, ImageSpec};

#[starlark_module]
fn custom_build_module(b: &mut GlobalsBuilder) {
    /// Tilt's positional order: ref, command, deps, tag, disable_push, skips_local_docker,
    /// live_update, match_in_env_vars, ignore, entrypoint, command_bat,
    /// outputs_image_ref_to, image_deps, env, dir.
    #[allow(clippy::too_many_arguments)]
    fn custom_build<'v>(
        r#ref: Text,
        command: Value<'v>,
        deps: Value<'v>,
        #[starlark(default = "")] tag: &str,
        #[starlark(default = false)] disable_push: bool,
        #[starlark(default = false)] skips_local_docker: bool,
        #[starlark(default = NoneType)] live_update: Value<'v>,
        #[starlark(default = false)] match_in_env_vars: bool,
        #[starlark(default = NoneType)] ignore: Value<'v>,
        #[starlark(default = NoneType)] entrypoint: Value<'v>,
        #[starlark(default = NoneType)] command_bat: Value<'v>,
        #[starlark(default = "")] outputs_image_ref_to: &str,
        #[starlark(default = NoneType)] image_deps: Value<'v>,
        #[starlark(default = NoneType)] env: Value<'v>,
        #[starlark(default = "")] dir: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let r#ref = r#ref.as_str();
        // Kubernetes-only, and the Windows-only variant of `command`.
        let _ = (match_in_env_vars, command_bat);
        let c = Collector::get(eval)?;
        let image_ref = declared_name(c, "custom_build", r#ref)?;
        let Some(command) = cmd(Some(command), "custom_build() command")? else {
            bail!("custom_build({image_ref:?}) needs a non-empty command");
        };
        if !str_or_list(Some(image_deps), "custom_build(image_deps=)")?.is_empty() {
            bail!(
                "custom_build({image_ref:?}, image_deps=) is not supported by stilt yet \
                 (the command would not get $TILT_IMAGE_i)"
            );
        }
        let deps: Vec<_> = str_or_list(Some(deps), "custom_build() deps")?
            .iter()
            .map(|d| resolve(eval, d))
            .collect();
        if deps.is_empty() {
            bail!("custom_build({image_ref:?}) needs at least one dep (the files it builds from)");
        }
        let ignore = str_or_list(Some(ignore), "custom_build(ignore=)")?;
        // The watcher compiles these on each load; a bad one is this call's error.
        crate::watch::PathFilter::new(&c.main_dir, &ignore)?;
        let build = CustomBuild {
            command,
            tag: (!tag.is_empty()).then(|| tag.to_owned()),
            skips_local_docker,
            disable_push,
            outputs_image_ref_to: (!outputs_image_ref_to.is_empty())
                .then(|| resolve(eval, outputs_image_ref_to)),
            ignore,
            env: str_dict(Some(env), "custom_build(env=)")?,
            dir: if dir.is_empty() {
                current_dir(eval)
            } else {
                resolve(eval, dir)
            },
            deps,
        };
        let spec = ImageSpec {
            live_update: spec_of(live_update, Inputs::Deps(&build.deps))?,
            entrypoint: cmd(Some(entrypoint), "custom_build(entrypoint=)")?,
            build: ImageBuild::Custom(build),
            image_ref,
        };
        declare(c, eval, spec)?;
        Ok(NoneType)
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    custom_build_module(b);
}

#[cfg(test)]
#[path = "custom_build_tests.rs"]
mod tests;
