//! `k8s_custom_deploy(...)`: a Kubernetes resource whose objects a command applies
//! (and prints), and another command deletes on `stilt down`.
//!
//! Like every builtin it only records; the resource is made once evaluation is over
//! (`config::k8s::resources`), where `k8s_resource` calls naming it are merged and
//! its `image_deps` are checked against the declared images.

use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::NoneType;

use super::args::{cmd, items_of, str_dict, str_or_list};
use super::blob::Text;
use super::resource_name;
use crate::config::collect::{Collector, Declared, call_site, current_dir, resolve};
use crate::config::k8s::resources::CustomDecl;
use crate::model::{CustomCmd, CustomDeploy};

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

#[starlark_module]
fn k8s_custom_deploy_module(b: &mut GlobalsBuilder) {
    /// Tilt's positional order: name, apply_cmd, delete_cmd, deps, image_selector,
    /// live_update, apply_dir, apply_env, apply_cmd_bat, delete_dir, delete_env,
    /// delete_cmd_bat, container_selector, image_deps.
    #[allow(clippy::too_many_arguments)]
    fn k8s_custom_deploy<'v>(
        #[starlark(require = pos)] name: Text,
        apply_cmd: Value<'v>,
        delete_cmd: Value<'v>,
        #[starlark(default = NoneType)] deps: Value<'v>,
        #[starlark(default = "")] image_selector: &str,
        #[starlark(default = NoneType)] live_update: Value<'v>,
        #[starlark(default = "")] apply_dir: &str,
        #[starlark(default = NoneType)] apply_env: Value<'v>,
        #[starlark(default = NoneType)] apply_cmd_bat: Value<'v>,
        #[starlark(default = "")] delete_dir: &str,
        #[starlark(default = NoneType)] delete_env: Value<'v>,
        #[starlark(default = NoneType)] delete_cmd_bat: Value<'v>,
        #[starlark(default = "")] container_selector: &str,
        #[starlark(default = NoneType)] image_deps: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let name = name.as_str();
        // The Windows-only variants of the commands.
        let _ = (apply_cmd_bat, delete_cmd_bat);
        let c = Collector::get(eval)?;
        resource_name::check(name)?;
        let what = |arg: &str| format!("k8s_custom_deploy({name:?}, {arg}=)");
        let Some(apply) = cmd(Some(apply_cmd), &what("apply_cmd"))? else {
            bail!("k8s_custom_deploy({name:?}) needs a non-empty apply_cmd");
        };
        let Some(delete) = cmd(Some(delete_cmd), &what("delete_cmd"))? else {
            bail!("k8s_custom_deploy({name:?}) needs a non-empty delete_cmd");
        };
        if items_of(live_update).is_some_and(|steps| !steps.is_empty()) {
            bail!(
                "k8s_custom_deploy({name:?}, live_update=) is not supported by stilt yet: \
                 a change to deps re-runs apply_cmd instead"
            );
        }
        if !image_selector.is_empty() && !container_selector.is_empty() {
            bail!(
                "k8s_custom_deploy({name:?}): pass image_selector= or container_selector=, \
                 not both"
            );
        }
        let here = current_dir(eval);
        let dir_of = |d: &str| {
            if d.is_empty() {
                here.clone()
            } else {
                resolve(eval, d)
            }
        };
        let deploy = CustomDeploy {
            apply: CustomCmd {
                cmd: apply,
                dir: dir_of(apply_dir),
                env: str_dict(Some(apply_env), &what("apply_env"))?,
            },
            delete: CustomCmd {
                cmd: delete,
                dir: dir_of(delete_dir),
                env: str_dict(Some(delete_env), &what("delete_env"))?,
            },
            deps: str_or_list(Some(deps), &what("deps"))?
                .iter()
                .map(|d| resolve(eval, d))
                .collect(),
            image_deps: str_or_list(Some(image_deps), &what("image_deps"))?,
            image_selector: non_empty(image_selector),
            container_selector: non_empty(container_selector),
        };
        let position = c.resources.borrow().len();
        c.k8s.borrow_mut().custom.push(Declared {
            value: CustomDecl {
                name: name.into(),
                deploy,
                position,
            },
            at: call_site(eval),
        });
        Ok(NoneType)
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    k8s_custom_deploy_module(b);
}
