//! `os`, `os.path`, `sys`, `shlex` namespaces (to be filled).

use starlark::environment::GlobalsBuilder;

pub fn register(_b: &mut GlobalsBuilder) {}
