//! `stilt down`: deletes every object this project applied, found by its labels in
//! every kind the cluster lists (namespaced and cluster-scoped), not from the
//! Tiltfile: objects a reload dropped go too. Objects annotated
//! `tilt.dev/down-policy: keep` stay, and Namespaces only go when asked, as in Tilt.

use std::collections::HashSet;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};
use kube::discovery::{Discovery, verbs};
use kube::{Client, ResourceExt};

use super::K8sError;
use super::kinds::display;
use super::labels::{DOWN_POLICY, MANAGED_BY, MANAGER, PROJECT, RESOURCE, label_value};
use crate::process::{LineSink, Stream};

/// What `down` did, one `kind/name (namespace)` per object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownReport {
    pub deleted: Vec<String>,
    pub kept: Vec<String>,
}

/// One object found for deletion.
#[derive(Debug, Clone)]
pub struct Found {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub keep: bool,
}

impl Found {
    pub fn shown(&self) -> String {
        let d = display(&self.api_version, &self.kind, &self.name);
        match &self.namespace {
            Some(ns) => format!("{d} (namespace {ns})"),
            None => d,
        }
    }
}

/// What to do with each object, in order: namespaced objects first, then
/// cluster-scoped ones, Namespaces last (deleting one takes its content along, and a
/// namespace holding pods takes long to go).
pub fn plan(
    mut found: Vec<Found>,
    delete_namespaces: bool,
) -> (Vec<Found>, Vec<(Found, &'static str)>) {
    found.sort_by_key(|f| (f.kind == "Namespace", f.namespace.is_none()));
    let mut delete = Vec::new();
    let mut keep = Vec::new();
    for f in found {
        if f.keep {
            keep.push((f, "annotated tilt.dev/down-policy: keep"));
        } else if f.kind == "Namespace" && !delete_namespaces {
            keep.push((f, "namespaces are deleted only with --delete-namespaces"));
        } else {
            delete.push(f);
        }
    }
    (delete, keep)
}

/// Lists every object labelled as this project's.
async fn find(
    client: &Client,
    project_id: &str,
) -> Result<Vec<(Found, Api<DynamicObject>)>, K8sError> {
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .map_err(|e| K8sError::Down {
            doing: "discover the cluster's kinds".into(),
            message: super::api_message(&e),
        })?;
    let selector = format!(
        "{MANAGED_BY}={MANAGER},{PROJECT}={}",
        label_value(project_id)
    );
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for group in discovery.groups() {
        for (ar, caps) in group.recommended_resources() {
            if !caps.supports_operation(verbs::LIST) || !caps.supports_operation(verbs::DELETE) {
                continue;
            }
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
            let list = api
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(|e| K8sError::Down {
                    doing: format!("list {} objects", ar.kind),
                    message: super::api_message(&e),
                })?;
            for obj in list.items {
                // The same object can be served by two groups (Ingress on old clusters).
                if !seen.insert(obj.uid().unwrap_or_default()) {
                    continue;
                }
                // Controllers copy a Service's labels onto its Endpoints and
                // EndpointSlices; only what stilt applied carries its annotation.
                if !obj.annotations().contains_key(RESOURCE) {
                    continue;
                }
                let keep = obj
                    .annotations()
                    .get(DOWN_POLICY)
                    .is_some_and(|v| v == "keep");
                let namespace = obj.namespace();
                let api = match &namespace {
                    Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
                    None => Api::all_with(client.clone(), &ar),
                };
                let found = Found {
                    api_version: ar.api_version.clone(),
                    kind: ar.kind.clone(),
                    namespace,
                    name: obj.name_any(),
                    keep,
                };
                out.push((found, api));
            }
        }
    }
    Ok(out)
}

/// Deletes this project's objects; `writes` is called once per delete request.
pub async fn down(
    client: &Client,
    project_id: &str,
    delete_namespaces: bool,
    log: LineSink,
    writes: impl Fn(),
) -> Result<DownReport, K8sError> {
    let found = find(client, project_id).await?;
    let apis: Vec<(String, Api<DynamicObject>)> =
        found.iter().map(|(f, a)| (f.shown(), a.clone())).collect();
    let (delete, keep) = plan(
        found.into_iter().map(|(f, _)| f).collect(),
        delete_namespaces,
    );
    let mut report = DownReport::default();
    for (f, why) in keep {
        log(Stream::System, format!("kept {} ({why})", f.shown()));
        report.kept.push(f.shown());
    }
    for f in delete {
        let shown = f.shown();
        let Some((_, api)) = apis.iter().find(|(s, _)| *s == shown) else {
            continue;
        };
        writes();
        match api.delete(&f.name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => {
                return Err(K8sError::Down {
                    doing: format!("delete {shown}"),
                    message: super::api_message(&e),
                });
            }
        }
        log(Stream::System, format!("deleted {shown}"));
        report.deleted.push(shown);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(kind: &str, ns: Option<&str>, name: &str, keep: bool) -> Found {
        Found {
            api_version: if kind == "Deployment" {
                "apps/v1".into()
            } else {
                "v1".into()
            },
            kind: kind.into(),
            namespace: ns.map(str::to_owned),
            name: name.into(),
            keep,
        }
    }

    #[test]
    fn namespaces_go_last_and_only_when_asked_and_kept_objects_stay() {
        let all = vec![
            found("Namespace", None, "team", false),
            found("Deployment", Some("team"), "web", false),
            found("ConfigMap", Some("team"), "settings", true),
            found("PersistentVolume", None, "pv", false),
        ];
        let (delete, keep) = plan(all.clone(), false);
        let names: Vec<String> = delete.iter().map(Found::shown).collect();
        assert_eq!(
            names,
            [
                "deployment.apps/web (namespace team)",
                "persistentvolume/pv"
            ]
        );
        let kept: Vec<(String, &str)> = keep.iter().map(|(f, w)| (f.shown(), *w)).collect();
        assert_eq!(
            kept,
            [
                (
                    "configmap/settings (namespace team)".to_owned(),
                    "annotated tilt.dev/down-policy: keep"
                ),
                (
                    "namespace/team".to_owned(),
                    "namespaces are deleted only with --delete-namespaces"
                ),
            ]
        );
        let (delete, _) = plan(all, true);
        assert_eq!(
            delete.last().map(Found::shown).as_deref(),
            Some("namespace/team")
        );
    }
}
