//! The kubeconfig as far as the Tiltfile needs it: which context is in use and its
//! namespace (`k8s_context()`, `k8s_namespace()`, the production guard). No network.
//!
//! Files come from `$KUBECONFIG` (a colon-separated list) or `~/.kube/config`; as
//! kubectl merges them, the first file that sets a key wins and missing files are
//! skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error("cannot read kubeconfig {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid kubeconfig {path}: {message}")]
    Parse { path: PathBuf, message: String },
}

/// What stilt reads of a (merged) kubeconfig.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Kubeconfig {
    pub current_context: Option<String>,
    /// Context name -> its namespace.
    pub contexts: BTreeMap<String, Option<String>>,
}

#[derive(Deserialize)]
struct RawConfig {
    #[serde(rename = "current-context", default)]
    current_context: Option<String>,
    #[serde(default)]
    contexts: Option<Vec<RawNamedContext>>,
}

#[derive(Deserialize)]
struct RawNamedContext {
    name: String,
    #[serde(default)]
    context: Option<RawContext>,
}

#[derive(Deserialize)]
struct RawContext {
    #[serde(default)]
    namespace: Option<String>,
}

/// The context and namespace in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct K8sEnv {
    /// `""` when there is no kubeconfig and no `--context`.
    pub context: String,
    pub namespace: String,
}

/// The kubeconfig files to read, in merge order.
pub fn paths(kubeconfig_env: Option<&str>, home: Option<&Path>) -> Vec<PathBuf> {
    match kubeconfig_env.filter(|v| !v.is_empty()) {
        Some(list) => list
            .split(':')
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect(),
        None => home
            .map(|h| vec![h.join(".kube").join("config")])
            .unwrap_or_default(),
    }
}

/// Parses one file's text (`path` names it in errors).
pub fn parse(text: &str, path: &Path) -> Result<Kubeconfig, KubeconfigError> {
    if text.trim().is_empty() {
        return Ok(Kubeconfig::default());
    }
    let raw: RawConfig = serde_saphyr::from_str(text).map_err(|e| KubeconfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let mut contexts = BTreeMap::new();
    for c in raw.contexts.unwrap_or_default() {
        let ns = c
            .context
            .and_then(|c| c.namespace)
            .filter(|n| !n.is_empty());
        contexts.entry(c.name).or_insert(ns);
    }
    Ok(Kubeconfig {
        current_context: raw.current_context.filter(|c| !c.is_empty()),
        contexts,
    })
}

impl Kubeconfig {
    /// `self` merged with a later file: what `self` sets wins.
    pub fn merge(mut self, later: Kubeconfig) -> Kubeconfig {
        self.current_context = self.current_context.or(later.current_context);
        for (name, ns) in later.contexts {
            self.contexts.entry(name).or_insert(ns);
        }
        self
    }

    /// The context in use (`--context` first) and its namespace (`--namespace` first,
    /// else the context's, else `default`).
    pub fn resolve(&self, context_flag: Option<&str>, namespace_flag: Option<&str>) -> K8sEnv {
        let context = context_flag
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .or_else(|| self.current_context.clone())
            .unwrap_or_default();
        let namespace = namespace_flag
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .or_else(|| self.contexts.get(&context).cloned().flatten())
            .unwrap_or_else(|| "default".to_owned());
        K8sEnv { context, namespace }
    }
}

/// Reads and merges `paths`; a missing file is skipped, as kubectl does.
pub fn read(paths: &[PathBuf]) -> Result<Kubeconfig, KubeconfigError> {
    let mut merged = Kubeconfig::default();
    for path in paths {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(KubeconfigError::Read {
                    path: path.clone(),
                    source,
                });
            }
        };
        merged = merged.merge(parse(&text, path)?);
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "apiVersion: v1\nkind: Config\ncurrent-context: dev\ncontexts:\n- name: dev\n  context: {cluster: c, user: u, namespace: team}\n- name: other\n  context: {cluster: c}\nclusters: []\nusers: []\n";
    const B: &str = "current-context: prod\ncontexts:\n- name: dev\n  context: {namespace: ignored}\n- name: prod\n  context: {namespace: live}\n";

    fn cfg(text: &str) -> Kubeconfig {
        parse(text, Path::new("k")).unwrap()
    }

    #[test]
    fn the_current_context_and_its_namespace_are_used() {
        let env = cfg(A).resolve(None, None);
        assert_eq!(env.context, "dev");
        assert_eq!(env.namespace, "team");
        assert_eq!(cfg(A).resolve(Some("other"), None).namespace, "default");
        assert_eq!(cfg(A).resolve(None, Some("ns")).namespace, "ns");
    }

    #[test]
    fn the_first_file_wins_per_key() {
        let merged = cfg(A).merge(cfg(B));
        assert_eq!(merged.current_context.as_deref(), Some("dev"));
        assert_eq!(merged.resolve(None, None).namespace, "team");
        assert_eq!(merged.resolve(Some("prod"), None).namespace, "live");
        let merged = cfg("contexts: []\n").merge(cfg(B));
        assert_eq!(merged.current_context.as_deref(), Some("prod"));
    }

    #[test]
    fn no_kubeconfig_gives_an_empty_context() {
        let env = Kubeconfig::default().resolve(None, None);
        assert_eq!(env.context, "");
        assert_eq!(env.namespace, "default");
    }

    #[test]
    fn paths_come_from_kubeconfig_or_home() {
        assert_eq!(
            paths(Some("/a:/b::"), Some(Path::new("/h"))),
            [PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(
            paths(None, Some(Path::new("/h"))),
            [PathBuf::from("/h/.kube/config")]
        );
        assert_eq!(paths(Some(""), None), Vec::<PathBuf>::new());
    }

    #[test]
    fn missing_files_are_skipped_and_bad_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good");
        std::fs::write(&good, B).unwrap();
        let merged = read(&[dir.path().join("missing"), good]).unwrap();
        assert_eq!(merged.current_context.as_deref(), Some("prod"));
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "contexts: {{{").unwrap();
        let e = read(&[bad]).unwrap_err().to_string();
        assert!(e.contains("invalid kubeconfig") && e.contains("bad"), "{e}");
    }
}
