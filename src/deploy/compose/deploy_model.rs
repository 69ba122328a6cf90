//! What stilt hands the compose tool: the normalized model (as `config` printed it)
//! with stilt's images swapped in. Pure, so the rewrite is tested without Docker.
//!
//! stilt builds images itself, so compose must never build: a service stilt built
//! for gets the tagged image and loses its `build:` section (with `--no-build` alone,
//! compose would still name the image after the project and not find stilt's tag).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::model::ComposeProject;

/// The model to deploy: `images` maps a service name to the tagged image stilt built
/// for it. Services not in `images` (or not in the model) are left as they are.
pub fn for_deploy(project: &ComposeProject, images: &BTreeMap<String, String>) -> Value {
    let mut model = project.model.clone();
    let Some(services) = model.get_mut("services").and_then(Value::as_object_mut) else {
        return model;
    };
    for (service, tag) in images {
        let Some(spec) = services.get_mut(service).and_then(Value::as_object_mut) else {
            continue;
        };
        spec.insert("image".to_owned(), Value::String(tag.clone()));
        spec.remove("build");
        // v2's `pull_policy: build` would make compose build despite `--no-build`.
        if spec.get("pull_policy").and_then(Value::as_str) == Some("build") {
            spec.remove("pull_policy");
        }
    }
    model
}

/// Host ports a service publishes, in the model's order. Reads both forms `config`
/// prints: the long form (`{published: 8080, target: 80}`, `published` a number in
/// v1 and a string in v2) and the short one (`"127.0.0.1:9000:9000/tcp"`). Ranges
/// and unpublished ports are skipped.
pub fn published_ports(model: &Value, service: &str) -> Vec<u16> {
    let ports = model
        .get("services")
        .and_then(|s| s.get(service))
        .and_then(|s| s.get("ports"))
        .and_then(Value::as_array);
    ports
        .into_iter()
        .flatten()
        .filter_map(|port| match port {
            Value::Object(long) => match long.get("published")? {
                Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                Value::String(s) => s.parse().ok(),
                _ => None,
            },
            Value::String(short) => short_published(short),
            _ => None,
        })
        .collect()
}

/// `[ip:]host:container[/proto]` -> host; a bare `container` publishes nothing fixed.
fn short_published(spec: &str) -> Option<u16> {
    let without_proto = spec.split('/').next()?;
    let parts: Vec<&str> = without_proto.rsplitn(3, ':').collect();
    match parts.as_slice() {
        [_container, host, ..] => host.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn project(model: Value) -> ComposeProject {
        ComposeProject {
            name: "p".into(),
            project_dir: "/tmp/p".into(),
            files: vec![],
            env_file: None,
            profiles: vec![],
            wait: false,
            model,
        }
    }

    fn images(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn built_service_gets_the_tag_and_loses_its_build_section() {
        let p = project(json!({"services": {
            "web": {"build": {"context": "/src"}, "image": "web", "pull_policy": "build"},
            "db": {"image": "postgres:16"}
        }}));
        let out = for_deploy(&p, &images(&[("web", "web:stilt-abc")]));
        assert_eq!(
            out,
            json!({"services": {
                "web": {"image": "web:stilt-abc"},
                "db": {"image": "postgres:16"}
            }})
        );
    }

    #[test]
    fn service_without_image_key_gets_one() {
        let p = project(json!({"services": {"api": {"build": {"context": "/a"}}}}));
        let out = for_deploy(&p, &images(&[("api", "api:stilt-1")]));
        assert_eq!(out, json!({"services": {"api": {"image": "api:stilt-1"}}}));
    }

    #[test]
    fn unknown_service_and_services_without_images_are_untouched() {
        let model = json!({"services": {"db": {"image": "pg", "build": {"context": "/d"}}},
                           "volumes": {"data": {}}});
        let p = project(model.clone());
        assert_eq!(for_deploy(&p, &images(&[("nope", "x:1")])), model);
        assert_eq!(for_deploy(&p, &BTreeMap::new()), model);
    }

    #[test]
    fn model_without_services_is_returned_as_is() {
        let p = project(json!({"version": "3.9"}));
        assert_eq!(
            for_deploy(&p, &images(&[("web", "w:1")])),
            json!({"version": "3.9"})
        );
    }

    #[test]
    fn published_ports_reads_long_and_short_forms() {
        let model = json!({"services": {"web": {"ports": [
            {"published": 8080, "target": 80},
            {"published": "8081", "target": 81},
            "127.0.0.1:9000:9000/tcp",
            "9001:9001",
            "5000",
            {"target": 7000}
        ]}}});
        assert_eq!(published_ports(&model, "web"), vec![8080, 8081, 9000, 9001]);
        assert!(published_ports(&model, "db").is_empty());
    }
}
