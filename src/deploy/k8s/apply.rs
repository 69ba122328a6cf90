//! Applying one object: server-side apply (field manager `stilt`, forced), skipped
//! when the object is what stilt applied last, and delete-then-create when the API
//! refuses the change because a field is immutable (a Job's template, a Service's
//! clusterIP), as Tilt does.
//!
//! "What stilt applied last" is a hash of the body per object, plus the uid and
//! generation (or resourceVersion) the API returned. An object is skipped only when
//! the body is the same and one read shows the live object is still that one,
//! unchanged: an object deleted or edited behind stilt's back is applied again, and a
//! reload that changes nothing writes nothing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kube::api::{Api, DeleteParams, DynamicObject, ObjectMeta, Patch, PatchParams};
use kube::{Client, Resource as _};
use serde_json::Value;

use super::K8sError;
use super::kinds::{Kinds, display};
use crate::process::{LineSink, Stream};

/// The field manager stilt applies as.
pub const FIELD_MANAGER: &str = "stilt";

/// How long a delete-then-create waits for the old object to go.
const RECREATE_WAIT: Duration = Duration::from_secs(60);
const RECREATE_POLL: Duration = Duration::from_millis(200);

/// An object, as the API knows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectKey {
    /// `deployment.apps/web in namespace ns`: how errors name it.
    pub fn describe(&self) -> String {
        let d = display(&self.api_version, &self.kind, &self.name);
        match &self.namespace {
            Some(ns) => format!("{d} in namespace {ns}"),
            None => d,
        }
    }
}

/// What stilt applied to an object last, and what the API made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub hash: String,
    pub uid: String,
    /// `metadata.generation`, else `metadata.resourceVersion`: changes when someone
    /// else changes the object.
    pub version: String,
}

impl Applied {
    fn of(hash: String, meta: &ObjectMeta) -> Applied {
        Applied {
            hash,
            uid: meta.uid.clone().unwrap_or_default(),
            version: version_of(meta),
        }
    }
}

fn version_of(meta: &ObjectMeta) -> String {
    match meta.generation {
        Some(g) => format!("g{g}"),
        None => format!("rv{}", meta.resource_version.as_deref().unwrap_or("")),
    }
}

/// Whether an object needs no apply: stilt applied this very body last and the live
/// object is still the one it made, changed by no one.
pub fn unchanged(last: Option<&Applied>, hash: &str, live: Option<&ObjectMeta>) -> bool {
    match (last, live) {
        (Some(last), Some(live)) => {
            last.hash == hash
                && live.uid.as_deref() == Some(last.uid.as_str())
                && version_of(live) == last.version
        }
        _ => false,
    }
}

/// Whether an API error means the object cannot be updated in place, only replaced.
pub fn needs_recreate(code: u16, reason: &str, message: &str) -> bool {
    let immutable = [
        "field is immutable",
        "may not change",
        "cannot change",
        "is immutable",
    ];
    code == 422 && reason == "Invalid" && immutable.iter().any(|m| message.contains(m))
}

/// The hash of a body as it would be applied.
pub fn body_hash(body: &Value) -> String {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    blake3::hash(&bytes).to_hex().to_string()
}

/// Applies objects and remembers what it applied; counts its writes.
#[derive(Default)]
pub struct Applier {
    pub kinds: Kinds,
    applied: Mutex<HashMap<ObjectKey, Applied>>,
    writes: AtomicU64,
}

impl Applier {
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    pub fn count_write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// Forgets what was applied to `key` (it was deleted).
    pub fn forget(&self, key: &ObjectKey) {
        if let Ok(mut m) = self.applied.lock() {
            m.remove(key);
        }
    }

    pub fn forget_all(&self) {
        if let Ok(mut m) = self.applied.lock() {
            m.clear();
        }
    }

    fn last(&self, key: &ObjectKey) -> Option<Applied> {
        self.applied.lock().ok()?.get(key).cloned()
    }

    fn remember(&self, key: ObjectKey, applied: Applied) {
        if let Ok(mut m) = self.applied.lock() {
            m.insert(key, applied);
        }
    }

    /// Where `body` goes and the API to reach it: its own namespace, else
    /// `default_ns` when its kind is namespaced (written into the body).
    pub async fn locate(
        &self,
        client: &Client,
        body: &mut Value,
        default_ns: &str,
    ) -> Result<(ObjectKey, Api<DynamicObject>), K8sError> {
        let field = |f: &str| body.get(f).and_then(Value::as_str).unwrap_or("").to_owned();
        let (api_version, kind) = (field("apiVersion"), field("kind"));
        let meta = body.get("metadata");
        let name = meta.and_then(|m| m.get("name")).and_then(Value::as_str);
        let name = name.unwrap_or("").to_owned();
        let own_ns = meta
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str);
        let own_ns = own_ns.filter(|n| !n.is_empty()).map(str::to_owned);
        let k = self.kinds.resolve(client, &api_version, &kind).await?;
        let (namespace, api) = if k.namespaced {
            let ns = own_ns.unwrap_or_else(|| default_ns.to_owned());
            if let Some(m) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert("namespace".into(), ns.clone().into());
            }
            let api = Api::namespaced_with(client.clone(), &ns, &k.resource);
            (Some(ns), api)
        } else {
            (None, Api::all_with(client.clone(), &k.resource))
        };
        let key = ObjectKey {
            api_version,
            kind,
            namespace,
            name,
        };
        Ok((key, api))
    }

    /// Applies `body` (its images already in place), logging what happened.
    pub async fn apply(
        &self,
        client: &Client,
        mut body: Value,
        default_ns: &str,
        log: &LineSink,
    ) -> Result<ObjectKey, K8sError> {
        let (key, api) = self.locate(client, &mut body, default_ns).await?;
        let shown = display(&key.api_version, &key.kind, &key.name);
        let hash = body_hash(&body);
        let last = self.last(&key);
        if last.as_ref().is_some_and(|l| l.hash == hash) {
            let live = api
                .get_opt(&key.name)
                .await
                .map_err(|e| api_error(&key, "read", &e))?;
            if unchanged(last.as_ref(), &hash, live.as_ref().map(|o| o.meta())) {
                log(Stream::System, format!("{shown} unchanged"));
                return Ok(key);
            }
        }
        let applied = match self.patch(&api, &key, &body).await {
            Ok(obj) => {
                log(Stream::System, format!("{shown} configured"));
                obj
            }
            Err(kube::Error::Api(s)) if needs_recreate(s.code, &s.reason, &s.message) => {
                log(
                    Stream::System,
                    format!("{shown}: {}; deleting it to create it again", s.message),
                );
                let obj = self.recreate(&api, &key, &body).await?;
                log(Stream::System, format!("{shown} recreated"));
                obj
            }
            Err(e) => return Err(api_error(&key, "apply", &e)),
        };
        self.remember(key.clone(), Applied::of(hash, applied.meta()));
        Ok(key)
    }

    async fn patch(
        &self,
        api: &Api<DynamicObject>,
        key: &ObjectKey,
        body: &Value,
    ) -> Result<DynamicObject, kube::Error> {
        self.count_write();
        let params = PatchParams::apply(FIELD_MANAGER).force();
        api.patch(&key.name, &params, &Patch::Apply(body)).await
    }

    /// Deletes the object (foreground: its pods go first), waits until it is gone,
    /// and applies `body` again.
    async fn recreate(
        &self,
        api: &Api<DynamicObject>,
        key: &ObjectKey,
        body: &Value,
    ) -> Result<DynamicObject, K8sError> {
        self.count_write();
        match api.delete(&key.name, &DeleteParams::foreground()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(api_error(key, "delete", &e)),
        }
        let deadline = Instant::now() + RECREATE_WAIT;
        while api
            .get_opt(&key.name)
            .await
            .map_err(|e| api_error(key, "read", &e))?
            .is_some()
        {
            if Instant::now() > deadline {
                return Err(K8sError::Api {
                    object: key.describe(),
                    doing: "recreate",
                    message: format!(
                        "it was still there {}s after it was deleted",
                        RECREATE_WAIT.as_secs()
                    ),
                });
            }
            tokio::time::sleep(RECREATE_POLL).await;
        }
        self.patch(api, key, body)
            .await
            .map_err(|e| api_error(key, "create", &e))
    }
}

pub fn api_error(key: &ObjectKey, doing: &'static str, e: &kube::Error) -> K8sError {
    K8sError::Api {
        object: key.describe(),
        doing,
        message: super::api_message(e),
    }
}

#[cfg(test)]
mod tests;
