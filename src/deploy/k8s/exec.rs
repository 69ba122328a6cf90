//! Live update of a pod's container through the exec API (Tilt's `kubectl exec`
//! path): files go in as a tar streamed into `tar -x`, deletions run `rm -rf`, run
//! steps run as given. Restarting a container is not something Kubernetes offers;
//! Tilt's answer is the `restart_process` extension, so `restart` says that.
//!
//! The copy runs `sh -c 'head -c N | tar -C / -x -f -'`: the exec protocol of
//! clusters before 1.29 cannot close stdin alone (see `remote.rs`), so the archive's
//! length tells the container where the input ends. The image thus needs `sh`,
//! `head` and `tar`; whichever is missing is named in `UpdateError::MissingTool`.

mod remote;

use futures_util::future::BoxFuture;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;

use crate::liveupdate::{ContainerUpdater, CopyFile, UpdateError, UpdateTarget, archive};
use crate::model::Cmd;
use crate::process::{LineSink, Stream};

use remote::{Finished, RemoteError};

/// Paths per `rm` exec, well under any argument-length limit.
const RM_BATCH: usize = 500;

/// Checks for the tools before piping the archive (`$1` is its length): without the
/// check, a missing `head` would feed `tar` nothing and "succeed". A tool counts when
/// a program of that name is on `PATH` (busybox's `sh` would also run its own applet,
/// but the image is meant to have `tar`, as Tilt requires).
const COPY_SCRIPT: &str = "for t in head tar; do found=; IFS=:; \
     for d in $PATH; do [ -x \"$d/$t\" ] && found=1; done; unset IFS; \
     [ -n \"$found\" ] || { echo \"stilt-missing-tool: $t\" >&2; exit 127; }; done; \
     head -c \"$1\" | tar -C / -x -f -";
const MISSING_MARK: &str = "stilt-missing-tool: ";

/// Patches containers of pods through the cluster's exec API.
#[derive(Clone)]
pub struct ExecUpdater {
    client: Client,
}

impl ExecUpdater {
    pub fn new(client: Client) -> Self {
        ExecUpdater { client }
    }
}

/// The pod container an update is for, with the name errors give it.
struct PodContainer {
    pods: Api<Pod>,
    pod: String,
    container: String,
    /// `web of pod default/web-7c9-x`, as `UpdateError`s name it.
    label: String,
}

impl PodContainer {
    fn of(
        client: &Client,
        target: &UpdateTarget,
        doing: &'static str,
    ) -> Result<Self, UpdateError> {
        let UpdateTarget::Pod {
            namespace,
            pod,
            container,
            ..
        } = target
        else {
            return Err(UpdateError::Unsupported {
                target: target.to_string(),
                doing,
                why: "the Kubernetes updater patches pods, not Docker containers".into(),
            });
        };
        Ok(PodContainer {
            pods: Api::namespaced(client.clone(), namespace),
            pod: pod.clone(),
            container: container.clone(),
            label: format!("{container} of pod {namespace}/{pod}"),
        })
    }

    async fn run(
        &self,
        doing: &'static str,
        argv: Vec<String>,
        stdin: Option<Vec<u8>>,
        line: &mut (dyn FnMut(Stream, String) + Send),
    ) -> Result<Finished, UpdateError> {
        remote::run(&self.pods, &self.pod, &self.container, argv, stdin, line)
            .await
            .map_err(|e| self.remote_error(doing, e))
    }

    /// A 404 (pod gone) or "container not found" becomes `NoSuchContainer`.
    fn remote_error(&self, doing: &'static str, error: RemoteError) -> UpdateError {
        let container = self.label.clone();
        let gone = match &error {
            RemoteError::Api(kube::Error::Api(status)) => {
                status.code == 404 || status.message.contains("not found")
            }
            RemoteError::NoStatus(message) => message.contains("not found"),
            RemoteError::Api(_) => false,
        };
        if gone {
            return UpdateError::NoSuchContainer { container, doing };
        }
        UpdateError::Cluster {
            container,
            doing,
            source: Box::new(error),
        }
    }

    fn missing(&self, doing: &'static str, tool: &str, why: &'static str) -> UpdateError {
        UpdateError::MissingTool {
            container: self.label.clone(),
            doing,
            tool: tool.to_owned(),
            why,
        }
    }

    async fn copy(&self, files: &[CopyFile]) -> Result<(), UpdateError> {
        const DOING: &str = "copy files";
        const WHY: &str =
            "copying files into a pod pipes a tar archive through `sh -c 'head | tar -x'`";
        let (label, owned) = (self.label.clone(), files.to_vec());
        let tar = tokio::task::spawn_blocking(move || archive::build(&label, &owned))
            .await
            .map_err(|e| UpdateError::ReadLocal {
                container: self.label.clone(),
                path: "(files to copy)".into(),
                source: std::io::Error::other(e),
            })??;
        let argv = ["sh", "-c", COPY_SCRIPT, "stilt-copy"].map(str::to_owned);
        let mut argv = argv.to_vec();
        argv.push(tar.len().to_string());
        let mut output = Vec::new();
        let mut keep = |_: Stream, line: String| output.push(line);
        let finished = self.run(DOING, argv, Some(tar), &mut keep).await?;
        if finished.not_found {
            return Err(self.missing(DOING, "sh", WHY));
        }
        if let Some(tool) = output.iter().find_map(|l| l.strip_prefix(MISSING_MARK)) {
            return Err(self.missing(DOING, tool.trim(), WHY));
        }
        if finished.code != 0 {
            return Err(UpdateError::CopyFailed {
                container: self.label.clone(),
                code: finished.code,
                output: output.join("\n"),
            });
        }
        Ok(())
    }

    async fn delete(&self, paths: &[String]) -> Result<(), UpdateError> {
        const DOING: &str = "delete files";
        for batch in paths.chunks(RM_BATCH) {
            let mut argv = vec!["rm".to_owned(), "-rf".to_owned(), "--".to_owned()];
            argv.extend(batch.iter().cloned());
            let mut output = Vec::new();
            let mut keep = |_: Stream, line: String| output.push(line);
            let finished = self.run(DOING, argv, None, &mut keep).await?;
            if finished.not_found {
                let why = "deleting synced files needs `rm` in the image";
                return Err(self.missing(DOING, "rm", why));
            }
            if finished.code != 0 {
                return Err(UpdateError::DeleteFailed {
                    container: self.label.clone(),
                    paths: batch.join(" "),
                    code: finished.code,
                    output: output.join("\n"),
                });
            }
        }
        Ok(())
    }

    async fn exec(&self, cmd: &Cmd, log: LineSink) -> Result<i64, UpdateError> {
        const DOING: &str = "run a live-update step";
        let argv = cmd.argv();
        let tool = argv.first().cloned().unwrap_or_default();
        let mut forward = |stream: Stream, line: String| log(stream, line);
        let finished = self.run(DOING, argv, None, &mut forward).await?;
        if finished.not_found {
            let why = match cmd {
                Cmd::Shell(_) => "a run step given as a string runs with `sh -c`",
                Cmd::Argv(_) => "a run step given as a list runs its first word",
            };
            return Err(self.missing(DOING, &tool, why));
        }
        Ok(finished.code)
    }
}

impl ContainerUpdater for ExecUpdater {
    fn copy<'a>(
        &'a self,
        target: &'a UpdateTarget,
        files: &'a [CopyFile],
    ) -> BoxFuture<'a, Result<(), UpdateError>> {
        Box::pin(async move {
            PodContainer::of(&self.client, target, "copy files")?
                .copy(files)
                .await
        })
    }

    fn delete<'a>(
        &'a self,
        target: &'a UpdateTarget,
        paths: &'a [String],
    ) -> BoxFuture<'a, Result<(), UpdateError>> {
        Box::pin(async move {
            PodContainer::of(&self.client, target, "delete files")?
                .delete(paths)
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
            PodContainer::of(&self.client, target, "run a live-update step")?
                .exec(cmd, log)
                .await
        })
    }

    fn restart<'a>(&'a self, target: &'a UpdateTarget) -> BoxFuture<'a, Result<(), UpdateError>> {
        Box::pin(async move {
            let pod = PodContainer::of(&self.client, target, "restart")?;
            Err(UpdateError::Unsupported {
                target: pod.label,
                doing: "restart",
                why: "restart_container() is not supported on Kubernetes; use the \
                      `restart_process` extension (docker_build_with_restart)"
                    .into(),
            })
        })
    }
}
