//! `load('ext://restart_process', 'docker_build_with_restart', 'custom_build_with_restart')`,
//! built in: Tilt's most used extension, done natively.
//!
//! The extension wraps the image's entrypoint with `entr` and appends a shell `run`
//! step that touches a file, so it needs a shell and `date` in the image (Tilt #6047).
//! stilt instead wraps the entrypoint with its own static supervisor (see
//! `build::restart`) and writes the restart file through the same path as synced files
//! (`liveupdate::apply`), so a `FROM scratch` image works too.
//!
//! The two functions are Starlark ([`EXTENSION`]) with the extension's documented
//! signatures; they call the real `docker_build`/`custom_build` and then
//! `__stilt_restart_process`, which marks the image just declared.

use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::NoneType;

use super::args::{cmd, str_or_list};
use crate::config::collect::{Collector, resolve};
use crate::model::{ExitPolicy, ProcessRestart};

/// The extension's name after `ext://`.
pub const NAME: &str = "restart_process";

/// Where errors inside the built-in extension point.
pub const VIRTUAL_PATH: &str = "<stilt>/ext/restart_process/Tiltfile";

/// The extension's functions, with its documented signatures and defaults.
pub const EXTENSION: &str = r#"
def docker_build_with_restart(ref, context, entrypoint, live_update,
                              base_suffix="-tilt_docker_build_with_restart_base",
                              restart_file="/tmp/.restart-proc", trigger=None,
                              exit_policy="restart", **kwargs):
    docker_build(ref, context, live_update=live_update, **kwargs)
    __stilt_restart_process("docker_build_with_restart", ref, entrypoint,
                            restart_file, trigger, exit_policy)

def custom_build_with_restart(ref, command, deps, entrypoint, live_update,
                              base_suffix="-tilt_docker_build_with_restart_base",
                              restart_file="/tmp/.restart-proc", trigger=None,
                              exit_policy="restart", **kwargs):
    custom_build(ref, command, deps, live_update=live_update, **kwargs)
    __stilt_restart_process("custom_build_with_restart", ref, entrypoint,
                            restart_file, trigger, exit_policy)
"#;

#[starlark_module]
fn restart_process_module(b: &mut GlobalsBuilder) {
    /// Marks the image `ref` (declared just before) as restarted by stilt's supervisor.
    fn __stilt_restart_process<'v>(
        caller: &str,
        r#ref: &str,
        entrypoint: Value<'v>,
        restart_file: &str,
        trigger: Value<'v>,
        exit_policy: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        let Some(entrypoint) = cmd(Some(entrypoint), &format!("{caller}(entrypoint=)"))? else {
            bail!("{caller}({ref:?}): entrypoint must not be empty");
        };
        let entrypoint = entrypoint.argv();
        if !restart_file.starts_with('/') {
            bail!(
                "{caller}({ref:?}, restart_file={restart_file:?}): must be an absolute path \
                 in the container"
            );
        }
        let exit_policy = match exit_policy {
            "restart" => ExitPolicy::Restart,
            "continue" => ExitPolicy::Continue,
            other => bail!(
                "{caller}({ref:?}, exit_policy={other:?}): must be \"restart\" or \"continue\""
            ),
        };
        let triggers = str_or_list(Some(trigger), &format!("{caller}(trigger=)"))?
            .iter()
            .map(|p| resolve(eval, p))
            .collect();
        let restart = ProcessRestart {
            entrypoint,
            restart_file: restart_file.to_owned(),
            triggers,
            exit_policy,
        };
        let mut images = c.images.borrow_mut();
        let Some(image) = images.last_mut() else {
            bail!("{caller}({ref:?}): internal error: the image was not declared");
        };
        if image.value.live_update.restart {
            bail!(
                "{caller}({ref:?}): live_update has restart_container(); the process is \
                 restarted already, remove restart_container()"
            );
        }
        image.value.live_update.restart_process = Some(restart);
        Ok(NoneType)
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    restart_process_module(b);
}
