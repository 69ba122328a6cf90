//! Puts the images stilt built into a resource's objects (pure).
//!
//! The places were found at load time ([`ImageSlot`]s, JSON pointers into each
//! object); a deploy only writes the tagged references there. When the cluster runs
//! on the Engine that built them, the container is also told never to pull: the image
//! exists only there, and no registry has it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::{ImageSlot, K8sSpec};

/// A slot that does not point at a string in its object: the spec and the objects
/// disagree (a bug in the loader, or objects edited after it ran).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{kind}/{name}: no image string at {pointer} (for image {image_ref})")]
pub struct InjectError {
    pub kind: String,
    pub name: String,
    pub pointer: String,
    pub image_ref: String,
}

/// The bodies of `spec`'s objects, in order, with every slot's image replaced by the
/// tag `images` gives for its `image_ref` (slots whose image was not built keep
/// theirs); with `never_pull`, the containers that got a built image also get
/// `imagePullPolicy: Never`.
pub fn inject(
    spec: &K8sSpec,
    images: &BTreeMap<String, String>,
    never_pull: bool,
) -> Result<Vec<Value>, InjectError> {
    let mut bodies: Vec<Value> = spec.objects.iter().map(|o| o.body.clone()).collect();
    for slot in &spec.image_slots {
        let Some(tagged) = images.get(&slot.image_ref) else {
            continue;
        };
        let Some(body) = bodies.get_mut(slot.object) else {
            return Err(slot_error(spec, slot));
        };
        let (whole, tag) = match &slot.tag_pointer {
            Some(t) => {
                let (repo, tag) = split_tag(tagged);
                (repo.to_owned(), Some((t, tag)))
            }
            None => (tagged.clone(), None),
        };
        match body.pointer_mut(&slot.pointer) {
            Some(v @ Value::String(_)) => *v = Value::String(whole),
            _ => return Err(slot_error(spec, slot)),
        }
        if let Some((pointer, tag)) = tag {
            set_tag(body, pointer, tag).ok_or_else(|| slot_error(spec, slot))?;
        }
        if never_pull
            && let Some(container) = slot.container.as_deref()
            && let Some(Value::Object(c)) = body.pointer_mut(container)
        {
            c.insert("imagePullPolicy".into(), "Never".into());
        }
    }
    Ok(bodies)
}

/// `repo:tag` -> (`repo`, `tag`); the tag is `latest` when there is none. A `:` in
/// the registry host (`localhost:5000/web`) is not a tag.
fn split_tag(image: &str) -> (&str, &str) {
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => (&image[..name_start + i], &image[name_start + i + 1..]),
        None => (image, "latest"),
    }
}

/// Writes `tag` at `pointer`, creating the field when its object exists.
fn set_tag(body: &mut Value, pointer: &str, tag: &str) -> Option<()> {
    if let Some(v) = body.pointer_mut(pointer) {
        *v = Value::String(tag.to_owned());
        return Some(());
    }
    let (parent, field) = pointer.rsplit_once('/')?;
    let field = field.replace("~1", "/").replace("~0", "~");
    match body.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(field, Value::String(tag.to_owned()));
            Some(())
        }
        _ => None,
    }
}

/// Writes `protocol: TCP` into port lists that omit it (a Service's ports, every
/// container's ports). TCP is the API's default anyway, but server-side apply on
/// clusters before 1.20's fix refuses such lists ("associative list with keys has an
/// element that omits key field \"protocol\""), and Tilt users rarely write it.
pub fn default_protocols(body: &mut Value) {
    let kind = body
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if kind == "Service" {
        fill_protocols(body.pointer_mut("/spec/ports"));
    }
    let pod_spec = match kind.as_str() {
        "Pod" => "/spec",
        "CronJob" => "/spec/jobTemplate/spec/template/spec",
        _ => "/spec/template/spec",
    };
    for list in ["containers", "initContainers"] {
        let Some(Value::Array(containers)) = body.pointer_mut(&format!("{pod_spec}/{list}")) else {
            continue;
        };
        for c in containers {
            fill_protocols(c.get_mut("ports"));
        }
    }
}

fn fill_protocols(ports: Option<&mut Value>) {
    let Some(Value::Array(ports)) = ports else {
        return;
    };
    for port in ports.iter_mut().filter_map(Value::as_object_mut) {
        if port.get("protocol").is_none_or(Value::is_null) {
            port.insert("protocol".into(), "TCP".into());
        }
    }
}

fn slot_error(spec: &K8sSpec, slot: &ImageSlot) -> InjectError {
    let object = spec.objects.get(slot.object);
    InjectError {
        kind: object.map_or_else(|| "?".into(), |o| o.kind.clone()),
        name: object.map_or_else(|| format!("(object #{})", slot.object), |o| o.name.clone()),
        pointer: slot.pointer.clone(),
        image_ref: slot.image_ref.clone(),
    }
}

#[cfg(test)]
mod tests;
