//! Live update into pods: through the Docker Engine's archive API when the pod's
//! container is one of the local Engine's (no `tar` needed in the image), else
//! through `exec` in the pod ([`super::streams::exec_updater`]).
//!
//! Restarting a container is refused, as in Tilt: Kubernetes restarts a container by
//! making a new one from the image, which loses every synced file.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::liveupdate::{ContainerUpdater, CopyFile, DockerUpdater, UpdateError, UpdateTarget};
use crate::model::Cmd;
use crate::process::LineSink;

/// Tilt's answer to `restart_container()` on Kubernetes.
pub const NO_RESTART: &str = "restart_container() is not supported on Kubernetes: a \
    restarted container starts from its image again. Restart the process inside the \
    container instead: the restart_process extension (docker_build_with_restart) or a \
    run() step that signals it";

pub struct PodUpdater {
    docker: Option<DockerUpdater>,
    exec: Option<Arc<dyn ContainerUpdater>>,
}

impl PodUpdater {
    pub fn new(docker: Option<DockerUpdater>, exec: Option<Arc<dyn ContainerUpdater>>) -> Self {
        PodUpdater { docker, exec }
    }

    /// The updater that reaches `target`, or why none does.
    fn route(
        &self,
        target: &UpdateTarget,
        doing: &'static str,
    ) -> Result<&dyn ContainerUpdater, UpdateError> {
        let unsupported = |why: &str| UpdateError::Unsupported {
            target: target.to_string(),
            doing,
            why: why.to_owned(),
        };
        match target {
            UpdateTarget::Container { .. } => {
                Err(unsupported("it is not a Kubernetes pod's container"))
            }
            UpdateTarget::Pod {
                docker_id: Some(_), ..
            } if self.docker.is_some() => match &self.docker {
                Some(d) => Ok(d),
                None => Err(unsupported("no Docker Engine connection")),
            },
            UpdateTarget::Pod { .. } => match &self.exec {
                Some(e) => Ok(e.as_ref()),
                None => Err(unsupported(
                    "the cluster does not run on the local Docker Engine, and exec-based \
                     live update is not available in this build",
                )),
            },
        }
    }
}

impl ContainerUpdater for PodUpdater {
    /// A pod container of the local Engine gets the Docker updater's sync channel.
    fn sync<'a>(
        &'a self,
        target: &'a UpdateTarget,
        deletes: &'a [String],
        copies: &'a [CopyFile],
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), UpdateError>> {
        Box::pin(async move {
            self.route(target, "sync files")?
                .sync(target, deletes, copies, log)
                .await
        })
    }

    fn copy<'a>(
        &'a self,
        target: &'a UpdateTarget,
        files: &'a [CopyFile],
    ) -> BoxFuture<'a, Result<(), UpdateError>> {
        Box::pin(async move { self.route(target, "copy files")?.copy(target, files).await })
    }

    fn delete<'a>(
        &'a self,
        target: &'a UpdateTarget,
        paths: &'a [String],
    ) -> BoxFuture<'a, Result<(), UpdateError>> {
        Box::pin(async move {
            self.route(target, "delete files")?
                .delete(target, paths)
                .await
        })
    }

    fn exec<'a>(
        &'a self,
        target: &'a UpdateTarget,
        cmd: &'a Cmd,
        log: LineSink,
    ) -> BoxFuture<'a, Result<i64, UpdateError>> {
        Box::pin(async move {
            self.route(target, "run a live-update step")?
                .exec(target, cmd, log)
                .await
        })
    }

    fn restart<'a>(&'a self, target: &'a UpdateTarget) -> BoxFuture<'a, Result<(), UpdateError>> {
        Box::pin(async move {
            Err(UpdateError::Unsupported {
                target: target.to_string(),
                doing: "restart",
                why: NO_RESTART.to_owned(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::liveupdate::FakeUpdater;

    fn pod(docker_id: Option<&str>) -> UpdateTarget {
        UpdateTarget::Pod {
            namespace: "ns".into(),
            pod: "web-1".into(),
            container: "web".into(),
            docker_id: docker_id.map(str::to_owned),
        }
    }

    #[tokio::test]
    async fn restart_is_refused_pointing_at_restart_process() {
        let u = PodUpdater::new(None, None);
        let err = u.restart(&pod(None)).await.expect_err("restart refused");
        let text = err.to_string();
        assert!(
            text.contains("restart_container() is not supported on Kubernetes"),
            "{text}"
        );
        assert!(text.contains("restart_process"), "{text}");
        assert!(text.contains("container web of pod ns/web-1"), "{text}");
    }

    #[tokio::test]
    async fn without_docker_or_exec_a_pod_update_says_exec_is_not_available() {
        let u = PodUpdater::new(None, None);
        let err = u
            .delete(&pod(Some("abc")), &["/x".into()])
            .await
            .expect_err("no route");
        assert!(
            err.to_string()
                .contains("exec-based live update is not available"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn pods_without_a_docker_id_go_through_exec() {
        let fake = Arc::new(FakeUpdater::new());
        let u = PodUpdater::new(None, Some(fake.clone()));
        u.delete(&pod(None), &["/x".into()])
            .await
            .expect("routed to exec");
        assert_eq!(fake.calls().len(), 1);
    }

    #[tokio::test]
    async fn docker_containers_are_not_this_updaters() {
        let u = PodUpdater::new(None, None);
        let err = u
            .delete(&UpdateTarget::container("abc"), &[])
            .await
            .expect_err("not a pod");
        assert!(err.to_string().contains("not a Kubernetes pod"), "{err}");
    }
}
