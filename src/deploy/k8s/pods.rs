//! Finding a resource's pods: which pods belong to it ([`Member`], pure), and a cache
//! of pods kept by `kube-runtime` watchers ([`PodCache`], [`watch_pods`]).
//!
//! A pod belongs to a resource when it carries the project's and the resource's
//! labels (stilt put them on the workload's pod template), or when it matches one of
//! the resource's `extra_pod_selectors`. One watcher runs per namespace in use for the
//! project label, plus one per extra selector; each resumes after a dropped
//! connection (`default_backoff`) and re-lists, and the cache replaces what that
//! watcher knew when its re-list completes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, BoxStream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client};

use super::K8sError;
use super::labels::{PROJECT, RESOURCE_ID, TEMPLATE_HASH, label_value};
use crate::deploy::{Change, TargetError};
use crate::model::{DiscoveryStrategy, Resource, ResourceName};

/// How to recognise one resource's pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: ResourceName,
    /// The `stilt.dev/resource-id` its workload's pods carry (`None`: it has no
    /// workload, or finds pods by selectors only).
    pub id: Option<String>,
    pub selectors: Vec<BTreeMap<String, String>>,
    /// The namespaces its pods may be in: its objects' (or the default one).
    pub namespaces: BTreeSet<String>,
    /// A custom deploy: every pod of its namespaces is watched (its workloads carry
    /// no stilt label), and the target picks its own by what the apply printed.
    pub all_pods: bool,
}

impl Member {
    /// `None` for resources that are not Kubernetes ones or have no pods.
    pub fn of(r: &Resource, default_ns: &str) -> Option<Member> {
        let spec = r.k8s()?;
        if !spec.has_pods() {
            return None;
        }
        let id = (spec.discovery == DiscoveryStrategy::Default && spec.workload.is_some())
            .then(|| label_value(r.name.as_str()));
        let mut namespaces: BTreeSet<String> = spec
            .objects
            .iter()
            .map(|o| o.namespace.clone().unwrap_or_else(|| default_ns.to_owned()))
            .collect();
        if namespaces.is_empty() {
            namespaces.insert(default_ns.to_owned());
        }
        Some(Member {
            name: r.name.clone(),
            id,
            selectors: spec.extra_pod_selectors.clone(),
            namespaces,
            all_pods: spec.custom.is_some() && spec.discovery == DiscoveryStrategy::Default,
        })
    }

    /// Whether `pod` is one of this resource's pods.
    pub fn owns(&self, project_id: &str, pod: &Pod) -> bool {
        let empty = BTreeMap::new();
        let labels = pod.metadata.labels.as_ref().unwrap_or(&empty);
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        if !self.namespaces.contains(ns) {
            return false;
        }
        if self.all_pods {
            return true;
        }
        let by_id = self.id.as_ref().is_some_and(|id| {
            labels.get(RESOURCE_ID) == Some(id)
                && labels.get(PROJECT) == Some(&label_value(project_id))
        });
        by_id
            || self
                .selectors
                .iter()
                .any(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v)))
    }

    /// Whether `pod` comes from the resource's latest deploy, whose pod templates had
    /// the hashes `templates`: a pod of its workload must carry one of them (before
    /// any deploy in this session, every pod does). Pods found by
    /// `extra_pod_selectors` only are not stilt's to judge.
    pub fn of_latest_deploy(&self, pod: &Pod, templates: Option<&HashSet<String>>) -> bool {
        let labels = pod.metadata.labels.as_ref();
        let label = |k: &str| labels.and_then(|l| l.get(k));
        let ours = self.id.is_some() && label(RESOURCE_ID) == self.id.as_ref();
        match templates {
            Some(t) if ours && !t.is_empty() => label(TEMPLATE_HASH).is_some_and(|h| t.contains(h)),
            _ => true,
        }
    }

    /// The label selectors that list its pods (each in each of its namespaces).
    pub fn list_selectors(&self, project_id: &str) -> Vec<String> {
        let by_id = self
            .id
            .as_ref()
            .map(|id| format!("{PROJECT}={},{RESOURCE_ID}={id}", label_value(project_id)));
        let all = self.all_pods.then(String::new);
        by_id
            .into_iter()
            .chain(all)
            .chain(
                self.selectors
                    .iter()
                    .filter(|s| !s.is_empty())
                    .map(selector),
            )
            .collect()
    }
}

/// `k=v,k2=v2`.
pub fn selector(labels: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.join(",")
}

type PodKey = (String, String);

fn key(pod: &Pod) -> PodKey {
    (
        pod.metadata.namespace.clone().unwrap_or_default(),
        pod.metadata.name.clone().unwrap_or_default(),
    )
}

/// What one watcher knows.
#[derive(Default)]
struct Source {
    synced: bool,
    pods: HashMap<PodKey, Pod>,
    /// Pods of a re-list in progress; they replace `pods` when it completes.
    relist: Option<HashMap<PodKey, Pod>>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    sources: HashMap<u64, Source>,
    /// The watch generation the cache serves, and the resources it covers.
    generation: u64,
    covered: HashSet<ResourceName>,
    generation_sources: Vec<u64>,
}

/// Pods seen by the current watch; shared by the target and its watch stream.
#[derive(Default)]
pub struct PodCache {
    state: Mutex<State>,
}

impl PodCache {
    /// Starts a watch generation covering `members`, with `sources` watchers.
    fn begin(&self, members: &[Member], sources: usize) -> (u64, Vec<u64>) {
        let Ok(mut s) = self.state.lock() else {
            return (0, Vec::new());
        };
        s.generation += 1;
        s.covered = members.iter().map(|m| m.name.clone()).collect();
        let ids: Vec<u64> = (0..sources).map(|i| s.next_id + i as u64).collect();
        s.next_id += sources as u64;
        for id in &ids {
            s.sources.insert(*id, Source::default());
        }
        s.generation_sources = ids.clone();
        (s.generation, ids)
    }

    /// Drops a generation's watchers (its stream was dropped).
    fn end(&self, generation: u64, ids: &[u64]) {
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        for id in ids {
            s.sources.remove(id);
        }
        if s.generation == generation {
            s.covered.clear();
            s.generation_sources.clear();
        }
    }

    /// Applies one watcher event; returns the pods it changed (before and after).
    fn apply(&self, source: u64, event: Event<Pod>) -> Vec<Pod> {
        let Ok(mut s) = self.state.lock() else {
            return Vec::new();
        };
        let Some(src) = s.sources.get_mut(&source) else {
            return Vec::new();
        };
        match event {
            Event::Init => {
                src.relist = Some(HashMap::new());
                Vec::new()
            }
            Event::InitApply(pod) => {
                if let Some(r) = src.relist.as_mut() {
                    r.insert(key(&pod), pod);
                }
                Vec::new()
            }
            Event::InitDone => {
                let new = src.relist.take().unwrap_or_default();
                let old = std::mem::replace(&mut src.pods, new);
                src.synced = true;
                old.into_values()
                    .chain(src.pods.values().cloned())
                    .collect()
            }
            Event::Apply(pod) => {
                let old = src.pods.insert(key(&pod), pod.clone());
                old.into_iter().chain([pod]).collect()
            }
            Event::Delete(pod) => {
                let old = src.pods.remove(&key(&pod));
                old.into_iter().chain([pod]).collect()
            }
        }
    }

    /// `member`'s pods, when the current watch covers it and every watcher has
    /// listed; `None` otherwise (ask the API).
    pub fn pods_of(&self, member: &Member, project_id: &str) -> Option<Vec<Pod>> {
        let s = self.state.lock().ok()?;
        if !s.covered.contains(&member.name) {
            return None;
        }
        let mut pods: HashMap<PodKey, &Pod> = HashMap::new();
        for id in &s.generation_sources {
            let src = s.sources.get(id)?;
            if !src.synced {
                return None;
            }
            for (k, p) in &src.pods {
                pods.insert(k.clone(), p);
            }
        }
        Some(
            pods.into_values()
                .filter(|p| member.owns(project_id, p))
                .cloned()
                .collect(),
        )
    }
}

/// Removes a watch generation from the cache when its stream is dropped.
struct Generation {
    cache: Arc<PodCache>,
    generation: u64,
    ids: Vec<u64>,
}

impl Drop for Generation {
    fn drop(&mut self) {
        self.cache.end(self.generation, &self.ids);
    }
}

/// The watchers `members` need: (namespace, label selector).
pub fn sources(members: &[Member], project_id: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let project = format!("{PROJECT}={}", label_value(project_id));
    for m in members {
        for ns in &m.namespaces {
            if m.id.is_some() {
                out.insert((ns.clone(), project.clone()));
            }
            if m.all_pods {
                out.insert((ns.clone(), String::new()));
            }
            for sel in m.selectors.iter().filter(|s| !s.is_empty()) {
                out.insert((ns.clone(), selector(sel)));
            }
        }
    }
    out
}

/// Watches the pods of `members` into `cache`; yields the resources whose pods
/// changed, and watch errors (the watchers go on after them).
pub fn watch_pods(
    client: Client,
    cache: Arc<PodCache>,
    project_id: String,
    members: Vec<Member>,
) -> BoxStream<'static, Change> {
    let wanted = sources(&members, &project_id);
    let (generation, ids) = cache.begin(&members, wanted.len());
    let guard = Arc::new(Generation {
        cache: cache.clone(),
        generation,
        ids: ids.clone(),
    });
    let members = Arc::new(members);
    let streams = wanted.into_iter().zip(ids).map(|((ns, sel), id)| {
        let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
        // An empty selector: every pod of the namespace (custom deploys).
        let config = match sel.as_str() {
            "" => watcher::Config::default(),
            s => watcher::Config::default().labels(s),
        };
        let (cache, members, project, guard) = (
            cache.clone(),
            members.clone(),
            project_id.clone(),
            guard.clone(),
        );
        watcher::watcher(api, config)
            .default_backoff()
            .map(move |event| {
                let _alive = &guard;
                match event {
                    Ok(ev) => {
                        let changed = cache.apply(id, ev);
                        affected(&members, &project, &changed)
                            .into_iter()
                            .map(Change::Resource)
                            .collect()
                    }
                    Err(e) => vec![Change::Error(TargetError::failed(K8sError::Watch {
                        namespace: ns.clone(),
                        selector: sel.clone(),
                        message: e.to_string(),
                    }))],
                }
            })
            .flat_map(stream::iter)
            .boxed()
    });
    stream::select_all(streams).boxed()
}

/// The resources that own any of `pods`, each once.
fn affected(members: &[Member], project_id: &str, pods: &[Pod]) -> Vec<ResourceName> {
    members
        .iter()
        .filter(|m| pods.iter().any(|p| m.owns(project_id, p)))
        .map(|m| m.name.clone())
        .collect()
}

/// Lists `member`'s pods from the API (when the cache cannot answer).
pub async fn list_pods(
    client: &Client,
    member: &Member,
    project_id: &str,
) -> Result<Vec<Pod>, K8sError> {
    let mut pods: HashMap<PodKey, Pod> = HashMap::new();
    for ns in &member.namespaces {
        let api: Api<Pod> = Api::namespaced(client.clone(), ns);
        for sel in member.list_selectors(project_id) {
            let params = match sel.as_str() {
                "" => kube::api::ListParams::default(),
                s => kube::api::ListParams::default().labels(s),
            };
            let list = api.list(&params).await.map_err(|e| K8sError::ListPods {
                namespace: ns.clone(),
                selector: sel.clone(),
                message: super::api_message(&e),
            })?;
            for p in list.items {
                pods.insert(key(&p), p);
            }
        }
    }
    Ok(pods.into_values().collect())
}

#[cfg(test)]
mod tests;
