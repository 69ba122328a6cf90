//! Multi-document YAML text -> Kubernetes objects.
//!
//! The text is split into documents here (at `---` lines) rather than by the parser
//! so that every error can name the document and the line it starts on: a Tiltfile
//! author with a 40-document file needs more than "invalid YAML". Each document is
//! parsed by `serde-saphyr` into a `serde_json::Value` (the shape the API server
//! takes). Empty documents are skipped and `List` kinds are flattened, as kubectl does.

use serde_json::Value;

use crate::model::K8sObject;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{source_name}: document {document} (line {line}): {problem}")]
pub struct YamlError {
    /// The file (or `<blob>`) the YAML came from.
    pub source_name: String,
    /// 1-based, counting empty documents.
    pub document: usize,
    /// 1-based line of the document's first line in the text.
    pub line: usize,
    pub problem: String,
}

/// One document of the text: where it starts and its lines.
struct Doc {
    line: usize,
    text: String,
}

/// Whether `line` starts a new document (`---`, optionally followed by content).
fn is_doc_start(line: &str) -> bool {
    line == "---" || line.starts_with("--- ") || line.starts_with("---\t")
}

fn split_docs(text: &str) -> Vec<Doc> {
    let mut docs = vec![Doc {
        line: 1,
        text: String::new(),
    }];
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if is_doc_start(line) {
            docs.push(Doc {
                line: i + 1,
                text: format!("{}\n", &line[3..]),
            });
        } else if line == "..." {
            continue;
        } else if let Some(d) = docs.last_mut() {
            d.text.push_str(line);
            d.text.push('\n');
        }
    }
    // A leading `---` leaves an empty first document; drop it so numbering starts
    // at the first real one.
    if docs.len() > 1 && docs[0].text.trim().is_empty() {
        docs.remove(0);
    }
    docs
}

/// Parses every document of `text` (named `source_name` in errors) into objects.
pub fn parse_objects(text: &str, source_name: &str) -> Result<Vec<K8sObject>, YamlError> {
    let mut out = Vec::new();
    for (i, doc) in split_docs(text).into_iter().enumerate() {
        let err = |problem: String| YamlError {
            source_name: source_name.to_owned(),
            document: i + 1,
            line: doc.line,
            problem,
        };
        let value: Value = if doc.text.trim().is_empty() {
            Value::Null
        } else {
            // Padded so the parser's line numbers are the file's.
            let padded = format!("{}{}", "\n".repeat(doc.line - 1), doc.text);
            serde_saphyr::from_str(&padded).map_err(|e| err(first_line(&e.to_string())))?
        };
        objects_of(value, &mut out).map_err(err)?;
    }
    Ok(out)
}

/// The parser's message without its source snippet (the error names the place).
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

fn str_field<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Appends the objects `value` holds (none for an empty document, the items of a `List`).
fn objects_of(value: Value, out: &mut Vec<K8sObject>) -> Result<(), String> {
    if value.is_null() {
        return Ok(());
    }
    if !value.is_object() {
        return Err(format!(
            "expected a Kubernetes object (a mapping), got {}",
            type_name(&value)
        ));
    }
    let kind = str_field(&value, "/kind").ok_or("the object has no kind")?;
    if kind.ends_with("List") && value.get("items").is_some_and(Value::is_array) {
        let Some(Value::Array(items)) = value.get("items").cloned() else {
            return Ok(());
        };
        for (i, item) in items.into_iter().enumerate() {
            objects_of(item, out).map_err(|e| format!("{kind} items[{i}]: {e}"))?;
        }
        return Ok(());
    }
    out.push(object(value)?);
    Ok(())
}

fn object(body: Value) -> Result<K8sObject, String> {
    let kind = str_field(&body, "/kind").unwrap_or_default().to_owned();
    let Some(api_version) = str_field(&body, "/apiVersion") else {
        return Err(format!("the {kind} has no apiVersion"));
    };
    let Some(name) = str_field(&body, "/metadata/name") else {
        return Err(format!("the {kind} has no metadata.name"));
    };
    Ok(K8sObject {
        api_version: api_version.to_owned(),
        name: name.to_owned(),
        namespace: str_field(&body, "/metadata/namespace").map(str::to_owned),
        kind,
        body,
    })
}

/// The objects as YAML text again: one JSON document each (JSON is YAML, and it keeps
/// numbers exactly as parsed), separated by `---`.
pub fn to_text<'a>(objects: impl IntoIterator<Item = &'a K8sObject>) -> String {
    let docs: Vec<String> = objects
        .into_iter()
        .map(|o| serde_json::to_string_pretty(&o.body).unwrap_or_default())
        .collect();
    if docs.is_empty() {
        return String::new();
    }
    format!("{}\n", docs.join("\n---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "\
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: team
data:
  port: 8080
---
# only a comment
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
";

    #[test]
    fn documents_become_objects_and_empty_ones_are_skipped() {
        let objs = parse_objects(TWO, "a.yaml").unwrap();
        let ids: Vec<String> = objs.iter().map(|o| o.selector(true)).collect();
        assert_eq!(ids, ["cfg:configmap:team", "web:deployment"]);
        assert_eq!(objs[0].api_version, "v1");
        assert_eq!(objs[1].group(), "apps");
        assert_eq!(objs[0].body["data"]["port"], serde_json::json!(8080));
    }

    #[test]
    fn list_kinds_are_flattened() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: a}}\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n";
        let objs = parse_objects(text, "l.yaml").unwrap();
        let names: Vec<&str> = objs.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn errors_name_the_source_the_document_and_its_line() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n";
        let e = parse_objects(text, "x.yaml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.yaml: document 2 (line 4): the object has no kind"
        );
        let e = parse_objects("kind: Secret\nmetadata: {name: a}\n", "y.yaml").unwrap_err();
        assert_eq!(e.problem, "the Secret has no apiVersion");
        let e = parse_objects("apiVersion: v1\nkind: Secret\n", "y.yaml").unwrap_err();
        assert_eq!(e.problem, "the Secret has no metadata.name");
        let e = parse_objects("- a\n- b\n", "z.yaml").unwrap_err();
        assert!(e.problem.contains("got a list"), "{e}");
    }

    #[test]
    fn invalid_yaml_is_an_error_naming_the_document() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n---\nkind: [unclosed\n";
        let e = parse_objects(text, "bad.yaml").unwrap_err();
        assert_eq!((e.document, e.line), (2, 4), "{e}");
        assert!(e.problem.starts_with("line 5 column 7: "), "{e}");
        assert!(!e.problem.contains('\n'), "{e}");
    }

    #[test]
    fn to_text_round_trips() {
        let objs = parse_objects(TWO, "a.yaml").unwrap();
        let again = parse_objects(&to_text(&objs), "again").unwrap();
        assert_eq!(objs, again);
        assert_eq!(to_text(&[]), "");
    }
}
