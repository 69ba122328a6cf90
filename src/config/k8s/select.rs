//! Choosing objects: Tilt's `name[:kind[:namespace]]` selectors (`k8s_resource(objects=)`)
//! and `filter_yaml`'s label and regex filters.

use std::collections::BTreeMap;

use regex::{Regex, RegexBuilder};

use crate::model::K8sObject;

/// The namespace an object without one lands in when matching selectors, as in Tilt.
const DEFAULT_NAMESPACE: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    #[error("{0:?} is not an object selector (use name, name:kind or name:kind:namespace)")]
    BadSelector(String),
    #[error("filter_yaml({what}={pattern:?}): invalid regular expression: {source}")]
    BadRegex {
        what: String,
        pattern: String,
        #[source]
        source: regex::Error,
    },
}

/// `name`, `name:kind` or `name:kind:namespace`; the kind is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSelector {
    pub name: String,
    pub kind: Option<String>,
    pub namespace: Option<String>,
}

impl ObjectSelector {
    pub fn parse(s: &str) -> Result<Self, SelectError> {
        let parts: Vec<&str> = s.split(':').collect();
        if parts.len() > 3 || parts.iter().any(|p| p.trim().is_empty()) {
            return Err(SelectError::BadSelector(s.to_owned()));
        }
        Ok(Self {
            name: parts[0].to_owned(),
            kind: parts.get(1).map(|k| k.to_ascii_lowercase()),
            namespace: parts.get(2).map(|n| (*n).to_owned()),
        })
    }

    pub fn matches(&self, o: &K8sObject) -> bool {
        let ns = o.namespace.as_deref().unwrap_or(DEFAULT_NAMESPACE);
        o.name == self.name
            && self
                .kind
                .as_ref()
                .is_none_or(|k| o.kind.eq_ignore_ascii_case(k))
            && self.namespace.as_ref().is_none_or(|n| n == ns)
    }
}

/// `filter_yaml(labels=, name=, namespace=, kind=, api_version=)`: every given filter
/// must match. Regexes match anywhere in the value unless anchored (Go's
/// `MatchString`, as in Tilt); `kind` ignores case. An object without a namespace
/// has the namespace `""` here.
#[derive(Debug, Default)]
pub struct Filter {
    pub labels: BTreeMap<String, String>,
    pub name: Option<Regex>,
    pub namespace: Option<Regex>,
    pub kind: Option<Regex>,
    pub api_version: Option<Regex>,
}

/// Compiles `pattern` for the `filter_yaml` argument `what`.
pub fn regex(pattern: &str, what: &str, ignore_case: bool) -> Result<Regex, SelectError> {
    RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .build()
        .map_err(|source| SelectError::BadRegex {
            what: what.to_owned(),
            pattern: pattern.to_owned(),
            source,
        })
}

impl Filter {
    pub fn matches(&self, o: &K8sObject) -> bool {
        let labels = o.body.pointer("/metadata/labels");
        let has_labels = self.labels.iter().all(|(k, v)| {
            labels
                .and_then(|l| l.get(k))
                .and_then(|x| x.as_str())
                .is_some_and(|x| x == v)
        });
        let re = |r: &Option<Regex>, s: &str| r.as_ref().is_none_or(|r| r.is_match(s));
        has_labels
            && re(&self.name, &o.name)
            && re(&self.namespace, o.namespace.as_deref().unwrap_or(""))
            && re(&self.kind, &o.kind)
            && re(&self.api_version, &o.api_version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, name: &str, ns: Option<&str>) -> K8sObject {
        K8sObject {
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            namespace: ns.map(Into::into),
            body: json!({"metadata": {"name": name, "labels": {"app": "web", "tier": "fe"}}}),
        }
    }

    #[test]
    fn selectors_match_name_kind_and_namespace() {
        let cm = obj("ConfigMap", "cfg", None);
        let sel = |s: &str| ObjectSelector::parse(s).unwrap();
        assert!(sel("cfg").matches(&cm));
        assert!(sel("cfg:configmap").matches(&cm));
        assert!(sel("cfg:ConfigMap:default").matches(&cm));
        assert!(!sel("cfg:secret").matches(&cm));
        assert!(!sel("cfg:configmap:team").matches(&cm));
        assert!(!sel("cf").matches(&cm));
        for bad in ["", "a:b:c:d", "a::b"] {
            assert!(ObjectSelector::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn filters_match_labels_and_partial_regexes() {
        let o = obj("Deployment", "web-api", Some("team"));
        let f = |f: Filter| f.matches(&o);
        assert!(f(Filter::default()));
        let labels = BTreeMap::from([("app".to_owned(), "web".to_owned())]);
        assert!(f(Filter {
            labels,
            ..Default::default()
        }));
        let wrong = BTreeMap::from([("app".to_owned(), "db".to_owned())]);
        assert!(!f(Filter {
            labels: wrong,
            ..Default::default()
        }));
        let r = |p: &str, ic: bool| Some(regex(p, "x", ic).unwrap());
        assert!(f(Filter {
            name: r("api", false),
            ..Default::default()
        }));
        assert!(!f(Filter {
            name: r("^api$", false),
            ..Default::default()
        }));
        assert!(f(Filter {
            kind: r("deployment", true),
            namespace: r("^team$", false),
            ..Default::default()
        }));
        let e = regex("(", "name", false).unwrap_err().to_string();
        assert!(e.contains("filter_yaml(name=\"(\")"), "{e}");
    }
}
