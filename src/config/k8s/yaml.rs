//! Multi-document YAML text -> Kubernetes objects.

use serde_json::Value;

use crate::model::K8sObject;

/// Parses every document of `text` (from `origin`, for messages): empty documents are
/// skipped and `List` kinds (`kind: List`, `...List`) are flattened into their items.
pub fn parse_objects(text: &str, origin: &str) -> Result<Vec<K8sObject>, String> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).map_err(|e| format!("{origin}: not valid YAML: {e}"))?;
    let mut out = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        collect(doc, origin, i + 1, &mut out)?;
    }
    Ok(out)
}

fn collect(doc: Value, origin: &str, n: usize, out: &mut Vec<K8sObject>) -> Result<(), String> {
    if doc.is_null() {
        return Ok(());
    }
    let Value::Object(map) = &doc else {
        return Err(format!(
            "{origin}: document {n} is not a Kubernetes object (a mapping)"
        ));
    };
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind == "List" || (kind.ends_with("List") && map.get("items").is_some()) {
        let items = map.get("items").and_then(Value::as_array).cloned();
        for item in items.unwrap_or_default() {
            collect(item, origin, n, out)?;
        }
        return Ok(());
    }
    out.push(object(doc, origin, n)?);
    Ok(())
}

fn object(body: Value, origin: &str, n: usize) -> Result<K8sObject, String> {
    let field = |path: &[&str]| {
        let mut v = &body;
        for p in path {
            v = v.get(p)?;
        }
        v.as_str().map(str::to_owned)
    };
    let missing = |what: &str| format!("{origin}: document {n} has no {what}");
    let api_version = field(&["apiVersion"]).ok_or_else(|| missing("apiVersion"))?;
    let kind = field(&["kind"]).ok_or_else(|| missing("kind"))?;
    let name = field(&["metadata", "name"])
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing(&format!("metadata.name (a {kind})")))?;
    let namespace = field(&["metadata", "namespace"]).filter(|n| !n.is_empty());
    Ok(K8sObject {
        api_version,
        kind,
        name,
        namespace,
        body,
    })
}

/// The objects as YAML text again (for `filter_yaml`'s blobs).
pub fn to_yaml(objects: &[&K8sObject]) -> String {
    objects
        .iter()
        .filter_map(|o| serde_saphyr::to_string(&o.body).ok())
        .collect::<Vec<_>>()
        .join("---\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_lists_and_empty_documents() {
        let text = "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\n---\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: b\n";
        let objs = parse_objects(text, "k8s.yaml").expect("parses");
        let names: Vec<_> = objs.iter().map(|o| o.selector(true)).collect();
        assert_eq!(names, ["a:configmap:x", "b:service"]);
    }

    #[test]
    fn a_document_without_a_name_is_named_in_the_error() {
        let e = parse_objects("apiVersion: v1\nkind: Service\nmetadata: {}\n", "svc.yaml")
            .expect_err("no name");
        assert_eq!(e, "svc.yaml: document 1 has no metadata.name (a Service)");
        let e = parse_objects("a: [", "bad.yaml").expect_err("bad yaml");
        assert!(e.starts_with("bad.yaml: not valid YAML"), "{e}");
    }

    #[test]
    fn objects_round_trip_to_yaml() {
        let objs = parse_objects(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  n: '1'\n",
            "x",
        )
        .expect("parses");
        let text = to_yaml(&objs.iter().collect::<Vec<_>>());
        let again = parse_objects(&text, "x").expect("parses again");
        assert_eq!(again, objs);
    }
}
