//! The Kubernetes builtins: `k8s_yaml`, `k8s_resource`, `port_forward`,
//! `allow_k8s_contexts`, `k8s_context`, `k8s_namespace`, `filter_yaml` and
//! `workload_to_resource_function`.
//!
//! They only record: objects and `k8s_resource` options meet in `config::assemble`
//! once evaluation is over (Tilt lets `k8s_resource` come first, and a `docker_build`
//! follow), where `config::k8s::group` makes the resources.

mod naming;
mod values;

use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::{NoneOr, NoneType};
use starlark::values::tuple::AllocTuple;

use self::values::{PortForwardValue, discovery, pod_readiness, pod_selectors, port_forwards};
use super::args::{str_dict, str_or_list, trigger_mode_of};
use super::blob::Blob;
use super::values::links_arg;
use crate::config::collect::{Collector, Declared, call_site};
use crate::config::k8s::group::Placement;
use crate::config::k8s::resources::{K8sResourceOpts, YamlObject};
use crate::config::k8s::select::{Filter, regex};
use crate::config::k8s::{ports, yaml};
use crate::model::{K8sObject, PortForward};

/// The objects of every source.
fn parse_sources(srcs: &[values::Source]) -> anyhow::Result<Vec<(K8sObject, String)>> {
    let mut out = Vec::new();
    for s in srcs {
        for o in yaml::parse_objects(&s.text, &s.name)? {
            out.push((o, s.name.clone()));
        }
    }
    Ok(out)
}

fn same_object(a: &K8sObject, b: &K8sObject) -> bool {
    a.kind.eq_ignore_ascii_case(&b.kind) && a.name == b.name && a.namespace == b.namespace
}

/// Adds `new` to the collected objects; an object already declared is an error naming
/// both places unless `allow_duplicates`, when the later one replaces it.
fn add_objects(
    c: &Collector,
    eval: &Evaluator,
    new: Vec<(K8sObject, String)>,
    allow_duplicates: bool,
) -> anyhow::Result<()> {
    let at = call_site(eval);
    let mut k8s = c.k8s.borrow_mut();
    if k8s.at.is_none() {
        k8s.at = at.clone();
        k8s.position = c.resources.borrow().len();
    }
    for (object, source) in new {
        let prev = k8s
            .objects
            .iter()
            .position(|o| same_object(&o.object, &object));
        let entry = YamlObject {
            object,
            source,
            at: at.clone(),
            custom_name: None,
        };
        match prev {
            Some(i) if allow_duplicates => k8s.objects[i] = entry,
            Some(i) => {
                let p = &k8s.objects[i];
                let where_ =
                    p.at.as_ref()
                        .map(|l| format!(" at {l}"))
                        .unwrap_or_default();
                bail!(
                    "k8s_yaml(): {} in {} is already declared (from {}{where_}); pass \
                     allow_duplicates=True to let the later one replace it",
                    entry.object.selector(true),
                    entry.source,
                    p.source
                );
            }
            None => k8s.objects.push(entry),
        }
    }
    Ok(())
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// `Some(list)` when the argument was given (not `None`, not empty).
fn given<T>(v: Vec<T>) -> Option<Vec<T>> {
    (!v.is_empty()).then_some(v)
}

fn filter_of(
    labels: Value,
    name: NoneOr<&str>,
    namespace: NoneOr<&str>,
    kind: NoneOr<&str>,
    api_version: NoneOr<&str>,
) -> anyhow::Result<Filter> {
    let re = |v: NoneOr<&str>, what: &str, ic: bool| -> anyhow::Result<_> {
        Ok(v.into_option().map(|p| regex(p, what, ic)).transpose()?)
    };
    Ok(Filter {
        labels: str_dict(Some(labels), "filter_yaml(labels=)")?,
        name: re(name, "name", false)?,
        namespace: re(namespace, "namespace", false)?,
        kind: re(kind, "kind", true)?,
        api_version: re(api_version, "api_version", false)?,
    })
}

#[starlark_module]
fn k8s_module(b: &mut GlobalsBuilder) {
    fn k8s_yaml<'v>(
        #[starlark(require = pos)] yaml: Value<'v>,
        #[starlark(default = false)] allow_duplicates: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        let srcs = values::sources(c, eval, yaml, "k8s_yaml()")?;
        let objects = parse_sources(&srcs).map_err(|e| anyhow::anyhow!("k8s_yaml(): {e}"))?;
        add_objects(c, eval, objects, allow_duplicates)?;
        naming::name_workloads(c, eval)?;
        Ok(NoneType)
    }

    /// Tilt's positional order: workload, new_name, port_forwards, extra_pod_selectors,
    /// trigger_mode, resource_deps, objects, auto_init, pod_readiness, links, labels,
    /// discovery_strategy.
    #[allow(clippy::too_many_arguments)]
    fn k8s_resource<'v>(
        #[starlark(default = "")] workload: &str,
        #[starlark(default = "")] new_name: &str,
        #[starlark(default = NoneType)] port_forwards: Value<'v>,
        #[starlark(default = NoneType)] extra_pod_selectors: Value<'v>,
        #[starlark(default = NoneType)] trigger_mode: Value<'v>,
        #[starlark(default = NoneType)] resource_deps: Value<'v>,
        #[starlark(default = NoneType)] objects: Value<'v>,
        #[starlark(default = NoneOr::None)] auto_init: NoneOr<bool>,
        #[starlark(default = "")] pod_readiness: &str,
        #[starlark(default = NoneType)] links: Value<'v>,
        #[starlark(default = NoneType)] labels: Value<'v>,
        #[starlark(default = "")] discovery_strategy: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        if !new_name.is_empty() {
            super::resource_name::check(new_name)?;
        }
        let opts = K8sResourceOpts {
            placement: Placement {
                workload: workload.to_owned(),
                new_name: non_empty(new_name),
                objects: str_or_list(Some(objects), "k8s_resource(objects=)")?,
            },
            port_forwards: given(self::port_forwards(port_forwards)?),
            extra_pod_selectors: given(pod_selectors(extra_pod_selectors)?),
            trigger_mode: if trigger_mode.is_none() {
                None
            } else {
                Some(trigger_mode_of(trigger_mode, c)?)
            },
            resource_deps: given(
                str_or_list(Some(resource_deps), "k8s_resource(resource_deps=)")?
                    .into_iter()
                    .map(Into::into)
                    .collect(),
            ),
            auto_init: auto_init.into_option(),
            pod_readiness: self::pod_readiness(pod_readiness)?,
            links: given(links_arg(links)?),
            labels: given(str_or_list(Some(labels), "k8s_resource(labels=)")?),
            discovery: discovery(discovery_strategy)?,
        };
        c.k8s.borrow_mut().calls.push(Declared {
            value: opts,
            at: call_site(eval),
        });
        Ok(NoneType)
    }

    fn port_forward(
        #[starlark(require = pos)] local_port: i32,
        #[starlark(default = NoneOr::None)] container_port: NoneOr<i32>,
        #[starlark(default = NoneOr::None)] name: NoneOr<&str>,
        #[starlark(default = NoneOr::None)] link_path: NoneOr<&str>,
        #[starlark(default = NoneOr::None)] host: NoneOr<&str>,
    ) -> anyhow::Result<PortForwardValue> {
        let port = |n: i32| -> anyhow::Result<u16> {
            Ok(ports::from_int(n.into())
                .map_err(|e| anyhow::anyhow!("port_forward(): {e}"))?
                .local_port)
        };
        Ok(PortForwardValue {
            pf: PortForward {
                local_port: port(local_port)?,
                container_port: container_port.into_option().map(port).transpose()?,
                name: name.into_option().and_then(non_empty),
                link_path: link_path.into_option().and_then(non_empty),
                host: host.into_option().and_then(non_empty),
            },
        })
    }

    fn allow_k8s_contexts<'v>(
        #[starlark(require = pos)] contexts: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        let names = str_or_list(Some(contexts), "allow_k8s_contexts()")?;
        c.settings.borrow_mut().k8s.allowed_contexts.extend(names);
        Ok(NoneType)
    }

    fn k8s_context<'v>(eval: &mut Evaluator<'v, '_, '_>) -> anyhow::Result<String> {
        Ok(Collector::get(eval)?.k8s_env()?.context)
    }

    fn k8s_namespace<'v>(eval: &mut Evaluator<'v, '_, '_>) -> anyhow::Result<String> {
        Ok(Collector::get(eval)?.k8s_env()?.namespace)
    }

    /// Returns `(matching, rest)` as blobs of YAML.
    fn filter_yaml<'v>(
        #[starlark(require = pos)] yaml: Value<'v>,
        #[starlark(default = NoneType)] labels: Value<'v>,
        #[starlark(default = NoneOr::None)] name: NoneOr<&str>,
        #[starlark(default = NoneOr::None)] namespace: NoneOr<&str>,
        #[starlark(default = NoneOr::None)] kind: NoneOr<&str>,
        #[starlark(default = NoneOr::None)] api_version: NoneOr<&str>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let c = Collector::get(eval)?;
        let filter = filter_of(labels, name, namespace, kind, api_version)?;
        let srcs = values::sources(c, eval, yaml, "filter_yaml()")?;
        let objects = parse_sources(&srcs).map_err(|e| anyhow::anyhow!("filter_yaml(): {e}"))?;
        let (hit, rest): (Vec<_>, Vec<_>) = objects
            .iter()
            .map(|(o, _)| o)
            .partition(|o| filter.matches(o));
        let heap = eval.heap();
        Ok(heap.alloc(AllocTuple([
            heap.alloc(Blob::new(yaml::to_text(hit))),
            heap.alloc(Blob::new(yaml::to_text(rest))),
        ])))
    }

    fn workload_to_resource_function<'v>(
        #[starlark(require = pos)] f: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        if f.get_type() != "function" && f.get_type() != "builtin_function_or_method" {
            bail!(
                "workload_to_resource_function() needs a function, not {}",
                f.get_type()
            );
        }
        naming::register(c, eval, f);
        naming::name_workloads(c, eval)?;
        Ok(NoneType)
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    k8s_module(b);
}

#[cfg(test)]
#[path = "k8s_tests.rs"]
mod tests;
