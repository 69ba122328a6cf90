//! Tiltfile builtins, one file per family. Each only records into the `Collector`
//! (`local()` and `docker_compose()` are the exceptions: like Tilt, they run a command
//! during the load, the user's and `compose config`).

pub mod args;
pub mod blob;
pub mod compose;
pub mod config_args;
pub mod custom_build;
pub mod data;
pub mod docker_build;
pub mod encoding;
pub mod files;
pub mod helm;
pub mod image_ref;
pub mod k8s;
pub mod k8s_custom_deploy;
pub mod k8s_kind;
pub mod kustomize;
pub mod live_update;
pub mod loading;
pub mod local;
pub mod local_resource;
pub mod os;
pub(crate) mod per_eval;
pub mod registry;
pub mod resource_name;
pub mod restart_process;
pub mod settings;
pub mod unsupported;
pub mod values;

#[cfg(test)]
pub(crate) mod test_util;

use starlark::environment::GlobalsBuilder;

pub fn register_all(b: &mut GlobalsBuilder) {
    local_resource::register(b);
    docker_build::register(b);
    custom_build::register(b);
    live_update::register(b);
    restart_process::register(b);
    compose::register(b);
    k8s::register(b);
    k8s_custom_deploy::register(b);
    k8s_kind::register(b);
    helm::register(b);
    kustomize::register(b);
    values::register(b);
    settings::register(b);
    registry::register(b);
    files::register(b);
    encoding::register(b);
    local::register(b);
    loading::register(b);
    os::register(b);
    config_args::register(b);
    unsupported::register(b);
}
