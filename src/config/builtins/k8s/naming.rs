//! `workload_to_resource_function(fn)`: names workloads' resources with a Tiltfile
//! function.
//!
//! The function is a Starlark value, which cannot outlive its evaluation, so it is
//! called during evaluation: for every workload known when it is registered and again
//! at each later `k8s_yaml`. It is kept in the `extra_value` of the module that
//! registered it (a loaded file's module is frozen and kept by the collector).

use std::path::PathBuf;

use anyhow::bail;
use starlark::eval::Evaluator;
use starlark::values::dict::Dict;
use starlark::values::structs::AllocStruct;
use starlark::values::{Heap, Value};

use crate::config::collect::Collector;
use crate::config::k8s::group::is_workload;
use crate::model::K8sObject;

/// The file being executed: its module is `eval.module()`.
fn executing_file(c: &Collector) -> PathBuf {
    c.loading
        .borrow()
        .last()
        .cloned()
        .unwrap_or_else(|| c.main_path.clone())
}

/// Registers `f` as the naming function.
pub fn register<'v>(c: &Collector, eval: &mut Evaluator<'v, '_, '_>, f: Value<'v>) {
    eval.module().set_extra_value(f);
    *c.k8s_name_fn.borrow_mut() = Some(executing_file(c));
}

/// The registered function, if the executing code can reach it.
fn function<'v>(c: &Collector, eval: &mut Evaluator<'v, '_, '_>) -> Option<Value<'v>> {
    let home = c.k8s_name_fn.borrow().clone()?;
    if home == executing_file(c) {
        return eval.module().extra_value();
    }
    let loaded = c.loaded.borrow();
    let module = loaded.get(&home)?;
    eval.frozen_heap().add_reference(module.frozen_heap());
    module.extra_value().map(|v| v.to_value())
}

/// What the function receives: the workload's identity and labels.
fn object_value<'v>(heap: Heap<'v>, o: &K8sObject) -> anyhow::Result<Value<'v>> {
    let mut labels = starlark::collections::SmallMap::new();
    if let Some(serde_json::Value::Object(m)) = o.body.pointer("/metadata/labels") {
        for (k, v) in m {
            let key = heap.alloc(k.as_str());
            let v = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            labels.insert_hashed(
                key.get_hashed().map_err(|e| e.into_anyhow())?,
                heap.alloc(v),
            );
        }
    }
    Ok(heap.alloc(AllocStruct([
        ("name", heap.alloc(o.name.as_str())),
        (
            "namespace",
            heap.alloc(o.namespace.as_deref().unwrap_or("default")),
        ),
        ("kind", heap.alloc(o.kind.as_str())),
        ("group", heap.alloc(o.group())),
        ("api_version", heap.alloc(o.api_version.as_str())),
        ("labels", heap.alloc(Dict::new(labels))),
    ])))
}

/// Names every workload collected so far with the registered function, if any.
pub fn name_workloads(c: &Collector, eval: &mut Evaluator<'_, '_, '_>) -> anyhow::Result<()> {
    let Some(f) = function(c, eval) else {
        return Ok(());
    };
    let workloads: Vec<(usize, K8sObject)> = c
        .k8s
        .borrow()
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| is_workload(&o.object))
        .map(|(i, o)| (i, o.object.clone()))
        .collect();
    for (i, o) in workloads {
        let arg = object_value(eval.heap(), &o)?;
        let got = eval.eval_function(f, &[arg], &[]).map_err(|e| {
            anyhow::anyhow!(
                "workload_to_resource_function failed for {}: {}",
                o.selector(true),
                e.without_diagnostic()
            )
        })?;
        let Some(name) = got.unpack_str().filter(|s| !s.is_empty()) else {
            bail!(
                "workload_to_resource_function must return a non-empty string, got {} for {}",
                got.get_type(),
                o.selector(true)
            );
        };
        super::super::resource_name::check(name)?;
        if let Some(obj) = c.k8s.borrow_mut().objects.get_mut(i) {
            obj.custom_name = Some(name.to_owned());
        }
    }
    Ok(())
}
