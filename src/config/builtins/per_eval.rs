//! Module values that depend on the evaluation, not just on the process.
//!
//! `Globals` are built once per process, so a namespace in them cannot hold
//! `config.tilt_subcommand` or a current `os.environ`. Before each Tiltfile (main
//! or loaded) runs, [`inject`] sets module variables `os` and `config` that shadow
//! the global namespaces: structs with every function of the namespace plus the
//! evaluation's values. Loaded files see the same values, and each its own `__file__`.

use starlark::environment::Module;
use starlark::values::dict::Dict;
use starlark::values::structs::AllocStruct;
use starlark::values::{FrozenValue, Heap, Value};

use super::super::collect::Collector;
use super::super::globals::globals;

/// The attributes a module-level name must have to be one of ours (`load_dynamic`
/// leaves these out of the symbols it returns).
pub(crate) const CONFIG_MARKER: &str = "tilt_subcommand";
pub(crate) const OS_MARKER: &str = "environ";

fn global_namespace(name: &str) -> anyhow::Result<FrozenValue> {
    globals()
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .ok_or_else(|| anyhow::anyhow!("internal error: no {name} namespace in the globals"))
}

/// The attributes of the global namespace `name`, plus `extra`.
fn extended<'v>(
    name: &str,
    extra: Vec<(String, Value<'v>)>,
    heap: Heap<'v>,
) -> anyhow::Result<Value<'v>> {
    let ns = global_namespace(name)?.to_value();
    let mut fields: Vec<(String, Value<'v>)> = Vec::new();
    for attr in ns.dir_attr() {
        if extra.iter().any(|(k, _)| *k == attr) {
            continue;
        }
        if let Some(v) = ns.get_attr(&attr, heap).map_err(|e| e.into_anyhow())? {
            fields.push((attr, v));
        }
    }
    fields.extend(extra);
    Ok(heap.alloc(AllocStruct(fields)))
}

fn path_string(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The module variable naming the file being executed, as in Tilt.
pub(crate) const FILE_VAR: &str = "__file__";

/// Sets the per-evaluation `os` and `config` module variables, and `__file__`: the
/// absolute path of `file`, the Tiltfile (main or loaded) this module runs.
pub(crate) fn inject(
    module: &Module<'_>,
    c: &Collector,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let heap = module.heap();
    module.set(FILE_VAR, heap.alloc(path_string(file)));
    let mut environ = starlark::collections::SmallMap::new();
    for (k, v) in c.environ() {
        let key = heap.alloc(k);
        environ.insert_hashed(
            key.get_hashed().map_err(|e| e.into_anyhow())?,
            heap.alloc(v),
        );
    }
    let os = extended(
        "os",
        vec![(OS_MARKER.to_owned(), heap.alloc(Dict::new(environ)))],
        heap,
    )?;
    module.set("os", os);
    let config = extended(
        "config",
        vec![
            (CONFIG_MARKER.to_owned(), heap.alloc(c.subcommand.as_str())),
            (
                "main_path".to_owned(),
                heap.alloc(path_string(&c.main_path)),
            ),
            ("main_dir".to_owned(), heap.alloc(path_string(&c.main_dir))),
        ],
        heap,
    )?;
    module.set("config", config);
    Ok(())
}
