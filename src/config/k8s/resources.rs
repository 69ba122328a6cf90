//! After evaluation: the objects of every `k8s_yaml` and the options of every
//! `k8s_resource` -> Kubernetes resources (grouped by [`group`]), with image slots,
//! port forwards as links, and `uncategorized` as an implicit first dependency.

use std::collections::{BTreeMap, HashSet};

use super::group::{Group, Placement, group_with_kinds};
use super::images;
use super::kinds::{KindRule, rule_for};
use crate::config::collect::{Collector, Declared};
use crate::config::error::{ConfigError, Location};
use crate::model::{
    CustomDeploy, DiscoveryStrategy, K8sObject, K8sSpec, Link, PodReadiness, PortForward, Resource,
    ResourceKind, ResourceName, TriggerMode, UNCATEGORIZED,
};

/// One object from `k8s_yaml`, with where it came from.
#[derive(Debug, Clone)]
pub struct YamlObject {
    pub object: K8sObject,
    /// The file (or `<blob>`) it was read from.
    pub source: String,
    pub at: Option<Location>,
    /// The name `workload_to_resource_function` gives it (workloads only).
    pub custom_name: Option<String>,
}

/// One `k8s_resource` call; `None` leaves what earlier calls (or the defaults) set.
#[derive(Debug, Clone, Default)]
pub struct K8sResourceOpts {
    pub placement: Placement,
    pub port_forwards: Option<Vec<PortForward>>,
    pub extra_pod_selectors: Option<Vec<BTreeMap<String, String>>>,
    pub trigger_mode: Option<TriggerMode>,
    pub resource_deps: Option<Vec<ResourceName>>,
    pub auto_init: Option<bool>,
    pub pod_readiness: Option<PodReadiness>,
    pub links: Option<Vec<Link>>,
    pub labels: Option<Vec<String>>,
    pub discovery: Option<DiscoveryStrategy>,
}

impl K8sResourceOpts {
    /// `self` with what a later call on the same resource sets: each given argument wins.
    fn then(mut self, later: &K8sResourceOpts) -> K8sResourceOpts {
        let l = later.clone();
        self.port_forwards = l.port_forwards.or(self.port_forwards);
        self.extra_pod_selectors = l.extra_pod_selectors.or(self.extra_pod_selectors);
        self.trigger_mode = l.trigger_mode.or(self.trigger_mode);
        self.resource_deps = l.resource_deps.or(self.resource_deps);
        self.auto_init = l.auto_init.or(self.auto_init);
        self.pod_readiness = l.pod_readiness.or(self.pod_readiness);
        self.links = l.links.or(self.links);
        self.labels = l.labels.or(self.labels);
        self.discovery = l.discovery.or(self.discovery);
        self
    }
}

/// What the Kubernetes builtins collected.
#[derive(Debug, Clone, Default)]
pub struct K8sDecls {
    pub objects: Vec<YamlObject>,
    pub calls: Vec<Declared<K8sResourceOpts>>,
    /// How many resources were declared before the first `k8s_yaml`: the Kubernetes
    /// resources go there.
    pub position: usize,
    /// The first `k8s_yaml` call.
    pub at: Option<Location>,
    /// `k8s_kind` calls, in order.
    pub kinds: Vec<Declared<KindRule>>,
    /// `k8s_custom_deploy` calls, in order.
    pub custom: Vec<Declared<CustomDecl>>,
}

/// One `k8s_custom_deploy` call.
#[derive(Debug, Clone)]
pub struct CustomDecl {
    pub name: ResourceName,
    pub deploy: CustomDeploy,
    /// How many resources were declared before it.
    pub position: usize,
}

/// The Kubernetes resources, and which of `declared` (image_refs) they use.
pub struct Built {
    pub resources: Vec<Declared<Resource>>,
    /// `k8s_custom_deploy` resources, each with the position of its call.
    pub custom: Vec<(usize, Declared<Resource>)>,
    pub used_images: HashSet<usize>,
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

/// Builds the resources; `trigger_mode` is the `trigger_mode()` default.
pub fn build(
    d: &K8sDecls,
    declared: &[String],
    trigger_mode: TriggerMode,
) -> Result<Built, ConfigError> {
    let objects: Vec<K8sObject> = d.objects.iter().map(|o| o.object.clone()).collect();
    let custom: Vec<Option<String>> = d.objects.iter().map(|o| o.custom_name.clone()).collect();
    // `k8s_resource` calls that name a custom deploy configure it, not a group.
    let is_custom = |c: &Declared<K8sResourceOpts>| {
        let w = &c.value.placement.workload;
        d.custom.iter().any(|x| x.value.name.as_str() == w)
    };
    let grouped: Vec<usize> = (0..d.calls.len())
        .filter(|&i| !is_custom(&d.calls[i]))
        .collect();
    let placements: Vec<Placement> = grouped
        .iter()
        .map(|&i| d.calls[i].value.placement.clone())
        .collect();
    let rules: Vec<KindRule> = d.kinds.iter().map(|k| k.value.clone()).collect();
    let kind_workloads: Vec<bool> = objects
        .iter()
        .map(|o| rule_for(&rules, o).is_some())
        .collect();
    let mut groups =
        group_with_kinds(&objects, &custom, &placements, &kind_workloads).map_err(|e| {
            let at = e.call.and_then(|c| d.calls[grouped[c]].at.clone());
            error(e.message, at)
        })?;
    for g in &mut groups {
        g.calls = g.calls.iter().map(|&c| grouped[c]).collect();
    }
    let ctx = Context {
        d,
        objects: &objects,
        declared,
        trigger_mode,
        has_uncategorized: groups.iter().any(is_uncategorized),
        rules: &rules,
    };
    let mut built = Built {
        resources: Vec::new(),
        custom: Vec::new(),
        used_images: HashSet::new(),
    };
    for g in &groups {
        let r = ctx.resource(g, &mut built.used_images)?;
        built.resources.push(r);
    }
    for c in &d.custom {
        let calls: Vec<usize> = (0..d.calls.len())
            .filter(|&i| d.calls[i].value.placement.workload == c.value.name.as_str())
            .collect();
        let r = ctx.custom_resource(c, &calls, &mut built.used_images)?;
        built.custom.push((c.value.position, r));
    }
    Ok(built)
}

/// What every resource is built from.
struct Context<'a> {
    d: &'a K8sDecls,
    objects: &'a [K8sObject],
    declared: &'a [String],
    trigger_mode: TriggerMode,
    has_uncategorized: bool,
    rules: &'a [KindRule],
}

impl Context<'_> {
    fn resource(
        &self,
        g: &Group,
        used: &mut HashSet<usize>,
    ) -> Result<Declared<Resource>, ConfigError> {
        let d = self.d;
        let opts = g.calls.iter().fold(K8sResourceOpts::default(), |acc, &c| {
            acc.then(&d.calls[c].value)
        });
        let spec = spec(g, self.objects, self.declared, &opts, used, self.rules)
            .map_err(|(rule, e)| error(e, d.kinds.get(rule).and_then(|k| k.at.clone())))?;
        let needs_uncategorized = self.has_uncategorized && !is_uncategorized(g);
        let at = g.calls.last().and_then(|&c| d.calls[c].at.clone());
        let at = at.or_else(|| d.at.clone());
        Ok(self.declare(g.name.clone(), spec, &opts, needs_uncategorized, at))
    }

    /// A `k8s_custom_deploy` resource, configured by the `calls` that name it.
    fn custom_resource(
        &self,
        c: &Declared<CustomDecl>,
        calls: &[usize],
        used: &mut HashSet<usize>,
    ) -> Result<Declared<Resource>, ConfigError> {
        let d = self.d;
        let opts = calls.iter().fold(K8sResourceOpts::default(), |acc, &i| {
            acc.then(&d.calls[i].value)
        });
        for &i in calls {
            if d.calls[i].value.placement.new_name.is_some()
                || !d.calls[i].value.placement.objects.is_empty()
            {
                let msg = format!(
                    "k8s_resource({:?}): a k8s_custom_deploy resource takes neither new_name= \
                     nor objects= (its objects are what apply_cmd prints)",
                    c.value.name.as_str()
                );
                return Err(error(msg, d.calls[i].at.clone()));
            }
        }
        let deploy = &c.value.deploy;
        if let Some(missing) = deploy
            .image_deps
            .iter()
            .find(|i| !self.declared.contains(i))
        {
            let msg = format!(
                "k8s_custom_deploy({:?}, image_deps=): no docker_build or custom_build \
                 declares image {missing:?}",
                c.value.name.as_str()
            );
            return Err(error(msg, c.at.clone()));
        }
        for (i, image) in self.declared.iter().enumerate() {
            if deploy.image_deps.contains(image) {
                used.insert(i);
            }
        }
        let mut spec = K8sSpec {
            images: deploy.image_deps.clone(),
            port_forwards: opts.port_forwards.clone().unwrap_or_default(),
            extra_pod_selectors: opts.extra_pod_selectors.clone().unwrap_or_default(),
            discovery: opts.discovery.unwrap_or_default(),
            custom: Some(deploy.clone()),
            ..K8sSpec::default()
        };
        spec.pod_readiness = opts.pod_readiness.unwrap_or(PodReadiness::Wait);
        let at = calls.last().and_then(|&i| d.calls[i].at.clone());
        let name = c.value.name.to_string();
        Ok(self.declare(name, spec, &opts, false, at.or_else(|| c.at.clone())))
    }

    fn declare(
        &self,
        name: String,
        spec: K8sSpec,
        opts: &K8sResourceOpts,
        needs_uncategorized: bool,
        at: Option<Location>,
    ) -> Declared<Resource> {
        let mut deps: Vec<ResourceName> = Vec::new();
        if needs_uncategorized {
            deps.push(UNCATEGORIZED.into());
        }
        for dep in opts.resource_deps.clone().unwrap_or_default() {
            if !deps.contains(&dep) {
                deps.push(dep);
            }
        }
        let mut links = opts.links.clone().unwrap_or_default();
        links.extend(spec.port_forwards.iter().map(|pf| Link {
            url: pf.url(),
            name: pf.name.clone(),
        }));
        Declared {
            value: Resource {
                name: name.into(),
                labels: opts.labels.clone().unwrap_or_default(),
                links,
                resource_deps: deps,
                trigger_mode: opts.trigger_mode.unwrap_or(self.trigger_mode),
                auto_init: opts.auto_init.unwrap_or(true),
                kind: ResourceKind::K8s(spec),
            },
            at,
        }
    }
}

/// The production guard ([`super::guard`]) over the assembled resources; the
/// kubeconfig is only read when there are Kubernetes resources.
pub fn guard_project(c: &Collector, resources: &[Declared<Resource>]) -> Result<(), ConfigError> {
    let Some(first) = resources.iter().find(|r| r.value.k8s().is_some()) else {
        return Ok(());
    };
    let at = first.at.clone();
    let env = c.k8s_env().map_err(|e| error(e.to_string(), at.clone()))?;
    let allowed = c.settings.borrow().k8s.allowed_contexts.clone();
    super::guard::check(&env.context, &allowed, true).map_err(|e| error(e.to_string(), at))
}

fn is_uncategorized(g: &Group) -> bool {
    g.name == UNCATEGORIZED && g.workload.is_none()
}

fn spec(
    g: &Group,
    all: &[K8sObject],
    declared: &[String],
    opts: &K8sResourceOpts,
    used: &mut HashSet<usize>,
    rules: &[KindRule],
) -> Result<K8sSpec, (usize, String)> {
    let objects: Vec<K8sObject> = g.objects.iter().map(|&i| all[i].clone()).collect();
    let mut image_slots = match g.workload {
        Some(w) => images::slots(w, &objects[w], declared),
        None => Vec::new(),
    };
    // A `k8s_kind` rule's images, and its pod readiness as the default.
    let mut kind_readiness = None;
    if let Some(w) = g.workload
        && let Some(rule) = rule_for(rules, &objects[w])
    {
        let index = rules
            .iter()
            .rposition(|r| std::ptr::eq(r, rule))
            .unwrap_or(0);
        let extra = rule
            .slots(w, &objects[w], declared)
            .map_err(|e| (index, e.to_string()))?;
        image_slots.extend(extra);
        kind_readiness = Some(rule.pod_readiness.unwrap_or(
            if images::pod_spec_pointer(&objects[w]).is_some() {
                PodReadiness::Wait
            } else {
                PodReadiness::Ignore
            },
        ));
    }
    let mut image_refs: Vec<String> = Vec::new();
    for s in &image_slots {
        if !image_refs.contains(&s.image_ref) {
            image_refs.push(s.image_ref.clone());
        }
        if let Some(i) = declared.iter().position(|d| *d == s.image_ref) {
            used.insert(i);
        }
    }
    let mut spec = K8sSpec {
        objects,
        workload: g.workload,
        images: image_refs,
        image_slots,
        port_forwards: opts.port_forwards.clone().unwrap_or_default(),
        extra_pod_selectors: opts.extra_pod_selectors.clone().unwrap_or_default(),
        pod_readiness: PodReadiness::Wait,
        discovery: opts.discovery.unwrap_or_default(),
        custom: None,
    };
    // A resource without pods has nothing to wait for unless told otherwise.
    let default = kind_readiness.unwrap_or(if spec.has_pods() {
        PodReadiness::Wait
    } else {
        PodReadiness::Ignore
    });
    spec.pod_readiness = opts.pod_readiness.unwrap_or(default);
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn yaml_object(kind: &str, name: &str, body: serde_json::Value) -> YamlObject {
        YamlObject {
            object: K8sObject {
                api_version: "v1".into(),
                kind: kind.into(),
                name: name.into(),
                namespace: None,
                body,
            },
            source: "a.yaml".into(),
            at: None,
            custom_name: None,
        }
    }

    fn decls() -> K8sDecls {
        let pod = json!({"spec": {"containers": [{"image": "web:dev"}, {"image": "web"}]}});
        K8sDecls {
            objects: vec![
                yaml_object("Pod", "web", pod),
                yaml_object("ConfigMap", "cfg", json!({})),
            ],
            ..Default::default()
        }
    }

    fn call(opts: K8sResourceOpts) -> Declared<K8sResourceOpts> {
        Declared {
            value: opts,
            at: None,
        }
    }

    #[test]
    fn resources_get_images_once_and_depend_on_uncategorized() {
        let built = build(
            &decls(),
            &["other".into(), "web".into()],
            TriggerMode::Manual,
        )
        .unwrap();
        let names: Vec<&str> = built
            .resources
            .iter()
            .map(|r| r.value.name.as_str())
            .collect();
        assert_eq!(names, ["uncategorized", "web"]);
        let web = &built.resources[1].value;
        assert_eq!(web.resource_deps, vec![ResourceName::from("uncategorized")]);
        assert_eq!(web.trigger_mode, TriggerMode::Manual);
        let spec = web.k8s().unwrap();
        assert_eq!(spec.images, ["web"]);
        assert_eq!(spec.image_slots.len(), 2);
        assert_eq!(spec.pod_readiness, PodReadiness::Wait);
        assert_eq!(built.used_images, HashSet::from([1]));
        let unc = built.resources[0].value.k8s().unwrap();
        assert_eq!(unc.pod_readiness, PodReadiness::Ignore);
        assert!(built.resources[0].value.resource_deps.is_empty());
    }

    #[test]
    fn later_calls_win_per_argument_and_port_forwards_become_links() {
        let mut d = decls();
        let pf = super::super::ports::parse("8000:80").unwrap();
        d.calls = vec![
            call(K8sResourceOpts {
                placement: Placement {
                    workload: "web".into(),
                    ..Default::default()
                },
                port_forwards: Some(vec![pf]),
                labels: Some(vec!["a".into()]),
                links: Some(vec![Link {
                    url: "http://docs".into(),
                    name: None,
                }]),
                ..Default::default()
            }),
            call(K8sResourceOpts {
                placement: Placement {
                    workload: "web".into(),
                    ..Default::default()
                },
                labels: Some(vec!["b".into()]),
                auto_init: Some(false),
                resource_deps: Some(vec!["db".into(), "uncategorized".into()]),
                ..Default::default()
            }),
        ];
        let built = build(&d, &[], TriggerMode::Auto).unwrap();
        let web = &built.resources[1].value;
        assert_eq!(web.labels, ["b"]);
        assert!(!web.auto_init);
        let urls: Vec<&str> = web.links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(urls, ["http://docs", "http://localhost:8000/"]);
        let deps: Vec<&str> = web.resource_deps.iter().map(|d| d.as_str()).collect();
        assert_eq!(deps, ["uncategorized", "db"]);
    }
}
