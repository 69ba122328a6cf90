//! `docker_build(ref, context, ...)`: an image built from a Dockerfile.
//!
//! Everything is checked at the call, so a mistake points at it: the reference, the
//! context and Dockerfile (read now and recorded, so editing it reloads the
//! Tiltfile), the live update steps, and options the legacy builder cannot honour
//! (`ssh`, `secret` need BuildKit).

use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::NoneType;

use super::args::{cmd, str_dict, str_or_list};
use super::blob::Text;
use super::blob::text_of;
use super::image_ref;
use super::live_update::{Inputs, spec_of};
use crate::config::collect::{Collector, Declared, call_site, resolve};
use crate::model::{DockerBuild, Dockerfile, ImageBuild, ImageSpec};

/// The name an image is declared by: `ref` checked, its tag dropped with a warning
/// (stilt tags what it builds with a content hash), a digest refused.
pub(super) fn declared_name(c: &Collector, builtin: &str, r: &str) -> anyhow::Result<String> {
    let parsed = image_ref::parse(r)
        .map_err(|e| anyhow::anyhow!("{builtin}(): {r:?} is not a valid image reference: {e}"))?;
    if parsed.digest.is_some() {
        bail!("{builtin}(): the image reference {r:?} has a digest; give the name only");
    }
    if let Some(tag) = &parsed.tag {
        c.warn(format!(
            "{builtin}({r:?}): the tag {tag:?} is ignored; stilt tags the images it builds \
             itself and matches {:?} by name",
            parsed.name
        ));
    }
    Ok(parsed.name)
}

/// Records `spec`, refusing a second image with the same reference.
pub(super) fn declare(c: &Collector, eval: &Evaluator, spec: ImageSpec) -> anyhow::Result<()> {
    let mut images = c.images.borrow_mut();
    if let Some(prev) = images.iter().find(|i| i.value.image_ref == spec.image_ref) {
        let at = prev
            .at
            .as_ref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        bail!(
            "image {:?} is already declared (by {}{at})",
            spec.image_ref,
            prev.value.kind_label()
        );
    }
    images.push(Declared {
        value: spec,
        at: call_site(eval),
    });
    Ok(())
}

/// `ssh=` / `secret=`: refused when given, as the legacy builder has no such feature.
fn refuse_buildkit(v: Value, what: &str) -> anyhow::Result<()> {
    if str_or_list(Some(v), what)?.iter().any(|s| !s.is_empty()) {
        bail!(
            "docker_build({what}=) needs BuildKit, which stilt's builder does not use yet; \
             remove it or use custom_build with `docker buildx build`"
        );
    }
    Ok(())
}

/// The Dockerfile: inline contents, or a file (default `<context>/Dockerfile`) that
/// must exist now.
fn dockerfile_of(
    c: &Collector,
    eval: &Evaluator,
    path: Value,
    contents: Value,
    context: &std::path::Path,
) -> anyhow::Result<Dockerfile> {
    let has_contents = !contents.is_none() && contents.unpack_str() != Some("");
    if has_contents {
        if !path.is_none() {
            bail!("docker_build(): give dockerfile= or dockerfile_contents=, not both");
        }
        return Ok(Dockerfile::Contents(text_of(
            contents,
            "docker_build(dockerfile_contents=)",
        )?));
    }
    let abs = match path.unpack_str() {
        _ if path.is_none() => context.join("Dockerfile"),
        Some(p) => resolve(eval, p),
        None => bail!(
            "docker_build(dockerfile=) must be a path string, not {}",
            path.get_type()
        ),
    };
    c.record_read(&abs);
    if let Err(e) = std::fs::metadata(&abs) {
        bail!(
            "docker_build(): cannot read Dockerfile {}: {e}",
            abs.display()
        );
    }
    Ok(Dockerfile::Path(abs))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

#[starlark_module]
fn docker_build_module(b: &mut GlobalsBuilder) {
    /// Tilt's positional order: ref, context, build_args, dockerfile, dockerfile_contents,
    /// live_update, match_in_env_vars, ignore, only, entrypoint, target, ssh, network,
    /// secret, extra_tag, container_args, cache_from, pull, platform, extra_hosts.
    #[allow(clippy::too_many_arguments)]
    fn docker_build<'v>(
        r#ref: Text,
        context: Text,
        #[starlark(default = NoneType)] build_args: Value<'v>,
        #[starlark(default = NoneType)] dockerfile: Value<'v>,
        #[starlark(default = NoneType)] dockerfile_contents: Value<'v>,
        #[starlark(default = NoneType)] live_update: Value<'v>,
        #[starlark(default = false)] match_in_env_vars: bool,
        #[starlark(default = NoneType)] ignore: Value<'v>,
        #[starlark(default = NoneType)] only: Value<'v>,
        #[starlark(default = NoneType)] entrypoint: Value<'v>,
        #[starlark(default = "")] target: &str,
        #[starlark(default = NoneType)] ssh: Value<'v>,
        #[starlark(default = "")] network: &str,
        #[starlark(default = NoneType)] secret: Value<'v>,
        #[starlark(default = NoneType)] extra_tag: Value<'v>,
        #[starlark(default = NoneType)] container_args: Value<'v>,
        #[starlark(default = NoneType)] cache_from: Value<'v>,
        #[starlark(default = false)] pull: bool,
        #[starlark(default = "")] platform: &str,
        #[starlark(default = NoneType)] extra_hosts: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let r#ref = r#ref.as_str();
        let context = context.as_str();
        // Kubernetes-only: matching the image in env vars of pod specs.
        let _ = match_in_env_vars;
        let c = Collector::get(eval)?;
        let image_ref = declared_name(c, "docker_build", r#ref)?;
        refuse_buildkit(ssh, "ssh")?;
        refuse_buildkit(secret, "secret")?;
        if !container_args.is_none() {
            c.warn(format!(
                "docker_build({image_ref:?}, container_args=): ignored; it only applies to \
                 Kubernetes, which stilt does not deploy yet"
            ));
        }
        let context = resolve(eval, context);
        // A missing context is accepted: Tilt checks it when it builds (the build then
        // fails naming the directory); only something that is not a directory is refused.
        if context.exists() && !context.is_dir() {
            bail!(
                "docker_build({image_ref:?}): the build context {} is not a directory",
                context.display()
            );
        }
        let extra_tags = str_or_list(Some(extra_tag), "docker_build(extra_tag=)")?;
        for t in &extra_tags {
            image_ref::parse(t)
                .map_err(|e| anyhow::anyhow!("docker_build(extra_tag=): {t:?}: {e}"))?;
        }
        let build = DockerBuild {
            dockerfile: dockerfile_of(c, eval, dockerfile, dockerfile_contents, &context)?,
            build_args: str_dict(Some(build_args), "docker_build(build_args=)")?,
            target: non_empty(target),
            ignore: str_or_list(Some(ignore), "docker_build(ignore=)")?,
            only: str_or_list(Some(only), "docker_build(only=)")?,
            extra_tags,
            network: non_empty(network),
            platform: non_empty(platform),
            pull,
            cache_from: str_or_list(Some(cache_from), "docker_build(cache_from=)")?,
            extra_hosts: str_or_list(Some(extra_hosts), "docker_build(extra_hosts=)")?,
            context,
        };
        let spec = ImageSpec {
            live_update: spec_of(live_update, Inputs::Context(&build.context))?,
            entrypoint: cmd(Some(entrypoint), "docker_build(entrypoint=)")?,
            build: ImageBuild::Docker(build),
            image_ref,
        };
        declare(c, eval, spec)?;
        Ok(NoneType)
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    docker_build_module(b);
}

#[cfg(test)]
#[path = "docker_build_tests.rs"]
mod tests;
