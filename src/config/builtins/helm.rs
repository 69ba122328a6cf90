//! `helm(chart_dir, name, namespace, values, set, kube_version, skip_crds)`: renders a
//! local chart with the real `helm template` and returns the YAML as a blob, for
//! `k8s_yaml` (as in Tilt).
//!
//! Like Tilt: the release name defaults to `chart` (stable across loads), CRDs are
//! included unless `skip_crds=True`, the chart's test hooks are dropped, and with
//! `namespace=` every object that names no namespace gets it (`helm template
//! --namespace` only sets `.Release.Namespace`). The chart directory (recursively),
//! local `file://` dependencies and the values files are watched: a change reloads
//! the Tiltfile. The command runs through the load's renderer
//! (`config::k8s::render`), so a reload whose chart did not change re-runs nothing.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail};
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::NoneType;

use super::args::str_or_list;
use super::blob::Blob;
use super::blob::Text;
use crate::config::collect::{Collector, current_dir, resolve};
use crate::config::k8s::render::{RenderSpec, find_program};
use crate::config::k8s::yaml;
use crate::model::K8sObject;

/// What `helm()` was asked for, paths resolved.
#[derive(Debug, Clone, Default)]
pub struct HelmArgs {
    pub chart: PathBuf,
    pub name: String,
    pub namespace: String,
    pub values: Vec<PathBuf>,
    pub set: Vec<String>,
    pub kube_version: String,
    pub skip_crds: bool,
}

/// `helm template`'s arguments, in Tilt's order.
pub fn template_args(a: &HelmArgs) -> Vec<String> {
    let name = if a.name.is_empty() { "chart" } else { &a.name };
    let mut args = vec![
        "template".to_owned(),
        name.to_owned(),
        a.chart.display().to_string(),
    ];
    args.push(
        if a.skip_crds {
            "--skip-crds"
        } else {
            "--include-crds"
        }
        .into(),
    );
    for (flag, v) in [
        ("--namespace", &a.namespace),
        ("--kube-version", &a.kube_version),
    ] {
        if !v.is_empty() {
            args.extend([flag.to_owned(), v.clone()]);
        }
    }
    for v in &a.values {
        args.extend(["--values".to_owned(), v.display().to_string()]);
    }
    for s in &a.set {
        args.extend(["--set".to_owned(), s.clone()]);
    }
    args
}

/// Chart directories of the chart's `file://` dependencies (`Chart.yaml`), which
/// `helm template` reads too.
pub fn local_dependencies(chart: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(chart.join("Chart.yaml")) else {
        return Vec::new();
    };
    let Ok(v) = serde_saphyr::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    let deps = v.get("dependencies").and_then(|d| d.as_array());
    deps.into_iter()
        .flatten()
        .filter_map(|d| d.get("repository")?.as_str()?.strip_prefix("file://"))
        .map(|p| crate::config::collect::normalize(&chart.join(p)))
        .collect()
}

/// Whether the object is a chart test (`helm.sh/hook: test`, `test-success`, ...),
/// which `helm template` prints but Tilt leaves out.
fn is_test_hook(o: &K8sObject) -> bool {
    o.body
        .pointer("/metadata/annotations/helm.sh~1hook")
        .and_then(|v| v.as_str())
        .is_some_and(|h| h.split(',').any(|p| p.trim().starts_with("test")))
}

/// Kinds that live in no namespace: `namespace=` is not given to them.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "APIService",
];

fn needs_namespace(o: &K8sObject) -> bool {
    o.namespace.is_none() && !CLUSTER_SCOPED.contains(&o.kind.as_str())
}

/// The rendered YAML as `helm()` returns it: test hooks dropped, `namespace` given to
/// objects without one. Unchanged text when there is nothing to change.
pub fn postprocess(text: &str, source: &str, namespace: &str) -> anyhow::Result<String> {
    let objects = yaml::parse_objects(text, source)?;
    let tests = objects.iter().any(is_test_hook);
    let unplaced = objects.iter().any(needs_namespace);
    if !tests && (namespace.is_empty() || !unplaced) {
        return Ok(text.to_owned());
    }
    let mut kept: Vec<K8sObject> = objects.into_iter().filter(|o| !is_test_hook(o)).collect();
    if !namespace.is_empty() {
        for o in kept.iter_mut().filter(|o| needs_namespace(o)) {
            o.namespace = Some(namespace.to_owned());
            if let Some(meta) = o.body.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                meta.insert("namespace".into(), namespace.into());
            }
        }
    }
    Ok(yaml::to_text(&kept))
}

/// The environment variables `helm template` reads (its `HELM_*` settings).
fn helm_env(c: &Collector) -> Vec<(String, String)> {
    c.environ()
        .into_iter()
        .filter(|(k, _)| k.starts_with("HELM_"))
        .collect()
}

fn chart_dir(eval: &Evaluator, path: &str) -> anyhow::Result<PathBuf> {
    let chart = resolve(eval, path);
    match std::fs::metadata(&chart) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("helm(): chart directory {} does not exist", chart.display())
        }
        Err(e) => bail!(
            "helm(): cannot read chart directory {}: {e}",
            chart.display()
        ),
        Ok(m) if !m.is_dir() => bail!(
            "helm(): {} is not a directory; helm() takes a local chart directory (with \
             Chart.yaml)",
            chart.display()
        ),
        Ok(_) => Ok(chart),
    }
}

pub fn missing_helm() -> anyhow::Error {
    anyhow!(
        "helm(): the `helm` binary was not found on $PATH; install Helm 3 or later \
         (https://helm.sh/docs/intro/install/) and put it on $PATH"
    )
}

#[starlark_module]
fn helm_module(b: &mut GlobalsBuilder) {
    #[allow(clippy::too_many_arguments)]
    fn helm<'v>(
        #[starlark(require = pos)] paths: Text,
        #[starlark(default = "")] name: &str,
        #[starlark(default = "")] namespace: &str,
        #[starlark(default = NoneType)] values: Value<'v>,
        #[starlark(default = NoneType)] set: Value<'v>,
        #[starlark(default = "")] kube_version: &str,
        #[starlark(default = false)] skip_crds: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Blob> {
        let paths = paths.as_str();
        let c = Collector::get(eval)?;
        let chart = chart_dir(eval, paths)?;
        let values: Vec<PathBuf> = str_or_list(Some(values), "helm(values=)")?
            .iter()
            .map(|v| resolve(eval, v))
            .collect();
        let mut inputs = vec![chart.clone()];
        inputs.extend(local_dependencies(&chart));
        inputs.extend(values.iter().cloned());
        for p in &inputs {
            c.record_read(p);
        }
        let dir = current_dir(eval);
        let program =
            find_program("helm", &dir, c.getenv("PATH").as_deref()).ok_or_else(missing_helm)?;
        let args = HelmArgs {
            chart: chart.clone(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            values,
            set: str_or_list(Some(set), "helm(set=)")?,
            kube_version: kube_version.to_owned(),
            skip_crds,
        };
        let spec = RenderSpec {
            program,
            args: template_args(&args),
            dir,
            env: helm_env(c),
            inputs,
        };
        c.output
            .borrow_mut()
            .push(format!("helm: {}", spec.args.join(" ")));
        let text = c
            .renders
            .render(&spec)
            .map_err(|e| anyhow!("helm(): {e}"))?;
        let source = format!("helm: {}", chart.display());
        let text = postprocess(&text, &source, namespace).map_err(|e| anyhow!("helm(): {e}"))?;
        Ok(Blob::new(text))
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    helm_module(b);
}

#[cfg(test)]
#[path = "helm_tests.rs"]
pub(crate) mod tests;
