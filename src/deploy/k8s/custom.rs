//! `k8s_custom_deploy`: running the user's apply and delete commands, and reading
//! what the apply printed to learn which pods the resource has.
//!
//! The commands run through the [`Spawner`] (so tests can script them). The apply's
//! stdout is the YAML of the objects it applied, as `kubectl apply -o yaml` prints
//! it; its stderr goes to the resource's log as it comes. The pods of the applied
//! workloads are found by their pod template's labels in their namespace (the
//! workloads are not stilt's, so they carry no stilt label): [`pod_selectors`],
//! pure, decides that.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::config::k8s::images::{pod_labels_pointer, pod_spec_pointer};
use crate::config::k8s::yaml::parse_objects;
use crate::model::{CustomCmd, CustomDeploy, Exit, K8sObject, Stream};
use crate::process::{LineSink, ProcSpec, ProcessError, Spawner};

/// How many lines of a failed command's output its error quotes.
const TAIL_LINES: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum CustomError {
    #[error("{resource}: cannot start {which} command `{cmd}`: {source}")]
    Start {
        resource: String,
        which: &'static str,
        cmd: String,
        #[source]
        source: ProcessError,
    },
    #[error("{resource}: {which} command `{cmd}` failed ({exit}); last output:\n{tail}")]
    Failed {
        resource: String,
        which: &'static str,
        cmd: String,
        exit: Exit,
        tail: String,
    },
    #[error(
        "{resource}: apply command `{cmd}` must print the YAML of the objects it applied \
         (for example `kubectl apply -o yaml ...`): {message}"
    )]
    BadOutput {
        resource: String,
        cmd: String,
        message: String,
    },
}

/// Pods with all of `labels`, in `namespace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSelector {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
}

impl PodSelector {
    pub fn matches(&self, namespace: &str, labels: Option<&BTreeMap<String, String>>) -> bool {
        namespace == self.namespace
            && labels.is_some_and(|l| self.labels.iter().all(|(k, v)| l.get(k) == Some(v)))
    }
}

/// The environment of the apply command: its `apply_env`, then `TILT_IMAGE_MAP_i`
/// (the `image_deps` entry) and `TILT_IMAGE_i` (the image built for it), as Tilt
/// sets them.
pub fn apply_env(
    deploy: &CustomDeploy,
    built: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut env = deploy.apply.env.clone();
    for (i, image) in deploy.image_deps.iter().enumerate() {
        env.insert(format!("TILT_IMAGE_MAP_{i}"), image.clone());
        let tagged = built.get(image).cloned().unwrap_or_else(|| image.clone());
        env.insert(format!("TILT_IMAGE_{i}"), tagged);
    }
    env
}

/// The objects the apply printed.
pub fn applied_objects(
    resource: &str,
    cmd: &str,
    stdout: &str,
) -> Result<Vec<K8sObject>, CustomError> {
    let bad = |message: String| CustomError::BadOutput {
        resource: resource.to_owned(),
        cmd: cmd.to_owned(),
        message,
    };
    let objects = parse_objects(stdout, "its output").map_err(|e| bad(e.to_string()))?;
    if objects.is_empty() {
        return Err(bad("it printed no object".into()));
    }
    Ok(objects)
}

/// The selectors of the pods `objects` run: each workload's pod template labels (a
/// Pod's own labels), in its namespace (`default_ns` when it has none).
pub fn pod_selectors(objects: &[K8sObject], default_ns: &str) -> Vec<PodSelector> {
    let mut out = Vec::new();
    for o in objects {
        if pod_spec_pointer(o).is_none() {
            continue;
        }
        let Some(Value::Object(labels)) = pod_labels_pointer(o).and_then(|p| o.body.pointer(&p))
        else {
            continue;
        };
        let labels: BTreeMap<String, String> = labels
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect();
        if labels.is_empty() {
            continue;
        }
        let selector = PodSelector {
            namespace: o.namespace.clone().unwrap_or_else(|| default_ns.to_owned()),
            labels,
        };
        if !out.contains(&selector) {
            out.push(selector);
        }
    }
    out
}

/// Runs `cmd` with `env` (added to its own); stderr lines go to `log` as they come,
/// stdout is returned (and, unless `capture`, logged too). A non-zero exit is an
/// error quoting the last lines of output.
pub async fn run(
    spawner: &dyn Spawner,
    resource: &str,
    which: &'static str,
    cmd: &CustomCmd,
    env: BTreeMap<String, String>,
    capture: bool,
    log: &LineSink,
) -> Result<String, CustomError> {
    let spec = ProcSpec {
        argv: cmd.cmd.argv(),
        dir: cmd.dir.clone(),
        env,
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut child = spawner
        .spawn(&spec, tx)
        .map_err(|source| CustomError::Start {
            resource: resource.to_owned(),
            which,
            cmd: cmd.cmd.to_string(),
            source,
        })?;
    let mut stdout = String::new();
    let mut tail: VecDeque<String> = VecDeque::new();
    // The channel closes when the process and its output are done.
    while let Some((stream, line)) = rx.recv().await {
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line.clone());
        match stream {
            Stream::Stdout if capture => {
                stdout.push_str(&line);
                stdout.push('\n');
            }
            s => log(s, line),
        }
    }
    let exit = child.wait().await.map_err(|source| CustomError::Start {
        resource: resource.to_owned(),
        which,
        cmd: cmd.cmd.to_string(),
        source,
    })?;
    if !exit.success() {
        return Err(CustomError::Failed {
            resource: resource.to_owned(),
            which,
            cmd: cmd.cmd.to_string(),
            exit,
            tail: Vec::from(tail).join("\n"),
        });
    }
    Ok(stdout)
}

/// `stilt down`: runs the delete command of every custom deploy among `resources`,
/// in declaration order, each with its `delete_env` and `delete_dir`; goes on after
/// a failure and returns every error.
pub async fn delete_all(
    spawner: &dyn Spawner,
    resources: &[crate::model::Resource],
    log: &LineSink,
) -> Vec<CustomError> {
    let mut errors = Vec::new();
    for r in resources {
        let Some(deploy) = r.k8s().and_then(|s| s.custom.as_ref()) else {
            continue;
        };
        log(
            Stream::System,
            format!("{}: running delete_cmd: {}", r.name, deploy.delete.cmd),
        );
        let env = deploy.delete.env.clone();
        let name = r.name.as_str();
        if let Err(e) = run(spawner, name, "delete", &deploy.delete, env, false, log).await {
            errors.push(e);
        }
    }
    errors
}

#[cfg(test)]
mod tests;
