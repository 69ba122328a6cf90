//! After evaluation: local resources + compose services + `dc_resource` options +
//! Kubernetes objects + `k8s_resource` options + declared images -> every resource
//! and the project's image list.
//!
//! It lives beside `load` rather than in the compose builtins because it assembles
//! every resource kind, not only compose's.
//!
//! Done once at the end because `dc_resource` may precede its `docker_compose` and a
//! `docker_build` may follow it (Tilt allows both). Compose resources take the place
//! of their `docker_compose` call among the other resources, and Kubernetes resources
//! the place of the first `k8s_yaml`, for the duplicate-name check; the result is then
//! put in Tilt's order: Kubernetes, compose (dependencies first), local resources.

use std::collections::{BTreeMap, HashSet};

use crate::config::builtins::compose::services::{BuildSection, ServiceInfo};
use crate::config::builtins::compose::{ComposeDecl, DcResourceOpts};
use crate::config::builtins::image_ref::{same_image, without_tag};
use crate::config::collect::Declared;
use crate::config::error::{ConfigError, Location};
use crate::config::k8s::resources::{self as k8s, K8sDecls};
use crate::model::{
    ComposeService, Dockerfile, ImageBuild, ImageSpec, Resource, ResourceKind, ResourceName,
    TriggerMode,
};

/// What the Tiltfile declared, as a whole.
#[derive(Debug)]
pub struct Assembled {
    /// Every resource in declaration order, each with the call that declared it.
    pub resources: Vec<Declared<Resource>>,
    /// Declared images, then images generated from compose `build:` sections.
    pub images: Vec<ImageSpec>,
    pub warnings: Vec<String>,
}

/// The declarations collected by the builtins.
pub struct Declarations {
    pub locals: Vec<Declared<Resource>>,
    pub images: Vec<Declared<ImageSpec>>,
    pub compose: Vec<Declared<ComposeDecl>>,
    pub dc_resources: Vec<Declared<DcResourceOpts>>,
    pub k8s: K8sDecls,
    /// The `trigger_mode()` default at the end of evaluation: Kubernetes resources
    /// take it, as in Tilt where it is project-wide.
    pub trigger_mode: TriggerMode,
}

fn error(message: String, at: Option<Location>) -> ConfigError {
    match at {
        Some(location) => ConfigError::Declared { message, location },
        None => ConfigError::Eval {
            rendered: format!("error: {message}"),
            location: None,
        },
    }
}

/// `dc_resource` options merged per service: `[decl][service]`.
type Options = Vec<Vec<Option<Declared<DcResourceOpts>>>>;

pub fn assemble(d: Declarations) -> Result<Assembled, ConfigError> {
    let options = match_options(&d.compose, &d.dc_resources)?;
    let mut images = Images {
        all: d.images.iter().map(|i| i.value.clone()).collect(),
        declared: d.images.len(),
        used: HashSet::new(),
        warnings: Vec::new(),
    };
    let mut placed: Vec<(usize, Declared<Resource>)> = Vec::new();
    for (decl, opts) in d.compose.iter().zip(&options) {
        for r in dependency_order(compose_resources(decl, opts, &mut images)?) {
            placed.push((decl.value.position, r));
        }
    }
    let refs: Vec<String> = d.images.iter().map(|i| i.value.image_ref.clone()).collect();
    let built = k8s::build(&d.k8s, &refs, d.trigger_mode)?;
    images.used.extend(built.used_images);
    restart_container_on_k8s(&d.images, &built.resources)?;
    placed.extend(built.resources.into_iter().map(|r| (d.k8s.position, r)));
    placed.extend(built.custom);
    // Stable: each call's resources keep their order.
    placed.sort_by_key(|(pos, _)| *pos);
    let mut resources = interleave(d.locals, placed)?;
    // Tilt's order (what its UI and `get` list): Kubernetes resources, then compose
    // services, then local resources, each kind in declaration order.
    resources.sort_by_key(|r| match r.value.kind {
        ResourceKind::K8s(_) => 0,
        ResourceKind::Compose(_) | ResourceKind::Target(_) => 1,
        ResourceKind::Local(_) => 2,
    });
    let mut warnings = images.warnings;
    for (i, img) in images.all[..images.declared].iter().enumerate() {
        if !images.used.contains(&i) {
            warnings.push(format!(
                "image '{}' is not used by any resource",
                img.image_ref
            ));
        }
    }
    Ok(Assembled {
        resources,
        images: images.all,
        warnings,
    })
}

/// As in Tilt, `restart_container()` is for Docker Compose only: a Kubernetes
/// resource's image that asks for it is an error at its `docker_build`.
fn restart_container_on_k8s(
    images: &[Declared<ImageSpec>],
    k8s: &[Declared<Resource>],
) -> Result<(), ConfigError> {
    for r in k8s {
        for used in r.value.images() {
            let Some(img) = images.iter().find(|i| i.value.image_ref == used) else {
                continue;
            };
            if img.value.live_update.restart {
                let msg = format!(
                    "live_update of image {used:?}: restart_container() is not supported for \
                     Kubernetes resources ({} deploys it); restart the process inside the \
                     container instead: load('ext://restart_process', \
                     'docker_build_with_restart') (built into stilt) and declare the image \
                     with docker_build_with_restart(ref, context, entrypoint, live_update)",
                    r.value.name
                );
                return Err(error(msg, img.at.clone()));
            }
        }
    }
    Ok(())
}

fn known_services(compose: &[Declared<ComposeDecl>]) -> String {
    let names: Vec<String> = compose
        .iter()
        .flat_map(|d| {
            d.value
                .services
                .iter()
                .map(|s| format!("{}/{}", d.value.project.name, s.name))
        })
        .collect();
    if names.is_empty() {
        "none: no docker_compose() declared any".into()
    } else {
        names.join(", ")
    }
}

fn match_options(
    compose: &[Declared<ComposeDecl>],
    dcs: &[Declared<DcResourceOpts>],
) -> Result<Options, ConfigError> {
    let mut out: Options = compose
        .iter()
        .map(|d| vec![None; d.value.services.len()])
        .collect();
    for dc in dcs {
        let (di, si) = find_service(compose, dc)?;
        let slot = &mut out[di][si];
        *slot = Some(match slot.take() {
            None => dc.clone(),
            Some(prev) => Declared {
                value: merge(prev.value, dc.value.clone()),
                at: dc.at.clone(),
            },
        });
    }
    Ok(out)
}

/// The `[decl][service]` index of the service a `dc_resource` names.
fn find_service(
    compose: &[Declared<ComposeDecl>],
    dc: &Declared<DcResourceOpts>,
) -> Result<(usize, usize), ConfigError> {
    let o = &dc.value;
    let hits: Vec<(usize, usize)> = compose
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            o.project_name
                .as_ref()
                .is_none_or(|p| *p == d.value.project.name)
        })
        .flat_map(|(di, d)| {
            d.value
                .services
                .iter()
                .enumerate()
                .filter(|(_, s)| s.name == o.service)
                .map(move |(si, _)| (di, si))
        })
        .collect();
    let msg = match hits.as_slice() {
        [one] => return Ok(*one),
        [] => format!(
            "dc_resource({:?}): no Docker Compose service named {:?}{} (known services: {})",
            o.service,
            o.service,
            o.project_name
                .as_ref()
                .map(|p| format!(" in project {p:?}"))
                .unwrap_or_default(),
            known_services(compose)
        ),
        _ => format!(
            "dc_resource({:?}): several compose projects have a service named {:?}; \
             pass project_name= to pick one",
            o.service, o.service
        ),
    };
    Err(error(msg, dc.at.clone()))
}

/// A later `dc_resource` for the same service overrides what it sets and adds deps and links.
fn merge(mut a: DcResourceOpts, b: DcResourceOpts) -> DcResourceOpts {
    a.new_name = b.new_name.or(a.new_name);
    a.trigger_mode = b.trigger_mode.or(a.trigger_mode);
    a.resource_deps.extend(b.resource_deps);
    a.links.extend(b.links);
    a.labels = b.labels.or(a.labels);
    a.auto_init = b.auto_init.or(a.auto_init);
    a.infer_links = b.infer_links.or(a.infer_links);
    a.image = b.image.or(a.image);
    a
}

struct Images {
    all: Vec<ImageSpec>,
    /// `all[..declared]` came from docker_build / custom_build.
    declared: usize,
    /// Indices of declared images some service uses.
    used: HashSet<usize>,
    warnings: Vec<String>,
}

impl Images {
    fn find_declared(&self, r: &str) -> Option<usize> {
        self.all[..self.declared]
            .iter()
            .position(|i| same_image(&i.image_ref, r))
    }

    /// The image stilt builds for `svc`, if any.
    fn for_service(
        &mut self,
        project: &str,
        svc: &ServiceInfo,
        opt: Option<&Declared<DcResourceOpts>>,
    ) -> Result<Option<String>, ConfigError> {
        if let Some((wanted, dc)) = opt.and_then(|o| o.value.image.as_ref().map(|i| (i, o))) {
            let Some(i) = self.find_declared(wanted) else {
                let msg = format!(
                    "dc_resource({:?}, image={wanted:?}): no docker_build or custom_build \
                     declares that image",
                    svc.name
                );
                return Err(error(msg, dc.at.clone()));
            };
            self.used.insert(i);
            return Ok(Some(self.all[i].image_ref.clone()));
        }
        if let Some(i) = svc.image.as_deref().and_then(|r| self.find_declared(r)) {
            self.used.insert(i);
            let img = &self.all[i];
            if svc.build.is_some() {
                self.warnings.push(format!(
                    "compose service {:?}: {}({:?}) builds its image, so the service's \
                     build: section is ignored",
                    svc.name,
                    img.kind_label(),
                    img.image_ref
                ));
            }
            return Ok(Some(img.image_ref.clone()));
        }
        Ok(svc.build.as_ref().map(|b| {
            let image_ref = svc
                .image
                .as_deref()
                .map(without_tag)
                // Tilt names a built service's image `<project>_<service>`.
                .unwrap_or_else(|| format!("{project}_{}", svc.name));
            if !self.all.iter().any(|i| i.image_ref == image_ref) {
                self.all.push(generated_image(image_ref.clone(), b));
            }
            image_ref
        }))
    }
}

fn generated_image(image_ref: String, b: &BuildSection) -> ImageSpec {
    let mut spec = ImageSpec::docker(&image_ref, &b.context);
    if let ImageBuild::Docker(d) = &mut spec.build {
        d.dockerfile = Dockerfile::Path(b.dockerfile.clone());
        d.build_args = b.args.clone();
        d.target = b.target.clone();
    }
    spec
}

fn compose_resources(
    decl: &Declared<ComposeDecl>,
    opts: &[Option<Declared<DcResourceOpts>>],
    images: &mut Images,
) -> Result<Vec<Declared<Resource>>, ConfigError> {
    let d = &decl.value;
    let renamed: BTreeMap<&str, String> = d
        .services
        .iter()
        .zip(opts)
        .map(|(s, o)| {
            let name = o.as_ref().and_then(|o| o.value.new_name.clone());
            (s.name.as_str(), name.unwrap_or_else(|| s.name.clone()))
        })
        .collect();
    let mut out = Vec::new();
    for (svc, opt) in d.services.iter().zip(opts) {
        let image = images.for_service(&d.project.name, svc, opt.as_ref())?;
        let o = opt.as_ref().map(|o| o.value.clone()).unwrap_or_default();
        let resource = Resource {
            name: renamed[svc.name.as_str()].clone().into(),
            resource_deps: resource_deps(svc, &renamed, o.resource_deps),
            // Published ports stay on the service (Tilt keeps them apart from links);
            // the views show both as endpoints.
            links: o.links,
            labels: o.labels.unwrap_or_default(),
            trigger_mode: o.trigger_mode.unwrap_or(d.trigger_mode),
            auto_init: o.auto_init.unwrap_or(true),
            kind: ResourceKind::Compose(ComposeService {
                project: d.project.clone(),
                service: svc.name.clone(),
                image,
                has_healthcheck: svc.has_healthcheck,
                published_ports: svc.published_ports.clone(),
                infer_links: o.infer_links.unwrap_or(true),
            }),
        };
        let at = opt.as_ref().and_then(|o| o.at.clone()).or(decl.at.clone());
        out.push(Declared {
            value: resource,
            at,
        });
    }
    Ok(out)
}

/// `depends_on` (following `new_name` renames), then `dc_resource(resource_deps=)`.
fn resource_deps(
    svc: &ServiceInfo,
    renamed: &BTreeMap<&str, String>,
    extra: Vec<ResourceName>,
) -> Vec<ResourceName> {
    let mut deps: Vec<ResourceName> = svc
        .depends_on
        .iter()
        .map(|s| renamed.get(s.as_str()).unwrap_or(s).clone().into())
        .collect();
    for dep in extra {
        if !deps.contains(&dep) {
            deps.push(dep);
        }
    }
    deps
}

/// A compose project's services with each after the services it depends on, otherwise
/// in the compose tool's order (Tilt lists them so). A cycle, which the compose tool
/// refuses anyway, keeps the remaining services in their order.
fn dependency_order(services: Vec<Declared<Resource>>) -> Vec<Declared<Resource>> {
    let names: HashSet<String> = services.iter().map(|s| s.value.name.to_string()).collect();
    let mut left: Vec<Option<Declared<Resource>>> = services.into_iter().map(Some).collect();
    let mut placed: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(left.len());
    while out.len() < left.len() {
        let ready = left.iter().position(|s| {
            s.as_ref().is_some_and(|s| {
                s.value.resource_deps.iter().all(|d| {
                    let d = d.to_string();
                    !names.contains(&d) || placed.contains(&d)
                })
            })
        });
        let Some(i) = ready.or_else(|| left.iter().position(Option::is_some)) else {
            break;
        };
        if let Some(s) = left[i].take() {
            placed.insert(s.value.name.to_string());
            out.push(s);
        }
    }
    out
}

/// Local resources and the placed ones in declaration order; a name declared twice
/// is an error at the second declaration.
fn interleave(
    locals: Vec<Declared<Resource>>,
    placed: Vec<(usize, Declared<Resource>)>,
) -> Result<Vec<Declared<Resource>>, ConfigError> {
    let mut out: Vec<Declared<Resource>> = Vec::with_capacity(locals.len() + placed.len());
    let mut placed = placed.into_iter().peekable();
    for (i, local) in locals.into_iter().enumerate() {
        while let Some((_, r)) = placed.next_if(|(pos, _)| *pos <= i) {
            out.push(r);
        }
        out.push(local);
    }
    out.extend(placed.map(|(_, r)| r));
    let mut seen: HashSet<&str> = HashSet::new();
    for r in &out {
        if !seen.insert(r.value.name.as_str()) {
            let msg = format!(
                "a resource named {:?} is already declared",
                r.value.name.as_str()
            );
            return Err(error(msg, r.at.clone()));
        }
    }
    Ok(out)
}
