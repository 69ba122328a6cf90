//! [`K8sTarget`]: the Kubernetes [`DeployTarget`] over the pieces of this module.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use bollard::Docker;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams};
use tokio::sync::OnceCell;

use super::apply::{Applier, api_error};
use super::custom::{self, PodSelector};
use super::down::{self, DownReport};
use super::inject::{default_protocols, inject};
use super::labels::{stamp, stamp_template_hash};
use super::placement::{NodeFacts, Placement, decide, local_facts};
use super::pods::{Member, PodCache, list_pods, watch_pods};
use super::registry_hosting;
use super::status::{current_pod, docker_id, pod_status};
use super::streams::{self, Forwards};
use super::updater::PodUpdater;
use super::{K8sError, connect};
use crate::build::registry::ImageRoute;
use crate::deploy::{Change, DeployTarget, TargetError};
use crate::liveupdate::{ContainerUpdater, DockerUpdater, UpdateTarget};
use crate::model::CustomDeploy;
use crate::model::{
    ContainerState, ContainerStatus, K8S_TARGET, K8sSettings, K8sSpec, RegistrySpec, Resource,
    ResourceName, Stream,
};
use crate::process::real::RealSpawner;
use crate::process::{LineSink, Spawner};

/// The Kubernetes deploy target of one project, on one context. Cheap to clone.
#[derive(Clone)]
pub struct K8sTarget {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    context: String,
    namespace: String,
    project_id: String,
    docker: Option<Docker>,
    applier: Applier,
    placement: OnceCell<Placement>,
    /// Resources whose images `image_route` sent through a registry: only their
    /// deploys may name images on a cluster that is not on the local Engine.
    pushed: Mutex<HashSet<ResourceName>>,
    pods: Arc<PodCache>,
    /// The tagged images each resource was deployed with.
    images: Mutex<HashMap<ResourceName, Vec<String>>>,
    /// The pod template hashes of each resource's latest deploy: older pods still
    /// running are not its pods any more.
    templates: Mutex<HashMap<ResourceName, HashSet<String>>>,
    /// The pods `status` reported, by id: what `update_target` resolves.
    reported: Mutex<HashMap<String, Pod>>,
    /// Each resource's log, from its last deploy (port forwards report there).
    sinks: Mutex<HashMap<ResourceName, LineSink>>,
    forwards: Forwards,
    updater: Arc<PodUpdater>,
    /// Runs `k8s_custom_deploy`'s commands.
    spawner: Arc<dyn Spawner>,
    /// The pods of each custom deploy, from what its latest apply printed.
    custom_pods: Mutex<HashMap<ResourceName, Vec<PodSelector>>>,
}

impl K8sTarget {
    /// Reads the kubeconfig ($KUBECONFIG or ~/.kube/config; `settings.context`
    /// overrides the current context; `settings.namespace` the context's namespace)
    /// and builds a client. Does not contact the cluster.
    pub fn connect(
        settings: &K8sSettings,
        project_id: &str,
        docker: Option<Docker>,
    ) -> Result<K8sTarget, K8sError> {
        let c = connect::connect(settings)?;
        Ok(Self::with_client(c, project_id, docker))
    }

    /// Like [`K8sTarget::connect`], from a client already made.
    pub fn with_client(c: connect::Connection, project_id: &str, docker: Option<Docker>) -> Self {
        let updater = PodUpdater::new(
            docker.clone().map(DockerUpdater::new),
            streams::exec_updater(&c.client),
        );
        K8sTarget {
            inner: Arc::new(Inner {
                forwards: Forwards::new(c.client.clone()),
                client: c.client,
                context: c.context,
                namespace: c.namespace,
                project_id: project_id.to_owned(),
                docker,
                applier: Applier::default(),
                placement: OnceCell::new(),
                pushed: Mutex::default(),
                pods: Arc::new(PodCache::default()),
                images: Mutex::default(),
                templates: Mutex::default(),
                reported: Mutex::default(),
                sinks: Mutex::default(),
                updater: Arc::new(updater),
                spawner: Arc::new(RealSpawner::default()),
                custom_pods: Mutex::default(),
            }),
        }
    }

    pub fn context(&self) -> &str {
        &self.inner.context
    }

    pub fn default_namespace(&self) -> &str {
        &self.inner.namespace
    }

    pub fn client(&self) -> Client {
        self.inner.client.clone()
    }

    /// API write calls made so far (apply, create, delete): a reload that changes
    /// nothing must make none.
    pub fn writes(&self) -> u64 {
        self.inner.applier.writes()
    }

    /// `stilt down`: deletes every object labelled with this project's id (all
    /// listable kinds, namespaced and cluster-scoped), except objects annotated
    /// `tilt.dev/down-policy: keep`; Namespaces only when `delete_namespaces`. Logs
    /// one line per object.
    pub async fn down(
        &self,
        delete_namespaces: bool,
        log: LineSink,
    ) -> Result<DownReport, K8sError> {
        let applier = &self.inner.applier;
        let report = down::down(
            &self.inner.client,
            &self.inner.project_id,
            delete_namespaces,
            log,
            || applier.count_write(),
        )
        .await;
        applier.forget_all();
        report
    }

    /// Whether the cluster runs its pods on the local Docker Engine: asked of the
    /// cluster once per connection.
    pub async fn placement(&self) -> Result<&Placement, K8sError> {
        self.inner
            .placement
            .get_or_try_init(|| async {
                let nodes: Api<Node> = Api::all(self.inner.client.clone());
                let list =
                    nodes
                        .list(&ListParams::default())
                        .await
                        .map_err(|e| K8sError::Nodes {
                            message: super::api_message(&e),
                        })?;
                let facts: Vec<NodeFacts> = list.items.iter().map(NodeFacts::of).collect();
                let local = local_facts(self.inner.docker.as_ref()).await;
                Ok(decide(&facts, &local))
            })
            .await
    }

    /// Whether the images `spec` uses must never be pulled (the cluster runs on the
    /// Engine that built them); an error when the cluster cannot see them.
    async fn never_pull(
        &self,
        resource: &Resource,
        spec: &K8sSpec,
        images: &BTreeMap<String, String>,
    ) -> Result<bool, K8sError> {
        let Some(image) = spec.images.iter().find_map(|i| images.get(i)) else {
            return Ok(false);
        };
        match self.placement().await? {
            Placement::LocalEngine => Ok(true),
            // The engine pushed it (`image_route` said so) before deploying.
            Placement::Elsewhere { .. } if self.was_routed(&resource.name) => Ok(false),
            Placement::Elsewhere { why } => Err(K8sError::NeedsRegistry {
                resource: resource.name.to_string(),
                image: image.clone(),
                why: why.clone(),
            }),
        }
    }

    /// Records what the resource's latest deploy used: its images, its log.
    fn remember(
        &self,
        resource: &Resource,
        spec: &K8sSpec,
        images: &BTreeMap<String, String>,
        log: LineSink,
    ) {
        let tagged: Vec<String> = spec
            .images
            .iter()
            .filter_map(|i| images.get(i))
            .cloned()
            .collect();
        if let Ok(mut m) = self.inner.images.lock() {
            m.insert(resource.name.clone(), tagged);
        }
        if let Ok(mut m) = self.inner.sinks.lock() {
            m.insert(resource.name.clone(), log);
        }
    }

    /// `k8s_custom_deploy`: runs the apply command and learns the resource's pods
    /// from the objects it printed.
    async fn deploy_custom(
        &self,
        resource: &Resource,
        spec: &K8sSpec,
        deploy: &CustomDeploy,
        images: &BTreeMap<String, String>,
        log: LineSink,
    ) -> Result<(), K8sError> {
        self.never_pull(resource, spec, images).await?;
        let name = resource.name.as_str();
        log(
            Stream::System,
            format!("running apply_cmd: {}", deploy.apply.cmd),
        );
        let env = custom::apply_env(deploy, images);
        let spawner = &*self.inner.spawner;
        let out = custom::run(spawner, name, "apply", &deploy.apply, env, true, &log).await?;
        let cmd = deploy.apply.cmd.to_string();
        let objects = custom::applied_objects(name, &cmd, &out)?;
        for o in &objects {
            let ns = o.namespace.as_deref().unwrap_or(&self.inner.namespace);
            log(
                Stream::System,
                format!("applied {}/{} in {ns}", o.kind, o.name),
            );
        }
        let selectors = custom::pod_selectors(&objects, &self.inner.namespace);
        if let Ok(mut m) = self.inner.custom_pods.lock() {
            m.insert(resource.name.clone(), selectors);
        }
        self.remember(resource, spec, images, log);
        Ok(())
    }

    async fn deploy_spec(
        &self,
        resource: &Resource,
        spec: &K8sSpec,
        images: &BTreeMap<String, String>,
        log: LineSink,
    ) -> Result<(), K8sError> {
        if let Some(deploy) = &spec.custom {
            return self
                .deploy_custom(resource, spec, deploy, images, log)
                .await;
        }
        let never_pull = self.never_pull(resource, spec, images).await?;
        let bodies = inject(spec, images, never_pull)?;
        let mut templates = HashSet::new();
        for mut body in bodies {
            stamp(&mut body, &self.inner.project_id, resource.name.as_str());
            default_protocols(&mut body);
            templates.extend(stamp_template_hash(&mut body));
            self.inner
                .applier
                .apply(&self.inner.client, body, &self.inner.namespace, &log)
                .await?;
        }
        self.remember(resource, spec, images, log);
        if let Ok(mut m) = self.inner.templates.lock() {
            m.insert(resource.name.clone(), templates);
        }
        Ok(())
    }

    fn was_routed(&self, name: &ResourceName) -> bool {
        self.inner.pushed.lock().is_ok_and(|p| p.contains(name))
    }

    async fn pod_of(&self, resource: &Resource) -> Result<Option<Pod>, K8sError> {
        let Some(member) = Member::of(resource, &self.inner.namespace) else {
            return Ok(None);
        };
        let project = &self.inner.project_id;
        let pods = match self.inner.pods.pods_of(&member, project) {
            Some(pods) => pods,
            None => list_pods(&self.inner.client, &member, project).await?,
        };
        let templates = self
            .inner
            .templates
            .lock()
            .ok()
            .and_then(|m| m.get(&resource.name).cloned());
        let custom = resource.k8s().is_some_and(|s| s.custom.is_some());
        let selectors = self
            .inner
            .custom_pods
            .lock()
            .ok()
            .and_then(|m| m.get(&resource.name).cloned())
            .unwrap_or_default();
        let latest = pods
            .iter()
            .filter(|p| member.of_latest_deploy(p, templates.as_ref()))
            .filter(|p| !custom || custom_owns(&member, &selectors, p));
        Ok(current_pod(latest).cloned())
    }

    /// Points the resource's port forwards at its pod once that pod runs.
    fn forward(&self, resource: &Resource, spec: &K8sSpec, status: &ContainerStatus) {
        if spec.port_forwards.is_empty() || status.state != ContainerState::Running {
            return;
        }
        let Some((ns, pod)) = status.id.split_once('/') else {
            return;
        };
        let sink = self
            .inner
            .sinks
            .lock()
            .ok()
            .and_then(|m| m.get(&resource.name).cloned());
        if let Some(log) = sink {
            let pod = Some((ns.to_owned(), pod.to_owned()));
            self.inner
                .forwards
                .set(&resource.name, pod, &spec.port_forwards, log);
        }
    }

    async fn status_of(&self, resource: &Resource) -> Result<Option<ContainerStatus>, K8sError> {
        let Some(spec) = resource.k8s() else {
            return Ok(None);
        };
        let Some(pod) = self.pod_of(resource).await? else {
            return Ok(None);
        };
        // Known before update_target (synchronous) needs it; a failure only means
        // live update goes through exec.
        let _ = self.placement().await;
        let status = pod_status(&pod);
        if let Ok(mut m) = self.inner.reported.lock() {
            m.insert(status.id.clone(), pod);
        }
        self.forward(resource, spec, &status);
        Ok(Some(status))
    }

    async fn remove_spec(
        &self,
        resource: &Resource,
        spec: &K8sSpec,
        log: LineSink,
    ) -> Result<(), K8sError> {
        self.inner
            .forwards
            .set(&resource.name, None, &spec.port_forwards, log.clone());
        if let Some(deploy) = &spec.custom {
            if let Ok(mut m) = self.inner.custom_pods.lock() {
                m.remove(&resource.name);
            }
            let name = resource.name.as_str();
            log(
                Stream::System,
                format!("running delete_cmd: {}", deploy.delete.cmd),
            );
            let env = deploy.delete.env.clone();
            let spawner = &*self.inner.spawner;
            custom::run(spawner, name, "delete", &deploy.delete, env, false, &log).await?;
            return Ok(());
        }
        let applier = &self.inner.applier;
        for object in spec.objects.iter().rev() {
            let mut body = object.body.clone();
            let (key, api) = applier
                .locate(&self.inner.client, &mut body, &self.inner.namespace)
                .await?;
            applier.count_write();
            match api.delete(&key.name, &DeleteParams::background()).await {
                Ok(_) => log(Stream::System, format!("{} deleted", key.describe())),
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(api_error(&key, "delete", &e)),
            }
            applier.forget(&key);
        }
        if let Ok(mut m) = self.inner.templates.lock() {
            m.remove(&resource.name);
        }
        Ok(())
    }

    /// The container to live-update in `pod`: the first running an image this target
    /// deployed, else the first.
    fn update_target_of(&self, namespace: &str, name: &str) -> UpdateTarget {
        let pod = self
            .inner
            .reported
            .lock()
            .ok()
            .and_then(|m| m.get(&format!("{namespace}/{name}")).cloned());
        let deployed: HashSet<String> = self
            .inner
            .images
            .lock()
            .map(|m| m.values().flatten().cloned().collect())
            .unwrap_or_default();
        let containers = pod
            .as_ref()
            .and_then(|p| p.spec.as_ref())
            .map(|s| s.containers.as_slice())
            .unwrap_or(&[]);
        let container = containers
            .iter()
            .find(|c| c.image.as_ref().is_some_and(|i| deployed.contains(i)))
            .or(containers.first())
            .map(|c| c.name.clone())
            .unwrap_or_default();
        let local = self.inner.placement.get().is_some_and(Placement::is_local);
        let docker = pod
            .as_ref()
            .and_then(|p| p.status.as_ref()?.container_statuses.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.name == container))
            .and_then(|c| docker_id(c.container_id.as_deref()?).map(str::to_owned))
            .filter(|_| local);
        UpdateTarget::Pod {
            namespace: namespace.to_owned(),
            pod: name.to_owned(),
            container,
            docker_id: docker,
        }
    }
}

/// Whether `pod` is a custom deploy's: its workloads' pods (by the labels of what
/// the apply printed), or one its `extra_pod_selectors` pick.
fn custom_owns(member: &Member, selectors: &[PodSelector], pod: &Pod) -> bool {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    let labels = pod.metadata.labels.as_ref();
    selectors.iter().any(|s| s.matches(ns, labels))
        || member.selectors.iter().any(|sel| {
            !sel.is_empty() && labels.is_some_and(|l| sel.iter().all(|(k, v)| l.get(k) == Some(v)))
        })
}

fn spec_of(resource: &Resource) -> Result<&K8sSpec, TargetError> {
    resource.k8s().ok_or_else(|| TargetError::WrongKind {
        resource: resource.name.clone(),
        target: K8S_TARGET,
    })
}

impl DeployTarget for K8sTarget {
    fn image_route<'a>(
        &'a self,
        resource: &'a Resource,
        configured: Option<&'a RegistrySpec>,
    ) -> BoxFuture<'a, Result<ImageRoute, TargetError>> {
        Box::pin(async move {
            let placement = self.placement().await.map_err(TargetError::failed)?;
            let image = resource.images().first().copied().unwrap_or_default();
            let route = registry_hosting::image_route(
                &self.inner.client,
                placement,
                resource.name.as_str(),
                image,
                configured,
            )
            .await
            .map_err(TargetError::failed)?;
            if let Ok(mut pushed) = self.inner.pushed.lock() {
                match route {
                    ImageRoute::Push(_) => pushed.insert(resource.name.clone()),
                    ImageRoute::Local => pushed.remove(&resource.name),
                };
            }
            Ok(route)
        })
    }

    fn deploy<'a>(
        &'a self,
        resource: &'a Resource,
        images: &'a BTreeMap<String, String>,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async move {
            let spec = spec_of(resource)?;
            self.deploy_spec(resource, spec, images, log)
                .await
                .map_err(TargetError::failed)
        })
    }

    fn status<'a>(
        &'a self,
        resource: &'a Resource,
    ) -> BoxFuture<'a, Result<Option<ContainerStatus>, TargetError>> {
        Box::pin(async move { self.status_of(resource).await.map_err(TargetError::failed) })
    }

    fn watch(&self, resources: &[Resource]) -> BoxStream<'static, Change> {
        let members: Vec<Member> = resources
            .iter()
            .filter_map(|r| Member::of(r, &self.inner.namespace))
            .collect();
        watch_pods(
            self.inner.client.clone(),
            self.inner.pods.clone(),
            self.inner.project_id.clone(),
            members,
        )
    }

    fn logs(
        &self,
        container: &UpdateTarget,
        since_unix: i64,
    ) -> BoxStream<'static, Result<(Stream, String), TargetError>> {
        let (namespace, pod) = match container {
            UpdateTarget::Pod { namespace, pod, .. } => (namespace.as_str(), pod.as_str()),
            UpdateTarget::Container { id } => id.split_once('/').unwrap_or(("", id.as_str())),
        };
        streams::follow_pod(self.inner.client.clone(), namespace, pod, since_unix)
    }

    fn remove<'a>(
        &'a self,
        resource: &'a Resource,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), TargetError>> {
        Box::pin(async move {
            let spec = spec_of(resource)?;
            self.remove_spec(resource, spec, log)
                .await
                .map_err(TargetError::failed)
        })
    }

    fn updater(&self) -> Arc<dyn ContainerUpdater> {
        self.inner.updater.clone()
    }

    fn update_target(&self, id: &str) -> UpdateTarget {
        let (namespace, pod) = id.split_once('/').unwrap_or(("", id));
        self.update_target_of(namespace, pod)
    }

    fn logs_follow_restarts(&self) -> bool {
        true
    }
}
