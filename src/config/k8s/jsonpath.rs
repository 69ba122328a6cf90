//! The subset of Kubernetes JSONPath that `k8s_kind(image_json_path=)` takes, as
//! Tilt's users write it: `{.spec.image}`, `{.spec.containers[*].image}`,
//! `{.spec.jobs[0].image}`, `{.metadata['some.key']}`, with or without the braces.
//!
//! A path is parsed once at load time and evaluated against each object into JSON
//! pointers (RFC 6901), the form [`crate::model::ImageSlot`] keeps, so a deploy only
//! writes tags at known places. Filters, recursive descent and slices are refused
//! with an error that says so, rather than matching something unexpected.

use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
    /// `[*]`: every element of a list (or every value of a map).
    All,
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("JSONPath {path:?}: {message}")]
pub struct JsonPathError {
    pub path: String,
    pub message: String,
}

impl JsonPath {
    /// Parses `text`; the braces are optional, the leading `.` is not.
    pub fn parse(text: &str) -> Result<JsonPath, JsonPathError> {
        let err = |message: &str| JsonPathError {
            path: text.to_owned(),
            message: message.to_owned(),
        };
        let trimmed = text.trim();
        let inner = match (trimmed.strip_prefix('{'), trimmed.ends_with('}')) {
            (Some(rest), true) => &rest[..rest.len() - 1],
            (None, false) => trimmed,
            _ => return Err(err("unbalanced braces")),
        };
        if !inner.starts_with('.') && !inner.starts_with('[') {
            return Err(err("must start with '.' (for example {.spec.image})"));
        }
        let steps = parse_steps(inner).map_err(|m| err(&m))?;
        if steps.is_empty() {
            return Err(err("names no field"));
        }
        Ok(JsonPath {
            text: text.to_owned(),
            steps,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// JSON pointers to every value the path reaches in `v`, in document order.
    pub fn pointers(&self, v: &Value) -> Vec<String> {
        let mut out = Vec::new();
        walk(v, &self.steps, String::new(), &mut out);
        out
    }
}

fn parse_steps(s: &str) -> Result<Vec<Step>, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut steps = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                if chars.get(i + 1) == Some(&'.') {
                    return Err("recursive descent (..) is not supported".into());
                }
                let start = i + 1;
                i = start;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                if name.is_empty() {
                    return Err(format!("empty field name at column {start}"));
                }
                if name == "*" {
                    steps.push(Step::All);
                } else {
                    steps.push(Step::Field(name));
                }
            }
            '[' => {
                let close = chars[i..]
                    .iter()
                    .position(|&c| c == ']')
                    .map(|p| p + i)
                    .ok_or_else(|| format!("unclosed '[' at column {i}"))?;
                let body: String = chars[i + 1..close].iter().collect();
                steps.push(bracket(body.trim())?);
                i = close + 1;
            }
            c => return Err(format!("unexpected {c:?} at column {i}")),
        }
    }
    Ok(steps)
}

fn bracket(body: &str) -> Result<Step, String> {
    if body == "*" {
        return Ok(Step::All);
    }
    for q in ['\'', '"'] {
        if let Some(name) = body.strip_prefix(q).and_then(|b| b.strip_suffix(q)) {
            return Ok(Step::Field(name.to_owned()));
        }
    }
    if body.starts_with('?') || body.contains(':') || body.contains(',') {
        return Err(format!(
            "[{body}]: filters, slices and unions are not supported"
        ));
    }
    body.parse::<usize>()
        .map(Step::Index)
        .map_err(|_| format!("[{body}]: expected an index, * or a quoted field name"))
}

/// RFC 6901 escaping of one reference token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn walk(v: &Value, steps: &[Step], at: String, out: &mut Vec<String>) {
    let Some((step, rest)) = steps.split_first() else {
        out.push(at);
        return;
    };
    match (step, v) {
        (Step::Field(name), Value::Object(m)) => {
            if let Some(next) = m.get(name) {
                walk(next, rest, format!("{at}/{}", escape(name)), out);
            }
        }
        (Step::Index(i), Value::Array(a)) => {
            if let Some(next) = a.get(*i) {
                walk(next, rest, format!("{at}/{i}"), out);
            }
        }
        (Step::All, Value::Array(a)) => {
            for (i, next) in a.iter().enumerate() {
                walk(next, rest, format!("{at}/{i}"), out);
            }
        }
        (Step::All, Value::Object(m)) => {
            for (k, next) in m {
                walk(next, rest, format!("{at}/{}", escape(k)), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers(path: &str, v: &Value) -> Vec<String> {
        JsonPath::parse(path).unwrap().pointers(v)
    }

    #[test]
    fn fields_indexes_and_wildcards_become_pointers() {
        let v = json!({"spec": {"image": "a", "containers": [
            {"image": "b"}, {"name": "no-image"}, {"image": "c"}
        ]}});
        assert_eq!(pointers("{.spec.image}", &v), ["/spec/image"]);
        assert_eq!(pointers(".spec.image", &v), ["/spec/image"]);
        assert_eq!(
            pointers("{.spec.containers[*].image}", &v),
            ["/spec/containers/0/image", "/spec/containers/2/image"]
        );
        assert_eq!(
            pointers("{.spec.containers[2].image}", &v),
            ["/spec/containers/2/image"]
        );
        assert!(pointers("{.spec.containers[7].image}", &v).is_empty());
        assert!(pointers("{.spec.missing}", &v).is_empty());
    }

    #[test]
    fn quoted_fields_are_escaped_in_pointers() {
        let v = json!({"data": {"web/image": "a", "x.y": "b"}});
        assert_eq!(pointers("{.data['web/image']}", &v), ["/data/web~1image"]);
        assert_eq!(pointers("{.data[\"x.y\"]}", &v), ["/data/x.y"]);
        assert_eq!(pointers("{.data.*}", &v).len(), 2);
    }

    #[test]
    fn unsupported_and_malformed_paths_are_errors() {
        for (path, says) in [
            ("{..image}", "recursive descent"),
            ("{.spec.containers[?(@.name=='a')].image}", "filters"),
            ("{.spec.containers[0:2]}", "slices"),
            ("{.spec.image", "unbalanced"),
            ("spec.image", "must start with '.'"),
            ("{.spec[0}", "unclosed"),
            ("{.spec.}", "empty field name"),
            ("{.spec[x]}", "expected an index"),
        ] {
            let e = JsonPath::parse(path).unwrap_err();
            assert!(e.to_string().contains(says), "{path}: {e}");
        }
    }
}
