//! Which resources a changed path belongs to. Pure once built from the project.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::model::{Project, ResourceName};
use crate::watch::{PathFilter, WatchError};

struct Route {
    name: ResourceName,
    deps: Vec<PathBuf>,
    ignore: PathFilter,
}

/// Built on each successful load; routing a batch is then lookups only.
pub struct Router {
    routes: Vec<Route>,
    tiltfile_inputs: HashSet<PathBuf>,
}

/// A batch split by destination.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Routed {
    pub by_resource: Vec<(ResourceName, Vec<PathBuf>)>,
    pub tiltfile_inputs: Vec<PathBuf>,
}

impl Router {
    pub fn new(project: Option<&Project>, files_read: &[PathBuf]) -> Result<Router, WatchError> {
        let mut routes = Vec::new();
        if let Some(p) = project {
            let base = p.tiltfile.parent().unwrap_or(Path::new("/"));
            for r in &p.resources {
                let Some(l) = r.local() else { continue };
                if l.deps.is_empty() {
                    continue;
                }
                routes.push(Route {
                    name: r.name.clone(),
                    deps: l.deps.clone(),
                    ignore: PathFilter::new(base, &l.ignore)?,
                });
            }
        }
        Ok(Router {
            routes,
            tiltfile_inputs: files_read.iter().cloned().collect(),
        })
    }

    pub fn route(&self, paths: &[PathBuf]) -> Routed {
        let mut out = Routed::default();
        for route in &self.routes {
            let hits: Vec<PathBuf> = paths
                .iter()
                .filter(|p| route.deps.iter().any(|d| p.starts_with(d)) && !route.ignore.matches(p))
                .cloned()
                .collect();
            if !hits.is_empty() {
                out.by_resource.push((route.name.clone(), hits));
            }
        }
        out.tiltfile_inputs = paths
            .iter()
            .filter(|p| self.tiltfile_inputs.contains(*p) || self.is_under_read_dir(p))
            .cloned()
            .collect();
        out
    }

    /// `watch_file(dir)` / `listdir(dir)` record directories: anything under them counts.
    fn is_under_read_dir(&self, p: &Path) -> bool {
        p.ancestors()
            .skip(1)
            .any(|a| self.tiltfile_inputs.contains(a))
    }

    /// Everything to watch: resource deps and the Tiltfile's inputs.
    pub fn roots(&self) -> Vec<PathBuf> {
        let mut roots: Vec<PathBuf> = self
            .routes
            .iter()
            .flat_map(|r| r.deps.iter().cloned())
            .collect();
        roots.extend(self.tiltfile_inputs.iter().cloned());
        roots.sort();
        roots.dedup();
        roots
    }
}
