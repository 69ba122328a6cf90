//! The run worker of a compose resource: a live update into the running container,
//! or a full update (build the image unless its inputs are unchanged, then `up` the
//! service), and the report of how it ended.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, watch};

use super::compose_plan::ComposeUpdate;
use super::docker::DockerDeps;
use crate::build::{content_tag, tag::tagged_ref};
use crate::liveupdate::{apply, plan_initial_sync};
use crate::model::{ComposeService, ImageSpec, ResourceName};
use crate::process::{LineSink, Stream};
use crate::store::{Action, RunId, RunOutcome};

pub struct ComposeJob {
    pub name: ResourceName,
    pub run: RunId,
    pub service: ComposeService,
    pub image: Option<ImageSpec>,
    /// The tag last built for `image` in this session.
    pub last_tag: Option<String>,
    pub update: ComposeUpdate,
}

pub async fn run_compose(
    job: ComposeJob,
    docker: Result<DockerDeps, String>,
    tx: mpsc::UnboundedSender<Action>,
    mut shutdown: watch::Receiver<bool>,
) {
    let log = sink(&tx, &job.name);
    let outcome = match docker {
        Err(e) => RunOutcome::Failed(e),
        Ok(docker) => {
            let w = Worker {
                job: &job,
                docker,
                tx: &tx,
                log,
            };
            tokio::select! {
                o = w.update() => o,
                _ = shutdown.wait_for(|s| *s) => RunOutcome::Failed("stopped: stilt is shutting down".into()),
            }
        }
    };
    let _ = tx.send(Action::RunFinished {
        resource: job.name,
        run: job.run,
        outcome,
        at: Instant::now(),
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
    job: &'a ComposeJob,
    docker: DockerDeps,
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

    async fn update(&self) -> RunOutcome {
        match &self.job.update {
            ComposeUpdate::Full { why } => {
                self.say(format!("full update: {why}"));
                self.full().await
            }
            ComposeUpdate::Live {
                container,
                plan,
                files,
            } => {
                let applied = apply(&*self.docker.updater, container, plan, self.log.clone()).await;
                match applied {
                    Ok(_) => {
                        self.send(Action::LiveUpdated {
                            resource: self.job.name.clone(),
                            container: container.clone(),
                            files: files.clone(),
                        });
                        RunOutcome::Succeeded
                    }
                    Err(e) if !e.needs_rebuild() => RunOutcome::Failed(e.to_string()),
                    Err(e) => {
                        self.say(format!(
                            "live update failed: {e}; falling back to a full rebuild"
                        ));
                        self.full().await
                    }
                }
            }
        }
    }

    async fn full(&self) -> RunOutcome {
        let mut images = BTreeMap::new();
        if let Some(spec) = &self.job.image {
            match self.build(spec).await {
                Ok(tagged) => {
                    images.insert(self.job.service.service.clone(), tagged);
                }
                Err(e) => return RunOutcome::Failed(e),
            }
        }
        let svc = &self.job.service;
        if let Err(e) = self
            .docker
            .compose
            .up(&svc.project, &svc.service, &images, self.log.clone())
            .await
        {
            return RunOutcome::Failed(e.to_string());
        }
        self.send(Action::Deployed {
            resource: self.job.name.clone(),
        });
        let status = match self
            .docker
            .runtime
            .status(&svc.project.name, &svc.service)
            .await
        {
            Ok(s) => s,
            Err(e) => return RunOutcome::Failed(e.to_string()),
        };
        let running = status
            .as_ref()
            .filter(|s| s.state == crate::model::ContainerState::Running)
            .map(|s| s.id.clone());
        self.send(Action::ContainerObserved {
            resource: self.job.name.clone(),
            status,
            at: Instant::now(),
        });
        match (&self.job.image, running) {
            (Some(spec), Some(id)) if spec.live_update.initial_sync => {
                let plan = plan_initial_sync(&spec.live_update);
                match apply(&*self.docker.updater, &id, &plan, self.log.clone()).await {
                    Ok(_) => RunOutcome::Succeeded,
                    Err(e) => RunOutcome::Failed(format!("initial_sync: {e}")),
                }
            }
            _ => RunOutcome::Succeeded,
        }
    }

    /// Builds the image unless its inputs hash to the tag already built; returns the tag.
    async fn build(&self, spec: &ImageSpec) -> Result<String, String> {
        let owned = spec.clone();
        let tag = tokio::task::spawn_blocking(move || content_tag(&owned))
            .await
            .map_err(|e| format!("internal error: hashing {} crashed: {e}", spec.image_ref))?
            .map_err(|e| e.to_string())?;
        let tagged = tagged_ref(spec, &tag);
        let reuse = if self.job.last_tag.as_deref() == Some(tagged.as_str()) {
            self.say(format!("image {tagged}: inputs unchanged, build skipped"));
            true
        } else if self.job.last_tag.is_none()
            && self.docker.builder.exists(&tagged).await.unwrap_or(false)
        {
            self.say(format!("image {tagged}: already built, reusing it"));
            true
        } else {
            false
        };
        if !reuse {
            self.say(format!("building {tagged}"));
            self.docker
                .builder
                .build(spec, &tagged, self.log.clone())
                .await
                .map_err(|e| e.to_string())?;
        }
        self.send(Action::ImageBuilt {
            image_ref: spec.image_ref.clone(),
            tagged: tagged.clone(),
        });
        Ok(tagged)
    }
}
