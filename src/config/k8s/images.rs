//! Where built images go: the `image` of each container and initContainer in a
//! workload's pod template (or a bare Pod's spec) whose reference names a declared
//! `docker_build` / `custom_build` image, by the rule compose uses (`same_image`: the
//! tag in the YAML does not matter, stilt tags what it builds).

use serde_json::Value;

use crate::config::builtins::image_ref::same_image;
use crate::model::{ImageSlot, K8sObject};

/// JSON pointer to the pod spec an object runs, if it has one: a Pod's `spec`, a
/// CronJob's job template, or any object's `spec.template` (Deployment, Job, CRDs...).
pub fn pod_spec_pointer(o: &K8sObject) -> Option<&'static str> {
    let has_containers = |p: &str| {
        o.body
            .pointer(&format!("{p}/containers"))
            .is_some_and(Value::is_array)
    };
    let candidates: &[&'static str] = if o.kind == "Pod" {
        &["/spec"]
    } else {
        &[
            "/spec/jobTemplate/spec/template/spec",
            "/spec/template/spec",
        ]
    };
    candidates.iter().copied().find(|p| has_containers(p))
}

/// JSON pointer to the labels the object's pods get.
pub fn pod_labels_pointer(o: &K8sObject) -> Option<String> {
    let spec = pod_spec_pointer(o)?;
    Some(match spec.strip_suffix("/spec") {
        Some("") | None => "/metadata/labels".to_owned(),
        Some(template) => format!("{template}/metadata/labels"),
    })
}

/// The slots of object `index` (`o`) whose image is one of `declared` (image_refs):
/// initContainers first (they start first), then containers, each in YAML order.
pub fn slots(index: usize, o: &K8sObject, declared: &[String]) -> Vec<ImageSlot> {
    let Some(spec) = pod_spec_pointer(o) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        let pointer = format!("{spec}/{list}");
        let Some(Value::Array(containers)) = o.body.pointer(&pointer) else {
            continue;
        };
        for (i, c) in containers.iter().enumerate() {
            let Some(image) = c.get("image").and_then(Value::as_str) else {
                continue;
            };
            if let Some(d) = declared.iter().find(|d| same_image(d, image)) {
                out.push(ImageSlot {
                    object: index,
                    pointer: format!("{pointer}/{i}/image"),
                    container: Some(format!("{pointer}/{i}")),
                    tag_pointer: None,
                    image_ref: d.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, body: Value) -> K8sObject {
        K8sObject {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            name: "w".into(),
            namespace: None,
            body,
        }
    }

    #[test]
    fn containers_and_init_containers_of_declared_images_get_slots() {
        let d = obj(
            "Deployment",
            json!({"spec": {"template": {"metadata": {"labels": {"app": "w"}}, "spec": {
                "initContainers": [{"name": "init", "image": "migrate:v1"}],
                "containers": [{"name": "a", "image": "web"}, {"name": "b", "image": "redis:7"}]
            }}}}),
        );
        let got = slots(3, &d, &["web".into(), "migrate".into()]);
        let pointers: Vec<(&str, &str)> = got
            .iter()
            .map(|s| (s.pointer.as_str(), s.image_ref.as_str()))
            .collect();
        assert_eq!(
            pointers,
            [
                ("/spec/template/spec/initContainers/0/image", "migrate"),
                ("/spec/template/spec/containers/0/image", "web"),
            ]
        );
        assert_eq!(got[1].object, 3);
        assert_eq!(
            got[1].container.as_deref(),
            Some("/spec/template/spec/containers/0")
        );
        assert_eq!(
            pod_labels_pointer(&d).as_deref(),
            Some("/spec/template/metadata/labels")
        );
    }

    #[test]
    fn pods_and_cronjobs_have_their_own_pod_spec_places() {
        let pod = obj("Pod", json!({"spec": {"containers": [{"image": "web"}]}}));
        assert_eq!(
            slots(0, &pod, &["web".into()])[0].pointer,
            "/spec/containers/0/image"
        );
        assert_eq!(
            pod_labels_pointer(&pod).as_deref(),
            Some("/metadata/labels")
        );
        let cron = obj(
            "CronJob",
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"image": "web:1"}]}}}}}}),
        );
        assert_eq!(
            slots(0, &cron, &["web".into()])[0].pointer,
            "/spec/jobTemplate/spec/template/spec/containers/0/image"
        );
        assert_eq!(
            pod_labels_pointer(&cron).as_deref(),
            Some("/spec/jobTemplate/spec/template/metadata/labels")
        );
    }

    #[test]
    fn undeclared_images_and_objects_without_pods_are_left_alone() {
        let d = obj(
            "Deployment",
            json!({"spec": {"template": {"spec": {"containers": [{"image": "team/web"}]}}}}),
        );
        assert!(slots(0, &d, &["web".into()]).is_empty());
        let cm = obj("ConfigMap", json!({"data": {"image": "web"}}));
        assert!(slots(0, &cm, &["web".into()]).is_empty());
        assert_eq!(pod_spec_pointer(&cm), None);
    }
}
