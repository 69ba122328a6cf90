//! The run worker of a deployed resource: a live update into the running container,
//! or a full update (build each image unless its inputs are unchanged, then deploy
//! through the resource's target). It reports how the run ended; what follows (a
//! live update that could not be applied becomes a full rebuild) is the reducer's call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::mpsc;

use super::images::ImageBuilds;
use super::tasks::stopped;
use super::update_plan::Update;
use crate::build::ImageBuilder;
use crate::build::registry::ImageRoute;
use crate::deploy::DeployTarget;
use crate::liveupdate::{ApplyError, apply, plan_initial_sync};
use crate::model::{ContainerState, ImageSpec, RegistrySpec, Resource, ResourceName, Stream};
use crate::process::LineSink;
use crate::store::{Action, RunId, RunOutcome};

pub struct DeployJob {
    pub run: RunId,
    pub resource: Resource,
    /// The images it deploys, each with the tag last built for it in this session.
    pub images: Vec<(ImageSpec, Option<String>)>,
    pub update: Update,
    /// The content hash of each file as last synced into the running container.
    pub synced: BTreeMap<PathBuf, String>,
    /// `default_registry(...)`, for targets that need images pushed.
    pub registry: Option<RegistrySpec>,
}

/// What the worker drives: resolved when the run starts (an Engine that is down is
/// this run's failure, not stilt's).
pub struct Backend {
    pub builder: Arc<dyn ImageBuilder>,
    pub target: Arc<dyn DeployTarget>,
    pub builds: ImageBuilds,
}

pub async fn run_deploy(
    job: DeployJob,
    backend: Result<Backend, String>,
    tx: mpsc::UnboundedSender<Action>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let log = sink(&tx, &job.resource.name);
    let outcome = match backend {
        Err(e) => RunOutcome::Failed(e),
        Ok(backend) => {
            let w = Worker {
                job: &job,
                backend,
                tx: &tx,
                log,
            };
            tokio::select! {
                o = w.update() => o,
                _ = stopped(&mut shutdown) => RunOutcome::Failed("stopped: stilt is shutting down".into()),
            }
        }
    };
    let _ = tx.send(Action::RunFinished {
        resource: job.resource.name.clone(),
        run: job.run,
        outcome,
        at: crate::clock::now(),
    });
}

/// A LineSink that turns lines into log actions for `name`.
pub fn sink(tx: &mpsc::UnboundedSender<Action>, name: &ResourceName) -> LineSink {
    let tx = tx.clone();
    let name = name.clone();
    Arc::new(move |stream: Stream, text: String| {
        let _ = tx.send(Action::Log {
            resource: Some(name.clone()),
            stream,
            text,
        });
    })
}

struct Worker<'a> {
    job: &'a DeployJob,
    backend: Backend,
    tx: &'a mpsc::UnboundedSender<Action>,
    log: LineSink,
}

impl Worker<'_> {
    fn say(&self, text: String) {
        (self.log)(Stream::System, text);
    }

    fn send(&self, action: Action) {
        let _ = self.tx.send(action);
    }

    fn name(&self) -> &ResourceName {
        &self.job.resource.name
    }

    async fn update(&self) -> RunOutcome {
        match &self.job.update {
            Update::Full { why } => {
                self.say(format!("full update: {why}"));
                self.full().await
            }
            Update::Live {
                container,
                plan,
                files,
            } => {
                let content = content_of(files.clone()).await;
                if unchanged(files, &content, &self.job.synced) && plan.deletes.is_empty() {
                    let n = files.len();
                    let s = if n == 1 { "" } else { "s" };
                    self.say(format!(
                        "live update skipped: the {n} changed file{s} hold what was synced last"
                    ));
                    return RunOutcome::Succeeded;
                }
                let updater = self.backend.target.updater();
                let target = self.backend.target.update_target(container);
                match apply(&*updater, &target, plan, self.log.clone()).await {
                    Ok(_) => {
                        self.send(Action::LiveUpdated {
                            resource: self.name().clone(),
                            container: container.clone(),
                            files: files.clone(),
                            content: content.into_iter().collect(),
                        });
                        RunOutcome::Succeeded
                    }
                    Err(ApplyError::Infra(e)) => RunOutcome::LiveUpdateFailed(e.to_string()),
                    Err(e) => RunOutcome::Failed(e.to_string()),
                }
            }
        }
    }

    /// How this run's images reach the target (asked only when there are some).
    async fn image_route(&self) -> Result<ImageRoute, String> {
        if self.job.images.is_empty() {
            return Ok(ImageRoute::Local);
        }
        let registry = self.job.registry.as_ref();
        self.backend
            .target
            .image_route(&self.job.resource, registry)
            .await
            .map_err(|e| e.to_string())
    }

    async fn full(&self) -> RunOutcome {
        let route = match self.image_route().await {
            Ok(r) => r,
            Err(e) => return RunOutcome::Failed(e),
        };
        let mut tagged = BTreeMap::new();
        for (spec, last) in &self.job.images {
            let built = self
                .backend
                .builds
                .ensure(
                    self.backend.builder.clone(),
                    spec,
                    last.as_deref(),
                    self.log.clone(),
                    self.tx,
                )
                .await;
            let built = match (built, &route) {
                (Ok(t), ImageRoute::Push(registry)) => {
                    let builds = &self.backend.builds;
                    let builder = self.backend.builder.clone();
                    let log = self.log.clone();
                    builds
                        .publish(builder, spec, &t, registry, log, self.tx)
                        .await
                }
                (built, _) => built,
            };
            match built {
                Ok(t) => tagged.insert(spec.image_ref.clone(), t),
                Err(e) => return RunOutcome::Failed(e),
            };
        }
        let target = &self.backend.target;
        let resource = &self.job.resource;
        if let Err(e) = target.deploy(resource, &tagged, self.log.clone()).await {
            return RunOutcome::Failed(e.to_string());
        }
        self.send(Action::Deployed {
            resource: self.name().clone(),
        });
        let status = match target.status(resource).await {
            Ok(s) => s,
            Err(e) => return RunOutcome::Failed(e.to_string()),
        };
        let running = status
            .as_ref()
            .filter(|s| s.state == ContainerState::Running)
            .map(|s| target.update_target(&s.id));
        self.send(Action::ContainerObserved {
            resource: self.name().clone(),
            status,
            at: crate::clock::now(),
        });
        let Some(running) = running else {
            return RunOutcome::Succeeded;
        };
        let updater = target.updater();
        for (spec, _) in self
            .job
            .images
            .iter()
            .filter(|(s, _)| s.live_update.initial_sync)
        {
            let plan = plan_initial_sync(&spec.live_update);
            if let Err(e) = apply(&*updater, &running, &plan, self.log.clone()).await {
                return RunOutcome::Failed(format!("initial_sync: {e}"));
            }
        }
        RunOutcome::Succeeded
    }
}

/// The content hash of each regular file among `files` (a directory, a missing file or
/// one that cannot be read has none). Reads files: off the async runtime.
async fn content_of(files: Vec<PathBuf>) -> BTreeMap<PathBuf, String> {
    tokio::task::spawn_blocking(move || {
        files
            .into_iter()
            .filter_map(|p| {
                let hash = hash_file(&p)?;
                Some((p, hash))
            })
            .collect()
    })
    .await
    .unwrap_or_default()
}

fn hash_file(path: &Path) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(std::fs::File::open(path).ok()?).ok()?;
    Some(hasher.finalize().to_hex().to_string())
}

/// Every changed file is a regular file whose content is what was synced last.
fn unchanged(
    files: &[PathBuf],
    content: &BTreeMap<PathBuf, String>,
    synced: &BTreeMap<PathBuf, String>,
) -> bool {
    !files.is_empty()
        && files
            .iter()
            .all(|f| content.get(f).is_some_and(|h| synced.get(f) == Some(h)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_that_all_hold_their_last_synced_content_are_unchanged() {
        let a = PathBuf::from("/p/a");
        let b = PathBuf::from("/p/b");
        let content = BTreeMap::from([(a.clone(), "h1".to_owned()), (b.clone(), "h2".to_owned())]);
        let synced = BTreeMap::from([(a.clone(), "h1".to_owned()), (b.clone(), "h2".to_owned())]);
        assert!(unchanged(&[a.clone(), b.clone()], &content, &synced));
        let edited = BTreeMap::from([(a.clone(), "h1".to_owned()), (b.clone(), "h3".to_owned())]);
        assert!(!unchanged(&[a.clone(), b.clone()], &edited, &synced));
        // Never synced, deleted (no content) or nothing changed: not "unchanged".
        let only_a = std::slice::from_ref(&a);
        assert!(!unchanged(only_a, &content, &BTreeMap::new()));
        assert!(!unchanged(only_a, &BTreeMap::new(), &synced));
        assert!(!unchanged(&[], &content, &synced));
    }
}
