//! `config.*`: Tiltfile arguments from `-- args` and `tilt_config.json` (to be filled).

use starlark::environment::GlobalsBuilder;

/// State of `config.define_*` / `config.parse` for one evaluation.
#[derive(Debug, Default)]
pub struct ConfigArgs {
    /// Whether `config.parse()` ran (then `-- args` are config values, not resource names).
    pub parsed: bool,
}

pub fn register(_b: &mut GlobalsBuilder) {}
