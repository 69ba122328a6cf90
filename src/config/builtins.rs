//! Tiltfile builtins, one file per family. Each only records into the `Collector`
//! (`local()` is the exception: like Tilt, it runs its command during the load).

pub mod args;
pub mod blob;
pub mod config_args;
pub mod data;
pub mod encoding;
pub mod files;
pub mod loading;
pub mod local;
pub mod local_resource;
pub mod os;
pub(crate) mod per_eval;
pub mod settings;
pub mod unsupported;
pub mod values;

#[cfg(test)]
pub(crate) mod test_util;

use starlark::environment::GlobalsBuilder;

pub fn register_all(b: &mut GlobalsBuilder) {
    local_resource::register(b);
    values::register(b);
    settings::register(b);
    files::register(b);
    encoding::register(b);
    local::register(b);
    loading::register(b);
    os::register(b);
    config_args::register(b);
    unsupported::register(b);
}
