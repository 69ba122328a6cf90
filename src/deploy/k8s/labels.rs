//! The labels and annotations stilt puts on what it applies (pure).
//!
//! Every object carries the project's id, so `down` finds exactly what this project
//! applied; the workload's pod template carries the resource's id, so its pods are
//! found by label alone (no owner-reference walk). Kubernetes label values are
//! restricted, so resource names are mapped to a label-safe form that stays unique.

use serde_json::{Map, Value};

/// Marks objects stilt applied (the conventional label).
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "stilt";
/// The project's id: 16 hex characters of the Tiltfile path's hash.
pub const PROJECT: &str = "stilt.dev/project";
/// Annotation: the resource's name, as written.
pub const RESOURCE: &str = "stilt.dev/resource";
/// Label on pod templates: the resource's name in label-safe form.
pub const RESOURCE_ID: &str = "stilt.dev/resource-id";
/// Label on pod templates: a hash of the template stilt applied, so the pods of the
/// latest deploy are told from those of an older one still running (as Tilt does).
pub const TEMPLATE_HASH: &str = "stilt.dev/pod-template-hash";
/// Tilt's annotation: `keep` leaves the object in place on `down`.
pub const DOWN_POLICY: &str = "tilt.dev/down-policy";

/// The longest label value Kubernetes accepts.
const MAX_VALUE: usize = 63;
/// Hex characters of the hash added to a value that had to be changed.
const HASH_LEN: usize = 8;

/// `value` as a label value: at most 63 characters of `[A-Za-z0-9._-]`, starting and
/// ending with an alphanumeric. Other characters become `-`; a value that had to be
/// changed or shortened gets `-<8 hex of its hash>` so two names never collide.
pub fn label_value(value: &str) -> String {
    let valid = value.len() <= MAX_VALUE
        && !value.is_empty()
        && value.chars().all(is_label_char)
        && value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    if valid {
        return value.to_owned();
    }
    let hash = blake3::hash(value.as_bytes()).to_hex();
    let hash = &hash.as_str()[..HASH_LEN];
    let mapped: String = value
        .chars()
        .map(|c| if is_label_char(c) { c } else { '-' })
        .collect();
    let budget = MAX_VALUE - HASH_LEN - 1;
    let short: String = mapped.chars().take(budget).collect();
    let trimmed = short.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if trimmed.is_empty() {
        hash.to_owned()
    } else {
        format!("{trimmed}-{hash}")
    }
}

fn is_label_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// The label selector of everything this project applied.
pub fn project_selector(project_id: &str) -> String {
    format!("{PROJECT}={}", label_value(project_id))
}

/// Labels `body` as applied by this project for `resource`: the object itself gets
/// the manager and project labels and the resource annotation; the pod template of a
/// workload (or a bare Pod) gets the project and resource-id labels.
pub fn stamp(body: &mut Value, project_id: &str, resource: &str) {
    let project = label_value(project_id);
    if let Some(labels) = object_at(body, &["metadata", "labels"]) {
        labels.insert(MANAGED_BY.into(), MANAGER.into());
        labels.insert(PROJECT.into(), project.clone().into());
    }
    if let Some(annotations) = object_at(body, &["metadata", "annotations"]) {
        annotations.insert(RESOURCE.into(), resource.into());
    }
    let Some(path) = pod_template_path(body) else {
        return;
    };
    let mut path = path.to_vec();
    path.push("labels");
    if let Some(labels) = object_at(body, &path) {
        labels.insert(PROJECT.into(), project.into());
        labels.insert(RESOURCE_ID.into(), label_value(resource).into());
    }
}

/// Labels the pod template of `body` (a workload's, or a bare Pod itself) with a
/// hash of that template; returns the hash (`None`: `body` makes no pods). Call it
/// last: the hash covers the template as it will be applied, without the label.
pub fn stamp_template_hash(body: &mut Value) -> Option<String> {
    let meta_path = pod_template_path(body)?;
    let template_path = &meta_path[..meta_path.len() - 1];
    let pointer: String = template_path.iter().map(|p| format!("/{p}")).collect();
    let mut template = body.pointer(&pointer)?.clone();
    let labels_pointer = "/metadata/labels";
    if let Some(Value::Object(labels)) = template.pointer_mut(labels_pointer) {
        labels.remove(TEMPLATE_HASH);
    }
    let bytes = serde_json::to_vec(&template).unwrap_or_default();
    let hash = blake3::hash(&bytes).to_hex().as_str()[..16].to_owned();
    let mut path = meta_path.to_vec();
    path.push("labels");
    object_at(body, &path)?.insert(TEMPLATE_HASH.into(), hash.clone().into());
    Some(hash)
}

/// Where the metadata of the pods `body` makes is: a Pod's own, a CronJob's job
/// template's pod template, or any other kind's `spec.template` (Deployment, Job, ...).
pub fn pod_template_path(body: &Value) -> Option<&'static [&'static str]> {
    let kind = body.get("kind").and_then(Value::as_str).unwrap_or("");
    let path: &[&str] = match kind {
        "Pod" => &["metadata"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "metadata"],
        _ if body.pointer("/spec/template").is_some_and(Value::is_object) => {
            &["spec", "template", "metadata"]
        }
        _ => return None,
    };
    Some(path)
}

/// The object at `path`, created (as `{}`) where missing or null; `None` when
/// something on the way is not an object.
fn object_at<'v>(value: &'v mut Value, path: &[&str]) -> Option<&'v mut Map<String, Value>> {
    let mut here = value;
    for key in path {
        let map = here.as_object_mut()?;
        let slot = map.entry(*key).or_insert_with(|| Value::Object(Map::new()));
        if slot.is_null() {
            *slot = Value::Object(Map::new());
        }
        here = slot;
    }
    here.as_object_mut()
}

#[cfg(test)]
mod tests;
