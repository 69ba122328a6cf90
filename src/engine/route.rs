//! Which resources a changed path belongs to. Pure once built from the project.
//!
//! Local resources match their `deps` minus `ignore`; image-backed resources match
//! the image's build inputs through `build::Inputs`, the same matcher that decides
//! what goes into the build context, so the watcher and the build never disagree.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::build::{BuildError, Inputs};
use crate::model::{Project, ResourceName};
use crate::watch::{PathFilter, WatchError};

enum Matcher {
    Local {
        deps: Vec<PathBuf>,
        ignore: PathFilter,
    },
    /// The build inputs of every image the resource deploys.
    Images(Vec<Inputs>),
    /// A `k8s_custom_deploy`: its deps, and its images' build inputs.
    Custom {
        deps: Vec<PathBuf>,
        images: Vec<Inputs>,
    },
}

impl Matcher {
    fn matches(&self, p: &Path) -> bool {
        match self {
            Matcher::Local { deps, ignore } => {
                deps.iter().any(|d| p.starts_with(d)) && !ignore.matches(p)
            }
            Matcher::Images(inputs) => inputs.iter().any(|i| i.includes(p)),
            Matcher::Custom { deps, images } => {
                deps.iter().any(|d| p.starts_with(d)) || images.iter().any(|i| i.includes(p))
            }
        }
    }

    fn roots(&self) -> Vec<PathBuf> {
        match self {
            Matcher::Local { deps, .. } => deps.clone(),
            Matcher::Images(inputs) => inputs.iter().flat_map(Inputs::roots).collect(),
            Matcher::Custom { deps, images } => {
                let mut roots = deps.clone();
                roots.extend(images.iter().flat_map(Inputs::roots));
                roots
            }
        }
    }
}

struct Route {
    name: ResourceName,
    matcher: Matcher,
}

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error(transparent)]
    Watch(#[from] WatchError),
    #[error("resource {resource}: reading the build inputs of image {image}: {source}")]
    Image {
        resource: ResourceName,
        image: String,
        source: Box<BuildError>,
    },
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
    pub fn new(project: Option<&Project>, files_read: &[PathBuf]) -> Result<Router, RouteError> {
        let mut routes = Vec::new();
        if let Some(p) = project {
            for r in &p.resources {
                if let Some(matcher) = matcher(p, &r.name)? {
                    routes.push(Route {
                        name: r.name.clone(),
                        matcher,
                    });
                }
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
                .filter(|p| route.matcher.matches(p))
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
        let mut roots: Vec<PathBuf> = self.routes.iter().flat_map(|r| r.matcher.roots()).collect();
        roots.extend(self.tiltfile_inputs.iter().cloned());
        roots.sort();
        roots.dedup();
        roots
    }
}

/// How one resource matches paths, or `None` when no file change concerns it.
fn matcher(p: &Project, name: &ResourceName) -> Result<Option<Matcher>, RouteError> {
    let Some(r) = p.resource(name.as_str()) else {
        return Ok(None);
    };
    if let Some(l) = r.local() {
        if l.deps.is_empty() {
            return Ok(None);
        }
        let base = p.tiltfile.parent().unwrap_or(Path::new("/"));
        let ignore = PathFilter::new(base, &l.ignore)?;
        return Ok(Some(Matcher::Local {
            deps: l.deps.clone(),
            ignore,
        }));
    }
    let mut inputs = Vec::new();
    for image in r.images().into_iter().filter_map(|i| p.image(i)) {
        inputs.push(
            Inputs::for_image(image).map_err(|source| RouteError::Image {
                resource: name.clone(),
                image: image.image_ref.clone(),
                source: Box::new(source),
            })?,
        );
    }
    if let Some(c) = r.k8s().and_then(|k| k.custom.as_ref())
        && !c.deps.is_empty()
    {
        return Ok(Some(Matcher::Custom {
            deps: c.deps.clone(),
            images: inputs,
        }));
    }
    Ok((!inputs.is_empty()).then_some(Matcher::Images(inputs)))
}

#[cfg(test)]
mod custom_deploy_tests {
    use super::*;
    use crate::model::{Cmd, CustomCmd, CustomDeploy, K8sSpec, Resource, ResourceKind};

    #[test]
    fn a_change_under_a_custom_deploys_deps_goes_to_it() {
        let run = CustomCmd {
            cmd: Cmd::Shell("true".into()),
            dir: PathBuf::from("/"),
            env: Default::default(),
        };
        let spec = K8sSpec {
            custom: Some(CustomDeploy {
                apply: run.clone(),
                delete: run,
                deps: vec![PathBuf::from("/app/k8s")],
                image_deps: Vec::new(),
                image_selector: None,
                container_selector: None,
            }),
            ..K8sSpec::default()
        };
        let project = Project {
            tiltfile: PathBuf::from("/app/Tiltfile"),
            resources: vec![Resource {
                name: "web".into(),
                labels: Vec::new(),
                links: Vec::new(),
                resource_deps: Vec::new(),
                trigger_mode: Default::default(),
                auto_init: true,
                kind: ResourceKind::K8s(spec),
            }],
            ..Project::default()
        };
        let router = Router::new(Some(&project), &[]).unwrap();
        let routed = router.route(&[
            PathBuf::from("/app/k8s/deploy.yaml"),
            PathBuf::from("/app/other.txt"),
        ]);
        assert_eq!(
            routed.by_resource,
            [("web".into(), vec![PathBuf::from("/app/k8s/deploy.yaml")])]
        );
        assert_eq!(router.roots(), [PathBuf::from("/app/k8s")]);
    }
}
