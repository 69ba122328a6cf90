//! Tilt's grouping of Kubernetes objects into resources, pure.
//!
//! Each workload (anything with a pod template, or a bare Pod) is a resource named
//! after it (`name:kind`, then `name:kind:namespace` on collisions); a Service goes
//! with the workload whose pod labels its selector matches; `k8s_resource(objects=)`
//! places objects explicitly; everything else is `uncategorized`, which the others
//! wait for. Container images naming a declared image become [`ImageSlot`]s.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::config::builtins::image_ref::same_image;
use crate::model::{
    DiscoveryStrategy, ImageSlot, K8sObject, K8sSpec, Link, PodReadiness, PortForward, Resource,
    ResourceKind, ResourceName, TriggerMode, UNCATEGORIZED,
};

/// One object from a `k8s_yaml` call.
#[derive(Debug, Clone)]
pub struct ObjectDecl {
    pub object: K8sObject,
    /// The resource name `workload_to_resource_function` gave it.
    pub name_override: Option<String>,
}

/// One `k8s_resource` call; `None` leaves the default.
#[derive(Debug, Clone, Default)]
pub struct K8sResourceOpts {
    pub workload: String,
    pub new_name: Option<String>,
    pub port_forwards: Vec<PortForward>,
    pub extra_pod_selectors: Vec<BTreeMap<String, String>>,
    pub trigger_mode: Option<TriggerMode>,
    pub resource_deps: Vec<ResourceName>,
    pub objects: Vec<String>,
    pub auto_init: Option<bool>,
    pub pod_readiness: Option<PodReadiness>,
    pub links: Vec<Link>,
    pub labels: Option<Vec<String>>,
    pub discovery: Option<DiscoveryStrategy>,
}

/// What went wrong, and which call to blame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupError {
    pub message: String,
    /// Index of the `k8s_resource` call (into the opts given to [`group`]).
    pub opts: Option<usize>,
}

/// The resources, in order, each with the index of the `k8s_resource` call that
/// shaped it (for error locations), and the declared images they use.
#[derive(Debug, Clone, Default)]
pub struct Grouped {
    pub resources: Vec<(Resource, Option<usize>)>,
    pub used_images: Vec<String>,
}

/// Kinds that are workloads even without a recognisable pod template.
const WORKLOAD_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Pod",
];

/// JSON pointer to the pod spec of a workload, if it has one.
pub fn pod_spec_pointer(o: &K8sObject) -> Option<&'static str> {
    let candidates: &[&'static str] = match o.kind.as_str() {
        "Pod" => &["/spec"],
        "CronJob" => &["/spec/jobTemplate/spec/template/spec"],
        _ => &[
            "/spec/template/spec",
            "/spec/jobTemplate/spec/template/spec",
        ],
    };
    candidates
        .iter()
        .copied()
        .find(|p| o.body.pointer(p).is_some_and(Value::is_object))
}

fn is_workload(o: &K8sObject) -> bool {
    WORKLOAD_KINDS.contains(&o.kind.as_str()) || pod_spec_pointer(o).is_some()
}

/// The labels a workload's pods carry.
fn pod_labels(o: &K8sObject) -> BTreeMap<String, String> {
    let pointer = match o.kind.as_str() {
        "Pod" => "/metadata/labels",
        "CronJob" => "/spec/jobTemplate/spec/template/metadata/labels",
        _ => "/spec/template/metadata/labels",
    };
    string_map(o.body.pointer(pointer))
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn namespace(o: &K8sObject) -> &str {
    o.namespace.as_deref().unwrap_or("")
}

/// Names for the workloads: the name, `name:kind` where names collide, and
/// `name:kind:namespace` where that still collides.
fn workload_names(objects: &[ObjectDecl], workloads: &[usize]) -> Vec<String> {
    let base: Vec<String> = workloads
        .iter()
        .map(|&i| {
            let d = &objects[i];
            d.name_override
                .clone()
                .unwrap_or_else(|| d.object.name.clone())
        })
        .collect();
    let widen = |names: &[String], f: &dyn Fn(usize) -> String| -> Vec<String> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if names.iter().filter(|m| *m == n).count() > 1 {
                    f(i)
                } else {
                    n.clone()
                }
            })
            .collect()
    };
    let with_kind = widen(&base, &|i| {
        let o = &objects[workloads[i]].object;
        format!("{}:{}", base[i], o.kind.to_ascii_lowercase())
    });
    widen(&with_kind, &|i| {
        let o = &objects[workloads[i]].object;
        let ns = o.namespace.as_deref().unwrap_or("default");
        format!("{}:{}:{ns}", base[i], o.kind.to_ascii_lowercase())
    })
}

/// Later calls for the same workload override what they set and add to the lists.
fn merge(mut a: K8sResourceOpts, b: K8sResourceOpts) -> K8sResourceOpts {
    a.new_name = b.new_name.or(a.new_name);
    a.port_forwards.extend(b.port_forwards);
    a.extra_pod_selectors.extend(b.extra_pod_selectors);
    a.trigger_mode = b.trigger_mode.or(a.trigger_mode);
    a.resource_deps.extend(b.resource_deps);
    a.objects.extend(b.objects);
    a.auto_init = b.auto_init.or(a.auto_init);
    a.pod_readiness = b.pod_readiness.or(a.pod_readiness);
    a.links.extend(b.links);
    a.labels = b.labels.or(a.labels);
    a.discovery = b.discovery.or(a.discovery);
    a
}

/// Does `selector` (`name`, `name:kind` or `name:kind:namespace`) identify `o`?
fn selects(selector: &str, o: &K8sObject) -> bool {
    let mut parts = selector.split(':');
    let name = parts.next().unwrap_or("");
    let kind = parts.next();
    let ns = parts.next();
    name == o.name
        && kind.is_none_or(|k| k.eq_ignore_ascii_case(&o.kind))
        && ns.is_none_or(|n| n == o.namespace.as_deref().unwrap_or("default"))
}

/// One resource being built: its objects (indices) and options.
struct Group {
    name: String,
    workload: Option<usize>,
    objects: Vec<usize>,
    opts: Option<(usize, K8sResourceOpts)>,
}

pub fn group(
    objects: &[ObjectDecl],
    calls: &[K8sResourceOpts],
    declared_images: &[String],
    default_trigger: TriggerMode,
) -> Result<Grouped, GroupError> {
    let workloads: Vec<usize> = (0..objects.len())
        .filter(|&i| is_workload(&objects[i].object))
        .collect();
    let names = workload_names(objects, &workloads);
    let mut groups: Vec<Group> = workloads
        .iter()
        .zip(&names)
        .map(|(&i, name)| Group {
            name: name.clone(),
            workload: Some(i),
            objects: vec![i],
            opts: None,
        })
        .collect();
    // Where each non-workload object goes: a workload's group, or uncategorized.
    let mut home: BTreeMap<usize, Option<usize>> = BTreeMap::new();
    for (i, d) in objects.iter().enumerate() {
        if is_workload(&d.object) {
            continue;
        }
        home.insert(i, selected_workload(&d.object, objects, &workloads));
    }
    // k8s_resource calls, merged per workload, in first-call order.
    let mut merged: Vec<(usize, K8sResourceOpts)> = Vec::new();
    for (ci, call) in calls.iter().enumerate() {
        let key = |o: &K8sResourceOpts| {
            if o.workload.is_empty() {
                o.new_name.clone().unwrap_or_default()
            } else {
                o.workload.clone()
            }
        };
        match merged.iter_mut().find(|(_, m)| key(m) == key(call)) {
            Some((at, m)) => {
                *m = merge(m.clone(), call.clone());
                *at = ci;
            }
            None => merged.push((ci, call.clone())),
        }
    }
    for (ci, opts) in merged {
        let target = match groups.iter().position(|g| g.name == opts.workload) {
            Some(g) if !opts.workload.is_empty() => g,
            _ if !opts.objects.is_empty() => {
                let name = opts
                    .new_name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| opts.workload.clone());
                if name.is_empty() {
                    return Err(GroupError {
                        message: "k8s_resource(objects=...) without a workload needs new_name="
                            .into(),
                        opts: Some(ci),
                    });
                }
                groups.push(Group {
                    name,
                    workload: None,
                    objects: vec![],
                    opts: None,
                });
                groups.len() - 1
            }
            _ => {
                let mut known: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
                if home.values().any(Option::is_none) {
                    known.insert(0, UNCATEGORIZED);
                }
                let known = if known.is_empty() {
                    "none (no k8s_yaml() declared a workload)".to_owned()
                } else {
                    known.join(", ")
                };
                return Err(GroupError {
                    message: format!(
                        "k8s_resource named {:?} not found. Known names: {known}",
                        opts.workload
                    ),
                    opts: Some(ci),
                });
            }
        };
        for sel in &opts.objects {
            let matching: Vec<usize> = (0..objects.len())
                .filter(|&i| selects(sel, &objects[i].object))
                .collect();
            let one = match matching.as_slice() {
                [one] => *one,
                [] => {
                    return Err(GroupError {
                        message: format!(
                            "k8s_resource(objects=[{sel:?}]): no object is identified by {sel:?} \
                             (use name, name:kind or name:kind:namespace)"
                        ),
                        opts: Some(ci),
                    });
                }
                many => {
                    let all: Vec<String> = many
                        .iter()
                        .map(|&i| objects[i].object.selector(true))
                        .collect();
                    return Err(GroupError {
                        message: format!(
                            "k8s_resource(objects=[{sel:?}]): {sel:?} identifies several \
                             objects ({}); add the kind and namespace",
                            all.join(", ")
                        ),
                        opts: Some(ci),
                    });
                }
            };
            if is_workload(&objects[one].object) {
                return Err(GroupError {
                    message: format!(
                        "k8s_resource(objects=[{sel:?}]): {} is a workload, which is a \
                         resource of its own",
                        objects[one].object.selector(true)
                    ),
                    opts: Some(ci),
                });
            }
            home.insert(one, Some(target));
        }
        groups[target].opts = Some((ci, opts));
    }
    // Non-workload objects join their group; the rest make `uncategorized`.
    let mut uncategorized = Vec::new();
    for (obj, g) in home {
        match g {
            Some(g) => groups[g].objects.push(obj),
            None => uncategorized.push(obj),
        }
    }
    let mut all: Vec<Group> = Vec::new();
    if !uncategorized.is_empty() {
        all.push(Group {
            name: UNCATEGORIZED.into(),
            workload: None,
            objects: uncategorized,
            opts: None,
        });
    }
    all.extend(groups);
    let has_uncategorized = all
        .first()
        .is_some_and(|g| g.workload.is_none() && g.name == UNCATEGORIZED);
    let mut used_images: Vec<String> = Vec::new();
    let mut resources = Vec::new();
    for g in all {
        let (spec, images) = spec_of(objects, &g, declared_images);
        for i in &images {
            if !used_images.contains(i) {
                used_images.push(i.clone());
            }
        }
        let opts = g.opts.as_ref().map(|(_, o)| o.clone()).unwrap_or_default();
        let name = opts
            .new_name
            .clone()
            .filter(|n| !n.is_empty() && g.workload.is_some())
            .unwrap_or(g.name.clone());
        let mut deps: Vec<ResourceName> = Vec::new();
        if has_uncategorized && name != UNCATEGORIZED {
            deps.push(UNCATEGORIZED.into());
        }
        for d in opts.resource_deps {
            if !deps.contains(&d) {
                deps.push(d);
            }
        }
        let mut links: Vec<Link> = spec
            .port_forwards
            .iter()
            .map(|pf| Link {
                url: pf.url(),
                name: pf.name.clone(),
            })
            .collect();
        links.extend(opts.links);
        let resource = Resource {
            name: name.into(),
            labels: opts.labels.unwrap_or_default(),
            links,
            resource_deps: deps,
            trigger_mode: opts.trigger_mode.unwrap_or(default_trigger),
            auto_init: opts.auto_init.unwrap_or(true),
            kind: ResourceKind::K8s(spec),
        };
        resources.push((resource, g.opts.map(|(ci, _)| ci)));
    }
    Ok(Grouped {
        resources,
        used_images,
    })
}

/// The workload whose pods a Service's selector picks, in the same namespace.
fn selected_workload(o: &K8sObject, objects: &[ObjectDecl], workloads: &[usize]) -> Option<usize> {
    if o.kind != "Service" {
        return None;
    }
    let selector = string_map(o.body.pointer("/spec/selector"));
    if selector.is_empty() {
        return None;
    }
    workloads.iter().position(|&w| {
        let wo = &objects[w].object;
        let labels = pod_labels(wo);
        namespace(wo) == namespace(o) && selector.iter().all(|(k, v)| labels.get(k) == Some(v))
    })
}

/// Apply order: Namespaces, then CRDs, then the rest as declared.
fn rank(o: &K8sObject) -> u8 {
    match o.kind.as_str() {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        _ => 2,
    }
}

fn spec_of(objects: &[ObjectDecl], g: &Group, declared: &[String]) -> (K8sSpec, Vec<String>) {
    let mut order: Vec<usize> = g.objects.clone();
    order.sort_by_key(|&i| (rank(&objects[i].object), i));
    let list: Vec<K8sObject> = order.iter().map(|&i| objects[i].object.clone()).collect();
    let workload = g.workload.and_then(|w| order.iter().position(|&i| i == w));
    let mut slots = Vec::new();
    let mut images: Vec<String> = Vec::new();
    if let Some(w) = workload {
        for slot in image_slots(&list[w], w, declared) {
            if !images.contains(&slot.image_ref) {
                images.push(slot.image_ref.clone());
            }
            slots.push(slot);
        }
    }
    let opts = g.opts.as_ref().map(|(_, o)| o);
    let spec = K8sSpec {
        objects: list,
        workload,
        images: images.clone(),
        image_slots: slots,
        port_forwards: opts.map(|o| o.port_forwards.clone()).unwrap_or_default(),
        extra_pod_selectors: opts
            .map(|o| o.extra_pod_selectors.clone())
            .unwrap_or_default(),
        pod_readiness: opts.and_then(|o| o.pod_readiness).unwrap_or_default(),
        discovery: opts.and_then(|o| o.discovery).unwrap_or_default(),
    };
    (spec, images)
}

/// Containers and initContainers whose image names a declared image.
pub fn image_slots(o: &K8sObject, index: usize, declared: &[String]) -> Vec<ImageSlot> {
    let Some(spec) = pod_spec_pointer(o) else {
        return vec![];
    };
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        let at = format!("{spec}/{list}");
        let Some(containers) = o.body.pointer(&at).and_then(Value::as_array) else {
            continue;
        };
        for (i, c) in containers.iter().enumerate() {
            let Some(image) = c.get("image").and_then(Value::as_str) else {
                continue;
            };
            if let Some(d) = declared.iter().find(|d| same_image(d, image)) {
                out.push(ImageSlot {
                    object: index,
                    pointer: format!("{at}/{i}/image"),
                    container: Some(format!("{at}/{i}")),
                    image_ref: d.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
