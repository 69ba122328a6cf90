//! `k8s_kind` rules (pure): which objects they make workloads, where their images
//! are (JSONPaths to image strings, or to `{repo, tag}` objects), and the pod
//! readiness their resources default to.

use regex::Regex;
use serde_json::Value;

use super::jsonpath::JsonPath;
use crate::config::builtins::image_ref::same_image;
use crate::model::{ImageSlot, K8sObject, PodReadiness};

/// `image_object={'json_path': ..., 'repo_field': ..., 'tag_field': ...}`.
#[derive(Debug, Clone)]
pub struct ImageObject {
    pub path: JsonPath,
    pub repo_field: String,
    pub tag_field: String,
}

/// One `k8s_kind(...)` call.
#[derive(Debug, Clone)]
pub struct KindRule {
    /// Case-insensitive, as Tilt's; matched against the whole kind.
    pub kind: Regex,
    pub api_version: Option<Regex>,
    pub image_paths: Vec<JsonPath>,
    pub image_objects: Vec<ImageObject>,
    /// `None`: `''`, the default (wait when the objects run pods).
    pub pod_readiness: Option<PodReadiness>,
}

/// An image place that holds something else than an image.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("k8s_kind(): {path} in {object} reaches {found} at {pointer}, not {wanted}")]
pub struct KindError {
    pub path: String,
    /// `Kind "name"`.
    pub object: String,
    pub pointer: String,
    pub found: &'static str,
    pub wanted: &'static str,
}

impl KindRule {
    pub fn matches(&self, o: &K8sObject) -> bool {
        let whole = |r: &Regex, s: &str| r.find(s).is_some_and(|m| m.len() == s.len());
        whole(&self.kind, &o.kind)
            && self
                .api_version
                .as_ref()
                .is_none_or(|r| whole(r, &o.api_version))
    }

    /// The slots of object `index` (`o`, which the rule matches) whose image is one of
    /// `declared`.
    pub fn slots(
        &self,
        index: usize,
        o: &K8sObject,
        declared: &[String],
    ) -> Result<Vec<ImageSlot>, KindError> {
        let mut out = Vec::new();
        let declared_of = |image: &str| declared.iter().find(|d| same_image(d, image)).cloned();
        for path in &self.image_paths {
            for pointer in path.pointers(&o.body) {
                let v = o.body.pointer(&pointer);
                let Some(image) = v.and_then(Value::as_str) else {
                    return Err(error(path, o, pointer, v, "an image string"));
                };
                if let Some(image_ref) = declared_of(image) {
                    out.push(ImageSlot {
                        object: index,
                        pointer,
                        container: None,
                        tag_pointer: None,
                        image_ref,
                    });
                }
            }
        }
        for io in &self.image_objects {
            for pointer in io.path.pointers(&o.body) {
                let v = o.body.pointer(&pointer);
                let repo = v
                    .and_then(|x| x.get(&io.repo_field))
                    .and_then(Value::as_str);
                let Some(repo) = repo else {
                    let wanted = "an object with a string repo field";
                    return Err(error(&io.path, o, pointer, v, wanted));
                };
                let tag = v.and_then(|x| x.get(&io.tag_field)).and_then(Value::as_str);
                let image = match tag {
                    Some(t) if !t.is_empty() => format!("{repo}:{t}"),
                    _ => repo.to_owned(),
                };
                if let Some(image_ref) = declared_of(&image) {
                    out.push(ImageSlot {
                        object: index,
                        pointer: format!("{pointer}/{}", escape(&io.repo_field)),
                        container: None,
                        tag_pointer: Some(format!("{pointer}/{}", escape(&io.tag_field))),
                        image_ref,
                    });
                }
            }
        }
        Ok(out)
    }
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn error(
    path: &JsonPath,
    o: &K8sObject,
    pointer: String,
    v: Option<&Value>,
    wanted: &'static str,
) -> KindError {
    let found = match v {
        Some(Value::String(_)) => "a string",
        Some(Value::Object(_)) => "an object",
        Some(Value::Array(_)) => "a list",
        Some(Value::Number(_)) => "a number",
        Some(Value::Bool(_)) => "a boolean",
        Some(Value::Null) | None => "null",
    };
    KindError {
        path: path.text().to_owned(),
        object: format!("{} {:?}", o.kind, o.name),
        pointer,
        found,
        wanted,
    }
}

/// The rule that governs `o`: the last matching one, as a later `k8s_kind` call for
/// the same kind replaces an earlier one in Tilt.
pub fn rule_for<'a>(rules: &'a [KindRule], o: &K8sObject) -> Option<&'a KindRule> {
    rules.iter().rev().find(|r| r.matches(o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, body: Value) -> K8sObject {
        K8sObject {
            api_version: "v1".into(),
            kind: kind.into(),
            name: "cfg".into(),
            namespace: None,
            body,
        }
    }

    fn rule(kind: &str, paths: &[&str]) -> KindRule {
        KindRule {
            kind: regex::RegexBuilder::new(kind)
                .case_insensitive(true)
                .build()
                .unwrap(),
            api_version: None,
            image_paths: paths.iter().map(|p| JsonPath::parse(p).unwrap()).collect(),
            image_objects: Vec::new(),
            pod_readiness: None,
        }
    }

    #[test]
    fn kinds_match_whole_and_case_insensitively() {
        let r = rule("configmap", &[]);
        assert!(r.matches(&obj("ConfigMap", json!({}))));
        assert!(!r.matches(&obj("ConfigMapList", json!({}))));
        let mut v = rule("ConfigMap", &[]);
        v.api_version = Some(Regex::new("apps/v1").unwrap());
        assert!(!v.matches(&obj("ConfigMap", json!({}))));
    }

    #[test]
    fn image_paths_give_slots_for_declared_images_only() {
        let o = obj(
            "ConfigMap",
            json!({"data": {"image": "web:old", "other": "redis"}}),
        );
        let r = rule(
            "ConfigMap",
            &["{.data.image}", "{.data.other}", "{.data.none}"],
        );
        let got = r.slots(2, &o, &["web".into()]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].pointer, "/data/image");
        assert_eq!(got[0].object, 2);
        assert_eq!(got[0].image_ref, "web");
        assert_eq!(got[0].container, None);
    }

    #[test]
    fn a_path_reaching_a_non_string_is_an_error() {
        let o = obj("ConfigMap", json!({"data": {"image": {"a": 1}}}));
        let e = rule("ConfigMap", &["{.data.image}"])
            .slots(0, &o, &["web".into()])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "k8s_kind(): {.data.image} in ConfigMap \"cfg\" reaches an object at \
             /data/image, not an image string"
        );
    }

    #[test]
    fn image_objects_give_a_repo_and_a_tag_pointer() {
        let o = obj(
            "Thing",
            json!({"spec": {"img": {"repository": "web", "tag": "v1"}}}),
        );
        let mut r = rule("Thing", &[]);
        r.image_objects.push(ImageObject {
            path: JsonPath::parse("{.spec.img}").unwrap(),
            repo_field: "repository".into(),
            tag_field: "tag".into(),
        });
        let got = r.slots(0, &o, &["web".into()]).unwrap();
        assert_eq!(got[0].pointer, "/spec/img/repository");
        assert_eq!(got[0].tag_pointer.as_deref(), Some("/spec/img/tag"));
        let bad = obj("Thing", json!({"spec": {"img": "web"}}));
        assert!(r.slots(0, &bad, &["web".into()]).is_err());
    }
}
