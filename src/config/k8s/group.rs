//! Tilt's grouping of Kubernetes objects into resources, as a pure function.
//!
//! Each workload (anything that runs pods) is a resource named after it; Services
//! join the workload their selector picks; `k8s_resource(objects=)` places other
//! objects, or makes a resource of objects only; what is left goes to
//! `uncategorized`. Objects keep YAML order within a resource, except that
//! Namespaces and then CRDs come first so what depends on them applies after them.

use std::collections::HashMap;

use serde_json::Value;

use super::images::{pod_labels_pointer, pod_spec_pointer};
use super::select::ObjectSelector;
use crate::model::{K8sObject, UNCATEGORIZED};

/// Kinds that are workloads even when their pod template is missing or unusual.
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

/// Whether `o` runs pods, so becomes a resource of its own.
pub fn is_workload(o: &K8sObject) -> bool {
    WORKLOAD_KINDS.contains(&o.kind.as_str()) || pod_spec_pointer(o).is_some()
}

/// What one `k8s_resource` call says about grouping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// The resource it configures; `""` with `new_name` and `objects`: a new resource
    /// of objects only.
    pub workload: String,
    pub new_name: Option<String>,
    /// Tilt selectors (`name`, `name:kind`, `name:kind:namespace`).
    pub objects: Vec<String>,
}

/// One resource's objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    /// Indices into the objects, in apply order.
    pub objects: Vec<usize>,
    /// Position in `objects` of the workload.
    pub workload: Option<usize>,
    /// Indices of the `k8s_resource` calls that configure it, in call order.
    pub calls: Vec<usize>,
}

/// A grouping error; `call` is the index of the `k8s_resource` call at fault.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct GroupError {
    pub call: Option<usize>,
    pub message: String,
}

struct Draft {
    /// The name before any `new_name`.
    original: String,
    name: String,
    workload: Option<usize>,
    calls: Vec<usize>,
}

/// The resource name of each workload (`workloads` are object indices): its name, or
/// the name `custom` gives it; colliding names become `name:kind`, then
/// `name:kind:namespace`.
pub fn workload_names(
    objects: &[K8sObject],
    workloads: &[usize],
    custom: &[Option<String>],
) -> Vec<String> {
    let base: Vec<String> = workloads
        .iter()
        .map(|&w| {
            custom
                .get(w)
                .cloned()
                .flatten()
                .unwrap_or_else(|| objects[w].name.clone())
        })
        .collect();
    let mut names = base.clone();
    for step in 1..=2 {
        let mut count: HashMap<String, usize> = HashMap::new();
        for n in &names {
            *count.entry(n.clone()).or_default() += 1;
        }
        for (i, &w) in workloads.iter().enumerate() {
            if count[&names[i]] > 1 {
                let o = &objects[w];
                let kind = o.kind.to_ascii_lowercase();
                names[i] = match step {
                    1 => format!("{}:{kind}", base[i]),
                    _ => format!(
                        "{}:{kind}:{}",
                        base[i],
                        o.namespace.as_deref().unwrap_or("default")
                    ),
                };
            }
        }
    }
    names
}

/// Groups `objects` into resources; `custom` holds `workload_to_resource_function`'s
/// name per object, `calls` the `k8s_resource` calls in order.
pub fn group(
    objects: &[K8sObject],
    custom: &[Option<String>],
    calls: &[Placement],
) -> Result<Vec<Group>, GroupError> {
    group_with_kinds(objects, custom, calls, &[])
}

/// [`group`], where `kind_workloads[i]` also makes object `i` a workload (its kind
/// was registered with `k8s_kind`).
pub fn group_with_kinds(
    objects: &[K8sObject],
    custom: &[Option<String>],
    calls: &[Placement],
    kind_workloads: &[bool],
) -> Result<Vec<Group>, GroupError> {
    let workloads: Vec<usize> = (0..objects.len())
        .filter(|&i| is_workload(&objects[i]) || kind_workloads.get(i) == Some(&true))
        .collect();
    let names = workload_names(objects, &workloads, custom);
    let mut drafts: Vec<Draft> = workloads
        .iter()
        .zip(names)
        .map(|(&w, name)| Draft {
            original: name.clone(),
            name,
            workload: Some(w),
            calls: Vec::new(),
        })
        .collect();
    let mut owner: Vec<Option<usize>> = vec![None; objects.len()];
    for (d, &w) in workloads.iter().enumerate() {
        owner[w] = Some(d);
    }
    attach_services(objects, &workloads, &mut owner);
    let mut grouping = Grouping {
        objects,
        drafts: &mut drafts,
        owner: &mut owner,
        placed_by: vec![None; objects.len()],
    };
    let mut on_uncategorized = Vec::new();
    for (ci, call) in calls.iter().enumerate() {
        if call.workload == UNCATEGORIZED && grouping.find(&call.workload).is_none() {
            if call.new_name.is_some() || !call.objects.is_empty() {
                return Err(GroupError {
                    call: Some(ci),
                    message: "k8s_resource('uncategorized') takes neither new_name= nor \
                              objects=: it holds what no other resource claims"
                        .into(),
                });
            }
            on_uncategorized.push(ci);
            continue;
        }
        grouping.apply(ci, call)?;
    }
    finish(objects, drafts, &owner, on_uncategorized)
}

/// The groups: `uncategorized` (the objects nobody owns) first, then the drafts.
fn finish(
    objects: &[K8sObject],
    drafts: Vec<Draft>,
    owner: &[Option<usize>],
    on_uncategorized: Vec<usize>,
) -> Result<Vec<Group>, GroupError> {
    let mut groups = Vec::new();
    let leftovers: Vec<usize> = (0..objects.len()).filter(|&i| owner[i].is_none()).collect();
    if !leftovers.is_empty() {
        groups.push(Group {
            name: UNCATEGORIZED.to_owned(),
            objects: apply_order(objects, leftovers),
            workload: None,
            calls: on_uncategorized,
        });
    } else if let Some(&ci) = on_uncategorized.first() {
        return Err(not_found(ci, UNCATEGORIZED, &drafts));
    }
    for (d, draft) in drafts.into_iter().enumerate() {
        let members: Vec<usize> = (0..objects.len())
            .filter(|&i| owner[i] == Some(d))
            .collect();
        let members = apply_order(objects, members);
        let workload = draft
            .workload
            .and_then(|w| members.iter().position(|&i| i == w));
        groups.push(Group {
            name: draft.name,
            objects: members,
            workload,
            calls: draft.calls,
        });
    }
    Ok(groups)
}

/// Each Service joins the first workload (in YAML order) whose pod labels include all
/// of its selector.
fn attach_services(objects: &[K8sObject], workloads: &[usize], owner: &mut [Option<usize>]) {
    for (i, o) in objects.iter().enumerate() {
        if o.kind != "Service" || owner[i].is_some() {
            continue;
        }
        let Some(Value::Object(selector)) = o.body.pointer("/spec/selector") else {
            continue;
        };
        if selector.is_empty() {
            continue;
        }
        let picks = |w: usize| {
            let labels = pod_labels_pointer(&objects[w]).and_then(|p| objects[w].body.pointer(&p));
            selector
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        };
        if let Some(d) = workloads.iter().position(|&w| picks(w)) {
            owner[i] = Some(d);
        }
    }
}

/// Namespaces, then CRDs, then the rest, each in YAML order.
fn apply_order(objects: &[K8sObject], mut members: Vec<usize>) -> Vec<usize> {
    let rank = |i: &usize| match objects[*i].kind.as_str() {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        _ => 2,
    };
    members.sort_by_key(|i| (rank(i), *i));
    members
}

fn not_found(call: usize, workload: &str, drafts: &[Draft]) -> GroupError {
    let known: Vec<&str> = drafts.iter().map(|d| d.name.as_str()).collect();
    GroupError {
        call: Some(call),
        message: format!(
            "k8s_resource named {workload:?} not found. Known names: {}",
            if known.is_empty() {
                "none (no k8s_yaml declared a workload)".to_owned()
            } else {
                known.join(", ")
            }
        ),
    }
}

/// The state the `k8s_resource` calls act on.
struct Grouping<'a> {
    objects: &'a [K8sObject],
    drafts: &'a mut Vec<Draft>,
    owner: &'a mut Vec<Option<usize>>,
    /// The call whose `objects=` placed each object.
    placed_by: Vec<Option<usize>>,
}

impl Grouping<'_> {
    fn find(&self, name: &str) -> Option<usize> {
        let d = &self.drafts;
        d.iter()
            .position(|d| d.name == name)
            .or_else(|| d.iter().position(|d| d.original == name))
    }

    fn apply(&mut self, ci: usize, call: &Placement) -> Result<(), GroupError> {
        let err = |message: String| GroupError {
            call: Some(ci),
            message,
        };
        let d = if call.workload.is_empty() {
            let (Some(name), false) = (&call.new_name, call.objects.is_empty()) else {
                return Err(err(
                    "k8s_resource() needs workload=, or new_name= and objects= to make a \
                     resource of objects only"
                        .into(),
                ));
            };
            match self
                .find(name)
                .filter(|&d| self.drafts[d].workload.is_none())
            {
                Some(d) => d,
                None => {
                    self.drafts.push(Draft {
                        original: name.clone(),
                        name: name.clone(),
                        workload: None,
                        calls: Vec::new(),
                    });
                    self.drafts.len() - 1
                }
            }
        } else {
            self.find(&call.workload)
                .ok_or_else(|| not_found(ci, &call.workload, self.drafts))?
        };
        if let Some(n) = &call.new_name {
            self.drafts[d].name = n.clone();
        }
        for sel in &call.objects {
            let i = self.select(sel).map_err(err)?;
            self.place(ci, d, i, sel).map_err(err)?;
        }
        self.drafts[d].calls.push(ci);
        Ok(())
    }

    /// The one object `sel` names.
    fn select(&self, sel: &str) -> Result<usize, String> {
        let s = ObjectSelector::parse(sel).map_err(|e| format!("k8s_resource(objects=): {e}"))?;
        let hits: Vec<usize> = (0..self.objects.len())
            .filter(|&i| s.matches(&self.objects[i]))
            .collect();
        match hits.as_slice() {
            [one] => Ok(*one),
            [] => Err(format!(
                "k8s_resource(objects=): no object matches {sel:?} (objects are selected as \
                 name, name:kind or name:kind:namespace)"
            )),
            many => {
                let ids: Vec<String> = many
                    .iter()
                    .map(|&i| self.objects[i].selector(true))
                    .collect();
                Err(format!(
                    "k8s_resource(objects=): {sel:?} matches several objects ({}); add \
                     :kind or :kind:namespace",
                    ids.join(", ")
                ))
            }
        }
    }

    fn place(&mut self, ci: usize, d: usize, i: usize, sel: &str) -> Result<(), String> {
        let name_of = |d: Option<usize>| d.map(|d| self.drafts[d].name.clone());
        if self.drafts.iter().any(|x| x.workload == Some(i)) {
            return Err(format!(
                "k8s_resource(objects=): {sel:?} is a workload (resource {:?}); only other \
                 objects can be placed",
                name_of(self.owner[i]).unwrap_or_default()
            ));
        }
        if self.placed_by[i].is_some() && self.owner[i] != Some(d) {
            return Err(format!(
                "k8s_resource(objects=): {sel:?} is already placed in resource {:?}",
                name_of(self.owner[i]).unwrap_or_default()
            ));
        }
        self.owner[i] = Some(d);
        self.placed_by[i] = Some(ci);
        Ok(())
    }
}

#[cfg(test)]
#[path = "group_tests.rs"]
mod tests;
