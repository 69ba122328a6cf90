//! The files a `kustomize build` of a directory reads: its kustomization file and the
//! files and bases it lists, recursively. `kustomize()` watches exactly these (not the
//! whole tree) and they key its render.
//!
//! Remote bases (URLs) are left out: nothing local to watch.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::collect::normalize;

/// The names kustomize accepts for the kustomization file, in its order.
const FILE_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Fields that list paths: files, or directories holding a kustomization.
const PATH_LISTS: &[&str] = &[
    "resources",
    "bases",
    "components",
    "crds",
    "patchesStrategicMerge",
    "generators",
    "transformers",
    "validators",
    "configurations",
];

/// The kustomization file of `dir`, if it has one.
pub fn file_of(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// Every local file the build of `dir` reads, sorted. A kustomization that cannot be
/// parsed still counts as read (kustomize will report it).
pub fn deps(dir: &Path) -> Vec<PathBuf> {
    let mut out = BTreeSet::new();
    let mut seen = BTreeSet::new();
    walk(&normalize(dir), &mut out, &mut seen);
    out.into_iter().collect()
}

fn walk(dir: &Path, out: &mut BTreeSet<PathBuf>, seen: &mut BTreeSet<PathBuf>) {
    if !seen.insert(dir.to_path_buf()) {
        return;
    }
    let Some(file) = file_of(dir) else { return };
    out.insert(file.clone());
    let Some(k) = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_saphyr::from_str::<Value>(&t).ok())
    else {
        return;
    };
    for p in listed_paths(&k) {
        // URLs, and inline generator or transformer configs, are not local files.
        if p.contains("://") || p.starts_with("github.com/") || p.contains('\n') {
            continue;
        }
        let path = normalize(&dir.join(&p));
        if path.is_dir() {
            walk(&path, out, seen);
        } else {
            out.insert(path);
        }
    }
}

/// The paths a kustomization names: the lists above, `path:` of patches, the files
/// and env files of generators, `openapi.path` and `replacements[].path`.
pub fn listed_paths(k: &Value) -> Vec<String> {
    let strs = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let mut out = Vec::new();
    for field in PATH_LISTS {
        out.extend(strs(k.get(*field)));
    }
    for field in ["patches", "patchesJson6902", "replacements"] {
        for item in k.get(field).and_then(Value::as_array).into_iter().flatten() {
            out.extend(strs(item.get("path")));
        }
    }
    for field in ["configMapGenerator", "secretGenerator"] {
        for item in k.get(field).and_then(Value::as_array).into_iter().flatten() {
            for files in strs(item.get("files")) {
                // `key=path` names the key; the file is after the `=`.
                let path = files.split_once('=').map_or(files.as_str(), |(_, p)| p);
                out.push(path.to_owned());
            }
            out.extend(strs(item.get("envs")));
            out.extend(strs(item.get("env")));
        }
    }
    out.extend(strs(k.pointer("/openapi/path")));
    out
}
