//! Kubernetes builtins: `k8s_yaml`, `k8s_resource`, `port_forward`,
//! `allow_k8s_contexts`, `k8s_context`, `k8s_namespace`, `filter_yaml` and
//! `workload_to_resource_function`.
//!
//! They only record what was declared: objects and `k8s_resource` options meet in
//! `config::assemble` after evaluation (either may come first, as in Tilt), where
//! [`crate::config::k8s::group`] turns them into resources.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::none::{NoneOr, NoneType};
use starlark::values::structs::AllocStruct;
use starlark::values::tuple::AllocTuple;
use starlark::values::{Heap, Value, ValueLike};

use super::args::{items_of, str_or_list, trigger_mode_of};
use super::blob::Blob;
use super::values::links_arg;
use crate::config::collect::{Collector, Declared, call_site, resolve};
use crate::config::k8s::context::current;
use crate::config::k8s::yaml::{parse_objects, to_yaml};
use crate::config::k8s::{K8sResourceOpts, ObjectDecl};
use crate::model::{DiscoveryStrategy, K8sObject, PodReadiness, PortForward};

/// The module variable that holds `workload_to_resource_function`'s function, so
/// later `k8s_yaml` calls in the same file can name their workloads with it.
const NAMER: &str = "__stilt_workload_to_resource_function";

/// YAML texts from a `k8s_yaml`/`filter_yaml` argument: a path, a blob of YAML, or a
/// list of them; files are recorded as read (a change reloads the Tiltfile).
fn yaml_texts(eval: &Evaluator, v: Value, what: &str) -> anyhow::Result<Vec<(String, String)>> {
    let c = Collector::get(eval)?;
    let items = items_of(v).unwrap_or_else(|| vec![v]);
    let mut out = Vec::new();
    for item in items {
        if let Some(b) = item.downcast_ref::<Blob>() {
            out.push(("<blob>".to_owned(), b.text.clone()));
        } else if let Some(p) = item.unpack_str() {
            let path = resolve(eval, p);
            c.record_read(&path);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("{what}: cannot read {}", path.display()))?;
            out.push((path.display().to_string(), text));
        } else {
            bail!(
                "{what}: expected a path, a blob of YAML or a list of them, not {}",
                item.get_type()
            );
        }
    }
    Ok(out)
}

fn objects_of(eval: &Evaluator, v: Value, what: &str) -> anyhow::Result<Vec<K8sObject>> {
    let mut out = Vec::new();
    for (origin, text) in yaml_texts(eval, v, what)? {
        out.extend(parse_objects(&text, &origin).map_err(|e| anyhow::anyhow!("{what}: {e}"))?);
    }
    Ok(out)
}

/// The object's identity as `workload_to_resource_function` sees it.
fn object_id<'v>(heap: Heap<'v>, o: &K8sObject) -> Value<'v> {
    heap.alloc(AllocStruct([
        ("name", heap.alloc(o.name.as_str())),
        ("kind", heap.alloc(o.kind.as_str())),
        (
            "namespace",
            heap.alloc(o.namespace.as_deref().unwrap_or("")),
        ),
        ("group", heap.alloc(o.group())),
        ("api_version", heap.alloc(o.api_version.as_str())),
    ]))
}

fn name_with<'v>(
    eval: &mut Evaluator<'v, '_, '_>,
    f: Value<'v>,
    o: &K8sObject,
) -> anyhow::Result<String> {
    let id = object_id(eval.heap(), o);
    let v = eval
        .eval_function(f, &[id], &[])
        .map_err(|e| anyhow::anyhow!("workload_to_resource_function: {e}"))?;
    match v.unpack_str() {
        Some(s) if !s.is_empty() => Ok(s.to_owned()),
        _ => bail!(
            "workload_to_resource_function: the function must return a non-empty string \
             for {}, not {}",
            o.selector(true),
            v
        ),
    }
}

/// `'9000'`, `'9000:8000'`, `'host:9000:8000'`, `9000` or a `port_forward(...)`.
fn port_forward_of(v: Value) -> anyhow::Result<PortForward> {
    let port = |s: &str, what: &str| -> anyhow::Result<u16> {
        s.trim()
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .with_context(|| format!("port_forwards: {what} {s:?} is not a port number"))
    };
    if let Some(n) = v.unpack_i32() {
        return Ok(PortForward {
            local_port: port(&n.to_string(), "port")?,
            container_port: None,
            name: None,
            link_path: None,
            host: None,
        });
    }
    if let Some(s) = v.unpack_str() {
        let parts: Vec<&str> = s.split(':').collect();
        let (host, local, container) = match parts.as_slice() {
            [l] => (None, *l, None),
            [l, c] => (None, *l, Some(*c)),
            [h, l, c] => (Some(*h), *l, Some(*c)),
            _ => bail!(
                "port_forwards: {s:?} is not 'LOCAL', 'LOCAL:CONTAINER' or 'HOST:LOCAL:CONTAINER'"
            ),
        };
        return Ok(PortForward {
            local_port: port(local, "local port")?,
            container_port: container.map(|c| port(c, "container port")).transpose()?,
            name: None,
            link_path: None,
            host: host.map(str::to_owned),
        });
    }
    if v.get_type() == "struct"
        && let Some(json) = v.to_json_value().ok()
        && let Some(local) = json.get("local_port").and_then(serde_json::Value::as_u64)
    {
        let field = |k: &str| json.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        return Ok(PortForward {
            local_port: port(&local.to_string(), "local port")?,
            container_port: json
                .get("container_port")
                .and_then(serde_json::Value::as_u64)
                .map(|c| port(&c.to_string(), "container port"))
                .transpose()?,
            name: field("name"),
            link_path: field("link_path"),
            host: field("host"),
        });
    }
    bail!(
        "port_forwards: expected a port, 'LOCAL:CONTAINER', 'HOST:LOCAL:CONTAINER' or \
         port_forward(...), not {}",
        v.get_type()
    )
}

fn selectors_of(v: Value) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
    if v.is_none() {
        return Ok(vec![]);
    }
    let items = match items_of(v) {
        Some(items) => items,
        None => vec![v],
    };
    items
        .into_iter()
        .map(|item| {
            let json = item.to_json_value().ok();
            let Some(map) = json.as_ref().and_then(serde_json::Value::as_object) else {
                bail!(
                    "k8s_resource(extra_pod_selectors=): expected a dict of labels or a list \
                     of them, not {}",
                    item.get_type()
                );
            };
            map.iter()
                .map(|(k, v)| match v.as_str() {
                    Some(s) => Ok((k.clone(), s.to_owned())),
                    None => bail!(
                        "k8s_resource(extra_pod_selectors=): the value of label {k:?} must be \
                         a string"
                    ),
                })
                .collect()
        })
        .collect()
}

fn regex_arg(v: Option<&str>, what: &str) -> anyhow::Result<Option<regex::Regex>> {
    v.map(|p| {
        regex::Regex::new(&format!("^(?:{p})$"))
            .map_err(|e| anyhow::anyhow!("filter_yaml({what}=): {e}"))
    })
    .transpose()
}

#[starlark_module]
fn k8s_module(b: &mut GlobalsBuilder) {
    fn k8s_yaml<'v>(
        yaml: Value<'v>,
        #[starlark(default = false)] allow_duplicates: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let objects = objects_of(eval, yaml, "k8s_yaml()")?;
        let namer = eval.module().get(NAMER);
        let mut decls = Vec::with_capacity(objects.len());
        for object in objects {
            let name_override = match namer {
                Some(f) if is_workload_like(&object) => Some(name_with(eval, f, &object)?),
                _ => None,
            };
            decls.push(ObjectDecl {
                object,
                name_override,
            });
        }
        let c = Collector::get(eval)?;
        let at = call_site(eval);
        let mut all = c.k8s_objects.borrow_mut();
        for d in decls {
            let o = &d.object;
            let dup = all.iter().any(|e| {
                let x = &e.value.object;
                x.kind == o.kind && x.name == o.name && x.namespace == o.namespace
            });
            if dup && !allow_duplicates {
                bail!(
                    "k8s_yaml(): {} {:?}{} is declared twice; pass allow_duplicates=True if \
                     that is intended",
                    o.kind,
                    o.name,
                    o.namespace
                        .as_ref()
                        .map(|n| format!(" in namespace {n:?}"))
                        .unwrap_or_default()
                );
            }
            if dup {
                all.retain(|e| {
                    let x = &e.value.object;
                    !(x.kind == o.kind && x.name == o.name && x.namespace == o.namespace)
                });
            }
            all.push(Declared {
                value: d,
                at: at.clone(),
            });
        }
        if c.k8s_position.get().is_none() {
            c.k8s_position.set(Some(c.resources.borrow().len()));
        }
        Ok(NoneType)
    }

    /// Tilt's positional order: workload, new_name, port_forwards,
    /// extra_pod_selectors, trigger_mode, resource_deps, objects, auto_init,
    /// pod_readiness, links, labels, discovery_strategy.
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
        if workload.is_empty() && new_name.is_empty() {
            bail!("k8s_resource() needs a workload, or new_name= and objects=");
        }
        if !new_name.is_empty() {
            super::resource_name::check(new_name)?;
        }
        let forwards = if port_forwards.is_none() {
            vec![]
        } else {
            items_of(port_forwards)
                .unwrap_or_else(|| vec![port_forwards])
                .into_iter()
                .map(port_forward_of)
                .collect::<anyhow::Result<Vec<_>>>()?
        };
        let pod_readiness = match pod_readiness {
            "" => None,
            "wait" => Some(PodReadiness::Wait),
            "ignore" => Some(PodReadiness::Ignore),
            other => bail!("k8s_resource(pod_readiness={other:?}): must be 'wait' or 'ignore'"),
        };
        let discovery = match discovery_strategy {
            "" => None,
            "default" => Some(DiscoveryStrategy::Default),
            "selectors-only" => Some(DiscoveryStrategy::SelectorsOnly),
            other => bail!(
                "k8s_resource(discovery_strategy={other:?}): must be 'default' or \
                 'selectors-only'"
            ),
        };
        let opts = K8sResourceOpts {
            workload: workload.to_owned(),
            new_name: (!new_name.is_empty()).then(|| new_name.to_owned()),
            port_forwards: forwards,
            extra_pod_selectors: selectors_of(extra_pod_selectors)?,
            trigger_mode: if trigger_mode.is_none() {
                None
            } else {
                Some(trigger_mode_of(trigger_mode, c)?)
            },
            resource_deps: str_or_list(Some(resource_deps), "k8s_resource(resource_deps=)")?
                .into_iter()
                .map(Into::into)
                .collect(),
            objects: str_or_list(Some(objects), "k8s_resource(objects=)")?,
            auto_init: auto_init.into_option(),
            pod_readiness,
            links: links_arg(links)?,
            labels: if labels.is_none() {
                None
            } else {
                Some(str_or_list(Some(labels), "k8s_resource(labels=)")?)
            },
            discovery,
        };
        c.k8s_calls.borrow_mut().push(Declared {
            value: opts,
            at: call_site(eval),
        });
        Ok(NoneType)
    }

    fn port_forward<'v>(
        local_port: i32,
        #[starlark(default = NoneOr::None)] container_port: NoneOr<i32>,
        #[starlark(default = NoneOr::None)] name: NoneOr<&str>,
        #[starlark(default = NoneOr::None)] link_path: NoneOr<&str>,
        #[starlark(default = NoneOr::None)] host: NoneOr<&str>,
        heap: Heap<'v>,
    ) -> anyhow::Result<Value<'v>> {
        let check = |p: i32, what: &str| {
            if !(1..=65535).contains(&p) {
                bail!("port_forward({what}={p}): not a port number");
            }
            Ok(p)
        };
        let local_port = check(local_port, "local_port")?;
        let container_port = container_port
            .into_option()
            .map(|p| check(p, "container_port"))
            .transpose()?;
        let opt = |s: Option<&str>| s.map_or(Value::new_none(), |s| heap.alloc(s));
        Ok(heap.alloc(AllocStruct([
            ("local_port", heap.alloc(local_port)),
            (
                "container_port",
                container_port.map_or(Value::new_none(), |p| heap.alloc(p)),
            ),
            ("name", opt(name.into_option())),
            ("link_path", opt(link_path.into_option())),
            ("host", opt(host.into_option())),
        ])))
    }

    fn allow_k8s_contexts<'v>(
        contexts: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        let names = str_or_list(Some(contexts), "allow_k8s_contexts()")?;
        c.settings.borrow_mut().k8s.allowed_contexts.extend(names);
        Ok(NoneType)
    }

    fn k8s_context(eval: &mut Evaluator<'_, '_, '_>) -> anyhow::Result<String> {
        let c = Collector::get(eval)?;
        Ok(current(&c.settings.borrow().k8s).context)
    }

    fn k8s_namespace(eval: &mut Evaluator<'_, '_, '_>) -> anyhow::Result<String> {
        let c = Collector::get(eval)?;
        Ok(current(&c.settings.borrow().k8s).namespace)
    }

    /// Splits YAML into the objects that match every given filter and the rest:
    /// `(matching, rest)` as blobs. `name`, `namespace`, `kind` and `api_version` are
    /// regular expressions matching the whole value (kind case-insensitively).
    #[allow(clippy::too_many_arguments)]
    fn filter_yaml<'v>(
        yaml: Value<'v>,
        #[starlark(default = NoneType)] labels: Value<'v>,
        #[starlark(default = NoneOr::None)] name: NoneOr<&str>,
        #[starlark(default = NoneOr::None)] namespace: NoneOr<&str>,
        #[starlark(default = NoneOr::None)] kind: NoneOr<&str>,
        #[starlark(default = NoneOr::None)] api_version: NoneOr<&str>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let objects = objects_of(eval, yaml, "filter_yaml()")?;
        let labels = super::args::str_dict(Some(labels), "filter_yaml(labels=)")?;
        let name = regex_arg(name.into_option(), "name")?;
        let namespace = regex_arg(namespace.into_option(), "namespace")?;
        let kind_ci = kind.into_option().map(|k| format!("(?i:{k})"));
        let kind = regex_arg(kind_ci.as_deref(), "kind")?;
        let api_version = regex_arg(api_version.into_option(), "api_version")?;
        let (matching, rest): (Vec<&K8sObject>, Vec<&K8sObject>) = objects.iter().partition(|o| {
            let has =
                |re: &Option<regex::Regex>, v: &str| re.as_ref().is_none_or(|re| re.is_match(v));
            let obj_labels = o.body.pointer("/metadata/labels");
            has(&name, &o.name)
                && has(&namespace, o.namespace.as_deref().unwrap_or(""))
                && has(&kind, &o.kind)
                && has(&api_version, &o.api_version)
                && labels.iter().all(|(k, v)| {
                    obj_labels.and_then(|l| l.get(k)).and_then(|x| x.as_str()) == Some(v)
                })
        });
        let heap = eval.heap();
        Ok(heap.alloc(AllocTuple([
            heap.alloc(Blob::new(to_yaml(&matching))),
            heap.alloc(Blob::new(to_yaml(&rest))),
        ])))
    }

    fn workload_to_resource_function<'v>(
        f: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        if f.get_type() != "function" && f.get_type() != "native_function" {
            bail!(
                "workload_to_resource_function(): expected a function, not {}",
                f.get_type()
            );
        }
        eval.module().set(NAMER, f);
        // Workloads declared before the call are named by it too, as in Tilt.
        let c = Collector::get(eval)?;
        let objects: Vec<(usize, K8sObject)> = c
            .k8s_objects
            .borrow()
            .iter()
            .enumerate()
            .filter(|(_, d)| is_workload_like(&d.value.object))
            .map(|(i, d)| (i, d.value.object.clone()))
            .collect();
        for (i, o) in objects {
            let name = name_with(eval, f, &o)?;
            let c = Collector::get(eval)?;
            if let Some(d) = c.k8s_objects.borrow_mut().get_mut(i) {
                d.value.name_override = Some(name);
            }
        }
        Ok(NoneType)
    }
}

fn is_workload_like(o: &K8sObject) -> bool {
    crate::config::k8s::group::pod_spec_pointer(o).is_some()
        || matches!(
            o.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" | "Pod"
        )
}

pub fn register(b: &mut GlobalsBuilder) {
    k8s_module(b);
}

#[cfg(test)]
#[path = "k8s_tests.rs"]
mod tests;
