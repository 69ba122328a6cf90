//! Tiltfile builtins, one file per family. Each only records into the `Collector`.

pub mod args;
pub mod config_args;
pub mod files;
pub mod local_resource;
pub mod os;
pub mod settings;
pub mod unsupported;
pub mod values;

use starlark::environment::GlobalsBuilder;

pub fn register_all(b: &mut GlobalsBuilder) {
    local_resource::register(b);
    values::register(b);
    settings::register(b);
    files::register(b);
    os::register(b);
    config_args::register(b);
    unsupported::register(b);
}
