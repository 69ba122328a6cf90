//! Live update steps: `sync`, `run`, `restart_container`, `fall_back_on`, `initial_sync`.
//!
//! Each builtin returns a typed `live_update_step` value with its local paths already
//! absolute (resolved against the file that called the step builtin, as in Tilt). The
//! steps are only checked as a whole when `docker_build` / `custom_build` receives
//! them ([`spec_of`]): the order, sync paths inside the build's inputs, absolute
//! remote paths and at least one sync or run. So every such error points at the
//! build call that owns the list.

use std::fmt;
use std::path::{Path, PathBuf};

use allocative::Allocative;
use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::starlark_simple_value;
use starlark::values::{
    NoSerialize, ProvidesStaticType, StarlarkValue, Value, ValueLike, starlark_value,
};

use super::args::{cmd, str_or_list};
use super::blob::Text;
use crate::config::collect::resolve;
use crate::model::{LiveUpdateSpec, RunStep, SyncStep};

/// One step, as the step builtin recorded it.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    InitialSync,
    FallBackOn(Vec<PathBuf>),
    Sync { local: PathBuf, remote: String },
    Run(RunStep),
    Restart,
}

impl Step {
    /// Position in the required order: initial_sync, fall_back_on, sync, run, restart_container.
    fn rank(&self) -> u8 {
        match self {
            Step::InitialSync => 0,
            Step::FallBackOn(_) => 1,
            Step::Sync { .. } => 2,
            Step::Run(_) => 3,
            Step::Restart => 4,
        }
    }
}

#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub struct StepValue {
    #[allocative(skip)]
    pub step: Step,
    /// The call as written (`sync('./src', '/app/src')`), for error messages.
    pub shown: String,
}
starlark_simple_value!(StepValue);

impl fmt::Display for StepValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

#[starlark_value(type = "live_update_step")]
impl<'v> StarlarkValue<'v> for StepValue {}

fn step(step: Step, shown: String) -> StepValue {
    StepValue { step, shown }
}

#[starlark_module]
fn live_update_module(b: &mut GlobalsBuilder) {
    fn sync<'v>(
        local_path: Text,
        remote_path: Text,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<StepValue> {
        let local_path = local_path.as_str();
        let remote_path = remote_path.as_str();
        if local_path.is_empty() || remote_path.is_empty() {
            bail!("sync() needs a local_path and a remote_path");
        }
        let local = resolve(eval, local_path);
        let remote = remote_path.to_owned();
        Ok(step(
            Step::Sync { local, remote },
            format!("sync({local_path:?}, {remote_path:?})"),
        ))
    }

    fn run<'v>(
        cmd: Value<'v>,
        #[starlark(default = starlark::values::none::NoneType)] trigger: Value<'v>,
        #[starlark(default = false)] echo_off: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<StepValue> {
        let Some(command) = self::cmd(Some(cmd), "run() cmd")? else {
            bail!("run() needs a non-empty cmd");
        };
        let triggers = str_or_list(Some(trigger), "run(trigger=)")?
            .iter()
            .map(|t| resolve(eval, t))
            .collect();
        let shown = format!("run({:?})", command.to_string());
        Ok(step(
            Step::Run(RunStep {
                cmd: command,
                triggers,
                echo_off,
            }),
            shown,
        ))
    }

    fn restart_container() -> anyhow::Result<StepValue> {
        Ok(step(Step::Restart, "restart_container()".into()))
    }

    fn initial_sync() -> anyhow::Result<StepValue> {
        Ok(step(Step::InitialSync, "initial_sync()".into()))
    }

    fn fall_back_on<'v>(
        files: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<StepValue> {
        let given = str_or_list(Some(files), "fall_back_on() files")?;
        if given.is_empty() {
            bail!("fall_back_on() needs at least one file");
        }
        let paths = given.iter().map(|f| resolve(eval, f)).collect();
        Ok(step(
            Step::FallBackOn(paths),
            format!("fall_back_on({given:?})"),
        ))
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    live_update_module(b);
}

/// Where a build's sync paths must lie.
#[derive(Debug, Clone, Copy)]
pub enum Inputs<'a> {
    /// `docker_build`: inside the build context.
    Context(&'a Path),
    /// `custom_build`: inside one of its deps.
    Deps(&'a [PathBuf]),
}

impl Inputs<'_> {
    fn contains(&self, p: &Path) -> bool {
        match self {
            Inputs::Context(ctx) => p.starts_with(ctx),
            Inputs::Deps(deps) => deps.iter().any(|d| p.starts_with(d)),
        }
    }

    fn describe(&self) -> String {
        match self {
            Inputs::Context(ctx) => format!("the build context {}", ctx.display()),
            Inputs::Deps(deps) => {
                let shown: Vec<String> = deps.iter().map(|d| d.display().to_string()).collect();
                format!("every dep of the build ({})", shown.join(", "))
            }
        }
    }
}

/// The `live_update=` argument (`None` or a list of steps) as a validated spec.
pub fn spec_of(v: Value, inputs: Inputs) -> anyhow::Result<LiveUpdateSpec> {
    let steps = steps_of(v)?;
    check_order(&steps)?;
    let mut spec = LiveUpdateSpec::default();
    for s in &steps {
        match &s.step {
            Step::InitialSync => spec.initial_sync = true,
            Step::FallBackOn(paths) => spec.fall_back_on.extend(paths.iter().cloned()),
            Step::Sync { local, remote } => {
                check_sync(&s.shown, local, remote, inputs)?;
                spec.syncs.push(SyncStep {
                    local: local.clone(),
                    remote: remote.clone(),
                });
            }
            Step::Run(run) => spec.runs.push(run.clone()),
            Step::Restart => spec.restart = true,
        }
    }
    // A run trigger outside every sync is accepted, as in Tilt (it checks nothing there).
    if !steps.is_empty() && spec.syncs.is_empty() && spec.runs.is_empty() {
        bail!(
            "live_update needs at least one sync() or run() step: the other steps only \
             modify what those do"
        );
    }
    Ok(spec)
}

fn steps_of<'v>(v: Value<'v>) -> anyhow::Result<Vec<&'v StepValue>> {
    if v.is_none() {
        return Ok(Vec::new());
    }
    let Some(items) = super::args::items_of(v) else {
        bail!(
            "live_update must be a list of steps (sync, run, ...), not {}",
            v.get_type()
        );
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            item.downcast_ref::<StepValue>().ok_or_else(|| {
                anyhow::anyhow!(
                    "live_update[{i}] must be a live update step (sync, run, \
                     restart_container, fall_back_on, initial_sync), not {}",
                    item.get_type()
                )
            })
        })
        .collect()
}

const ORDER: &str = "initial_sync, fall_back_on, sync, run, restart_container";

fn check_order(steps: &[&StepValue]) -> anyhow::Result<()> {
    for pair in steps.windows(2) {
        let (before, after) = (pair[0], pair[1]);
        let (a, b) = (before.step.rank(), after.step.rank());
        if b < a {
            bail!(
                "live_update: {} must come before {} (steps go in the order {ORDER})",
                after.shown,
                before.shown
            );
        }
        if a == b && matches!(after.step, Step::InitialSync | Step::Restart) {
            bail!("live_update: {} may appear only once", after.shown);
        }
    }
    Ok(())
}

fn check_sync(shown: &str, local: &Path, remote: &str, inputs: Inputs) -> anyhow::Result<()> {
    if !remote.starts_with('/') {
        bail!(
            "live_update: {shown}: the remote path {remote:?} must be absolute \
             (a path inside the container, starting with /)"
        );
    }
    if !inputs.contains(local) {
        bail!(
            "live_update: {shown}: the local path {} is outside {}, so the image \
             could never contain it",
            local.display(),
            inputs.describe()
        );
    }
    Ok(())
}

#[cfg(test)]
#[path = "live_update_tests.rs"]
mod tests;
