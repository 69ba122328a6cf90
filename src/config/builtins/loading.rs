//! `load_dynamic`, `include`, `warn` and `exit`.
//!
//! `load_dynamic(path)` and `include(path)` go through the same loader as `load()`:
//! the path resolves against the calling file's directory, a file runs once per
//! evaluation (cached), cycles are reported, and the file is recorded as read.
//! `exit()` stops the evaluation successfully: everything declared before it stands.

use starlark::collections::SmallMap;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::dict::Dict;
use starlark::values::none::NoneType;
use starlark::values::{FrozenValue, Value};

use super::blob::Text;
use super::per_eval::{CONFIG_MARKER, FILE_VAR, OS_MARKER};
use crate::config::collect::{Collector, current_dir};
use crate::config::loader::load_module;

/// The module variables `per_eval` injects, which are not the loaded file's symbols.
fn injected<'v>(name: &str, v: Value<'v>, eval: &Evaluator<'v, '_, '_>) -> bool {
    let marker = match name {
        "os" => OS_MARKER,
        "config" => CONFIG_MARKER,
        FILE_VAR => return true,
        _ => return false,
    };
    v.get_type() == "struct" && v.has_attr(marker, eval.heap())
}

#[starlark_module]
fn loading_module(b: &mut GlobalsBuilder) {
    /// A dict of the loaded file's public (not `_`-prefixed) symbols.
    fn load_dynamic<'v>(
        #[starlark(require = pos)] path: Text,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let path = path.as_str();
        let c = Collector::get(eval).map_err(starlark::Error::new_other)?;
        let module = load_module(c, &current_dir(eval), path)?;
        // Keep the loaded module's heap alive as long as this evaluation's values.
        eval.frozen_heap().add_reference(module.frozen_heap());
        let mut symbols = SmallMap::new();
        for name in module.names() {
            let owned = module
                .get(name.as_str())
                .map_err(starlark::Error::new_other)?;
            let mut frozen: Option<FrozenValue> = None;
            let _ = owned.map(|v| {
                frozen = Some(v);
                v
            });
            let Some(frozen) = frozen else { continue };
            let value = frozen.to_value();
            if injected(name.as_str(), value, eval) {
                continue;
            }
            let key = eval.heap().alloc(name.as_str());
            symbols.insert_hashed(key.get_hashed()?, value);
        }
        Ok(eval.heap().alloc(Dict::new(symbols)))
    }

    /// Runs the file for its side effects (resources it declares register).
    fn include<'v>(
        #[starlark(require = pos)] path: Text,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<NoneType> {
        let path = path.as_str();
        let c = Collector::get(eval).map_err(starlark::Error::new_other)?;
        load_module(c, &current_dir(eval), path)?;
        Ok(NoneType)
    }

    /// Records a warning (shown as an alert) and carries on.
    fn warn<'v>(
        #[starlark(require = pos)] msg: Text,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let msg = msg.as_str();
        let c = Collector::get(eval)?;
        c.warn(msg);
        Ok(NoneType)
    }

    /// Stops the evaluation without an error. A non-None, non-zero `code` (e.g. a
    /// message) is written to the load output first.
    fn exit<'v>(
        #[starlark(default = NoneType)] code: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        if !(code.is_none() || code.unpack_i32() == Some(0)) {
            let text = code
                .unpack_str()
                .map(str::to_owned)
                .unwrap_or_else(|| code.to_repr());
            c.output.borrow_mut().push(text);
        }
        c.exit_requested.set(true);
        Err(anyhow::anyhow!("exit() called: the Tiltfile stopped here"))
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    loading_module(b);
}

#[cfg(test)]
#[path = "loading_tests.rs"]
mod tests;
