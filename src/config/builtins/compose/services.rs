//! Reading the services out of a normalized compose model (what `config` printed).
//!
//! Pure: the same code reads v1's YAML (turned into JSON values) and v2's JSON, so
//! it accepts both spellings where they differ (ports as `"8080:80"` strings or
//! `{published, target}` maps with numbers or strings; `depends_on` as a list or a map;
//! `build.args` as a map or `K=V` list).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// A compose `build:` section.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSection {
    /// Absolute.
    pub context: PathBuf,
    /// Absolute (compose gives it relative to the context).
    pub dockerfile: PathBuf,
    pub args: BTreeMap<String, String>,
    pub target: Option<String>,
}

/// What stilt needs from one service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceInfo {
    pub name: String,
    pub depends_on: Vec<String>,
    pub published_ports: Vec<u16>,
    pub has_healthcheck: bool,
    /// `image:` as written (may carry a tag).
    pub image: Option<String>,
    pub build: Option<BuildSection>,
}

/// The services of `model` that the active `profiles` enable, in the model's order.
pub fn services(model: &Value, project_dir: &Path, profiles: &[String]) -> Vec<ServiceInfo> {
    let Some(map) = model.get("services").and_then(Value::as_object) else {
        return Vec::new();
    };
    map.iter()
        .filter(|(_, svc)| enabled(svc, profiles))
        .map(|(name, svc)| ServiceInfo {
            name: name.clone(),
            depends_on: depends_on(svc),
            published_ports: published_ports(svc),
            has_healthcheck: has_healthcheck(svc),
            image: svc.get("image").and_then(Value::as_str).map(str::to_owned),
            build: svc.get("build").map(|b| build_section(b, project_dir)),
        })
        .collect()
}

/// A service with `profiles:` runs only when one of them is active (v2 already drops
/// the others from its output; v1 prints every service).
fn enabled(svc: &Value, active: &[String]) -> bool {
    let Some(list) = svc.get("profiles").and_then(Value::as_array) else {
        return true;
    };
    list.is_empty()
        || list
            .iter()
            .filter_map(Value::as_str)
            .any(|p| active.iter().any(|a| a == p || a == "*"))
}

/// `depends_on` (a list or a map), then the services named by `links:`
/// (`service` or `service:alias`), which Tilt also treats as dependencies.
fn depends_on(svc: &Value) -> Vec<String> {
    let mut deps: Vec<String> = match svc.get("depends_on") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let links = svc.get("links").and_then(Value::as_array);
    for link in links.into_iter().flatten().filter_map(Value::as_str) {
        let service = link.split_once(':').map_or(link, |(s, _)| s).trim();
        if !service.is_empty() && !deps.iter().any(|d| d == service) {
            deps.push(service.to_owned());
        }
    }
    deps
}

fn has_healthcheck(svc: &Value) -> bool {
    let Some(hc) = svc.get("healthcheck") else {
        return false;
    };
    if hc.get("disable").and_then(Value::as_bool) == Some(true) {
        return false;
    }
    match hc.get("test") {
        Some(Value::String(s)) => s != "NONE" && !s.is_empty(),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str) != Some("NONE") && !a.is_empty(),
        // A healthcheck that only tunes intervals keeps the image's own HEALTHCHECK.
        _ => true,
    }
}

fn published_ports(svc: &Value) -> Vec<u16> {
    let Some(list) = svc.get("ports").and_then(Value::as_array) else {
        return Vec::new();
    };
    let mut out: Vec<u16> = Vec::new();
    for p in list {
        let (published, udp) = match p {
            Value::String(s) => short_syntax(s),
            Value::Number(n) => (n.to_string(), false),
            Value::Object(m) => (
                m.get("published").map(scalar).unwrap_or_default(),
                m.get("protocol").and_then(Value::as_str) == Some("udp"),
            ),
            _ => continue,
        };
        if udp {
            continue;
        }
        for port in port_range(&published) {
            if !out.contains(&port) {
                out.push(port);
            }
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `[ip:]host:container[/proto]` or `container[/proto]`: the host part, and whether udp.
fn short_syntax(s: &str) -> (String, bool) {
    let (spec, proto) = s.split_once('/').unwrap_or((s, "tcp"));
    let parts: Vec<&str> = spec.split(':').collect();
    let published = if parts.len() >= 2 {
        parts[parts.len() - 2].to_owned()
    } else {
        String::new()
    };
    (published, proto == "udp")
}

/// `8080` or `8000-8002`; anything else (empty = ephemeral) publishes nothing known.
fn port_range(s: &str) -> Vec<u16> {
    let s = s.trim();
    if let Some((a, b)) = s.split_once('-') {
        return match (a.parse::<u16>(), b.parse::<u16>()) {
            (Ok(a), Ok(b)) if a > 0 && a <= b => (a..=b).collect(),
            _ => Vec::new(),
        };
    }
    s.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .into_iter()
        .collect()
}

fn build_section(b: &Value, project_dir: &Path) -> BuildSection {
    // The short form `build: ./dir` is a context path.
    let context_str = b
        .as_str()
        .or_else(|| b.get("context").and_then(Value::as_str))
        .unwrap_or(".");
    let context = crate::config::collect::normalize(&project_dir.join(context_str));
    let dockerfile = b
        .get("dockerfile")
        .and_then(Value::as_str)
        .unwrap_or("Dockerfile");
    BuildSection {
        dockerfile: crate::config::collect::normalize(&context.join(dockerfile)),
        context,
        args: build_args(b.get("args")),
        target: b.get("target").and_then(Value::as_str).map(str::to_owned),
    }
}

fn build_args(v: Option<&Value>) -> BTreeMap<String, String> {
    match v {
        Some(Value::Object(m)) => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), scalar(v)))
            .collect(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        _ => BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(svc: Value) -> ServiceInfo {
        let model = json!({ "services": { "s": svc } });
        services(&model, Path::new("/p"), &[]).remove(0)
    }

    #[test]
    fn ports_in_every_spelling_publish_tcp_host_ports() {
        let s = one(json!({ "ports": [
            "8080:80", "127.0.0.1:9000:9000", "9001:9001/udp", "5000",
            { "published": 8081, "target": 81 }, { "published": "8082", "target": 82 },
            { "target": 83 }, "7000-7001:7000-7001"
        ]}));
        assert_eq!(s.published_ports, vec![8080, 9000, 8081, 8082, 7000, 7001]);
    }

    #[test]
    fn disabled_or_none_healthchecks_are_no_healthcheck() {
        assert!(one(json!({ "healthcheck": { "test": ["CMD", "true"] } })).has_healthcheck);
        assert!(!one(json!({ "healthcheck": { "disable": true } })).has_healthcheck);
        assert!(!one(json!({ "healthcheck": { "test": ["NONE"] } })).has_healthcheck);
        assert!(!one(json!({ "healthcheck": { "test": "NONE" } })).has_healthcheck);
        assert!(!one(json!({})).has_healthcheck);
    }

    #[test]
    fn depends_on_as_list_or_map() {
        assert_eq!(
            one(json!({ "depends_on": ["a", "b"] })).depends_on,
            ["a", "b"]
        );
        let m = one(json!({ "depends_on": { "db": { "condition": "service_healthy" } } }));
        assert_eq!(m.depends_on, ["db"]);
    }

    #[test]
    fn links_are_dependencies_as_in_tilt() {
        let s = one(json!({ "depends_on": ["db"], "links": ["cache:redis", "db", "queue"] }));
        assert_eq!(s.depends_on, ["db", "cache", "queue"]);
    }

    #[test]
    fn build_paths_are_absolute_and_args_read_both_forms() {
        let s = one(
            json!({ "build": { "context": "app", "dockerfile": "../Dockerfile.dev",
            "args": ["A=1", "B=2"], "target": "dev" } }),
        );
        let b = s.build.unwrap();
        assert_eq!(b.context, Path::new("/p/app"));
        assert_eq!(b.dockerfile, Path::new("/p/Dockerfile.dev"));
        assert_eq!(b.args.get("B").map(String::as_str), Some("2"));
        assert_eq!(b.target.as_deref(), Some("dev"));
    }

    #[test]
    fn services_outside_the_active_profiles_are_left_out() {
        let model = json!({ "services": { "a": {}, "dbg": { "profiles": ["debug"] } } });
        let names = |p: &[String]| -> Vec<String> {
            services(&model, Path::new("/p"), p)
                .into_iter()
                .map(|s| s.name)
                .collect()
        };
        assert_eq!(names(&[]), ["a"]);
        assert_eq!(names(&["debug".to_owned()]), ["a", "dbg"]);
    }
}
