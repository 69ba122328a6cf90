//! `default_registry` name rewriting, as Tilt does it: an image stilt built as
//! `web:stilt-0123` is pushed as `<host>/<escaped name>:stilt-0123` and the YAML
//! gets the same name under `host_from_cluster` (the registry as the cluster's
//! nodes reach it).
//!
//! The escaped name is the image's familiar name (`docker.io/library/` dropped) with
//! `/`, `:` and `@` turned into `_`, so `gcr.io/team/web` becomes one path component
//! `gcr.io_team_web`. A name already under `host` is kept. With `single_name`, every
//! image goes to `<host>/<single_name>` and the escaped name moves into the tag
//! (`<host>/<single>:web-stilt-0123`). Pure: no I/O, tested by tables.

use crate::model::RegistrySpec;

/// Where one built image goes: the reference stilt pushes and the one the cluster
/// pulls (the same unless `host_from_cluster` differs from `host`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRefs {
    pub push: String,
    pub cluster: String,
}

/// How the images a deploy target runs get there from the local Engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRoute {
    /// The target runs them from the Engine they were built in: no push, no rename.
    Local,
    /// They are pushed to this registry and deployed under its names.
    Push(RegistrySpec),
}

/// The name Docker resolves `name` to, without the implicit `docker.io/library/`.
fn familiar(name: &str) -> &str {
    let n = name.strip_prefix("docker.io/").unwrap_or(name);
    n.strip_prefix("library/").unwrap_or(n)
}

/// `name` as one repository path component: `/`, `:` and `@` become `_`.
pub fn escape(name: &str) -> String {
    name.chars()
        .map(|c| if matches!(c, '/' | ':' | '@') { '_' } else { c })
        .collect()
}

/// `image` (a name without tag, as `docker_build` declared it) tagged `tag`, in
/// `registry`.
pub fn rewrite(registry: &RegistrySpec, image: &str, tag: &str) -> RegistryRefs {
    let host = registry.host.trim_end_matches('/');
    let cluster_host = registry
        .host_from_cluster
        .as_deref()
        .filter(|h| !h.is_empty())
        .map_or(host, |h| h.trim_end_matches('/'));
    let name = familiar(image);
    if host.is_empty() {
        let r = format!("{name}:{tag}");
        return RegistryRefs {
            push: r.clone(),
            cluster: r,
        };
    }
    // Already in the registry (the user wrote `localhost:5000/web`): only the host
    // the cluster sees changes.
    if let Some(path) = name.strip_prefix(host).and_then(|p| p.strip_prefix('/')) {
        return RegistryRefs {
            push: format!("{host}/{path}:{tag}"),
            cluster: format!("{cluster_host}/{path}:{tag}"),
        };
    }
    let (path, tag) = match registry.single_name.as_deref().filter(|s| !s.is_empty()) {
        Some(single) => (single.to_owned(), format!("{}-{tag}", escape(name))),
        None => (escape(name), tag.to_owned()),
    };
    RegistryRefs {
        push: format!("{host}/{path}:{tag}"),
        cluster: format!("{cluster_host}/{path}:{tag}"),
    }
}

/// Splits `name:tag` at the tag's colon (a registry port's colon is not one).
pub fn split_tag(tagged: &str) -> (&str, &str) {
    let last_slash = tagged.rfind('/').map_or(0, |i| i + 1);
    match tagged[last_slash..].rfind(':') {
        Some(i) => (&tagged[..last_slash + i], &tagged[last_slash + i + 1..]),
        None => (tagged, "latest"),
    }
}

#[cfg(test)]
mod tests;
