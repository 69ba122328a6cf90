//! `DockerBuilder`: the real `ImageBuilder`, talking to the Docker Engine API through
//! bollard. docker_build contexts are streamed (see `context.rs`) to the legacy
//! builder; custom_build commands run locally (see `custom.rs`) and the Engine is
//! only asked whether they produced the image.
//!
//! Build output is forwarded line by line; on failure the error keeps the last
//! `Step n/m` line and what that step printed, which is what a person needs to see.

use std::collections::HashMap;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::{BuildImageOptionsBuilder, TagImageOptionsBuilder};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;

use super::context::{BuildContext, ContextStream};
use super::inputs::Inputs;
use super::{BuildError, ImageBuilder, custom, restart};
use crate::model::{DockerBuild, ImageBuild, ImageSpec};
use crate::process::{LineSink, Stream};

/// Lines of a failing step kept for the error message.
const STEP_TAIL: usize = 40;

/// Builds images with the local Docker Engine.
#[derive(Debug, Clone)]
pub struct DockerBuilder {
    docker: Docker,
    host: String,
}

impl DockerBuilder {
    pub fn new(docker: Docker) -> Self {
        DockerBuilder {
            docker,
            host: crate::docker::host(),
        }
    }

    /// The client, for callers that share the connection.
    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Turns a client error into `Unreachable` when the Engine could not be reached.
    pub(crate) fn error(
        &self,
        image: &str,
        doing: &'static str,
        source: DockerError,
    ) -> BuildError {
        match source {
            DockerError::HyperLegacyError { ref err } if err.is_connect() => {
                BuildError::Unreachable {
                    host: self.host.clone(),
                    source,
                }
            }
            DockerError::SocketNotFoundError(_) | DockerError::RequestTimeoutError => {
                BuildError::Unreachable {
                    host: self.host.clone(),
                    source,
                }
            }
            _ => BuildError::Engine {
                image: image.to_owned(),
                doing,
                source,
            },
        }
    }

    /// Whether `reference` exists locally.
    pub(crate) async fn image_exists(&self, reference: &str) -> Result<bool, BuildError> {
        match self.docker.inspect_image(reference).await {
            Ok(_) => Ok(true),
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(self.error(reference, "inspecting the image", e)),
        }
    }

    /// Tags `source` as `target` (`repo[:tag]`, `latest` when no tag).
    pub(crate) async fn tag(&self, source: &str, target: &str) -> Result<(), BuildError> {
        let (repo, tag) = split_ref(target);
        let opts = TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        self.docker
            .tag_image(source, Some(opts))
            .await
            .map_err(|e| self.error(target, "tagging the image", e))
    }

    async fn build_docker(
        &self,
        spec: &ImageSpec,
        b: &DockerBuild,
        tagged: &str,
        log: &LineSink,
    ) -> Result<(), BuildError> {
        if b.extra_hosts.len() > 1 {
            return Err(BuildError::Unsupported {
                image: spec.image_ref.clone(),
                what: "more than one extra_hosts entry",
                why: "the Engine API client sends a single extrahosts value",
            });
        }
        let ctx = prepare_context(spec, b).await?;
        log(
            Stream::System,
            format!("Building {tagged}: {} context entries", ctx.len()),
        );
        let opts = build_options(b, tagged, &ctx.dockerfile);
        let ContextStream { body, failure } = ctx.into_stream();
        let body = bollard::body_try_stream(body);
        let mut stream = self.docker.build_image(opts, None, Some(body));
        let mut out = BuildOutput::new(log.clone());
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    for text in [info.stream, info.status].into_iter().flatten() {
                        out.push(&text);
                    }
                    if let Some(message) = info.error_detail.and_then(|d| d.message) {
                        return Err(out.failed(&spec.image_ref, message));
                    }
                }
                Err(DockerError::DockerStreamError { error }) => {
                    return Err(out.failed(&spec.image_ref, error));
                }
                Err(e) => {
                    return Err(match ContextStream::failure(&failure) {
                        Some(message) => BuildError::Context {
                            image: spec.image_ref.clone(),
                            message,
                        },
                        None => self.error(&spec.image_ref, "building", e),
                    });
                }
            }
        }
        out.finish();
        for extra in &b.extra_tags {
            self.tag(tagged, extra).await?;
        }
        Ok(())
    }
}

impl ImageBuilder for DockerBuilder {
    fn build<'a>(
        &'a self,
        spec: &'a ImageSpec,
        tagged: &'a str,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), BuildError>> {
        Box::pin(async move {
            match &spec.build {
                ImageBuild::Docker(b) => self.build_docker(spec, b, tagged, &log).await?,
                ImageBuild::Custom(c) => custom::build(self, spec, c, tagged, &log).await?,
            }
            if let Some(r) = &spec.live_update.restart_process {
                restart::wrap(self, &spec.image_ref, tagged, r, &log).await?;
                if let ImageBuild::Docker(b) = &spec.build {
                    for extra in &b.extra_tags {
                        self.tag(tagged, extra).await?;
                    }
                }
            }
            Ok(())
        })
    }

    fn exists<'a>(&'a self, tagged: &'a str) -> BoxFuture<'a, Result<bool, BuildError>> {
        Box::pin(self.image_exists(tagged))
    }

    fn push<'a>(
        &'a self,
        local: &'a str,
        remote: &'a str,
        registry: &'a str,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), BuildError>> {
        Box::pin(super::push::push(
            &self.docker,
            local,
            remote,
            registry,
            log,
        ))
    }
}

/// Walks the context on a blocking thread (it stats every file).
async fn prepare_context(spec: &ImageSpec, b: &DockerBuild) -> Result<BuildContext, BuildError> {
    let inputs = Inputs::for_image(spec)?;
    let owned = b.clone();
    tokio::task::spawn_blocking(move || BuildContext::prepare(&owned, &inputs))
        .await
        .map_err(|e| BuildError::Join {
            image: spec.image_ref.clone(),
            message: e.to_string(),
        })?
}

fn build_options(
    b: &DockerBuild,
    tagged: &str,
    dockerfile: &str,
) -> bollard::query_parameters::BuildImageOptions {
    let args: HashMap<String, String> = b.build_args.clone().into_iter().collect();
    let mut o = BuildImageOptionsBuilder::default()
        .t(tagged)
        .dockerfile(dockerfile)
        .rm(true)
        .forcerm(true);
    if !args.is_empty() {
        o = o.buildargs(&args);
    }
    if let Some(t) = &b.target {
        o = o.target(t);
    }
    if let Some(n) = &b.network {
        o = o.networkmode(n);
    }
    if let Some(p) = &b.platform {
        o = o.platform(p);
    }
    if b.pull {
        o = o.pull("1");
    }
    if !b.cache_from.is_empty() {
        o = o.cachefrom(&b.cache_from);
    }
    if let Some(h) = b.extra_hosts.first() {
        o = o.extrahosts(h);
    }
    o.build()
}

/// `repo[:tag]` -> (`repo`, `tag`); the tag is after the last `:` that follows the
/// last `/` (a registry port is not a tag).
pub(crate) fn split_ref(r: &str) -> (&str, &str) {
    let name_start = r.rfind('/').map_or(0, |i| i + 1);
    match r[name_start..].rfind(':') {
        Some(i) => (&r[..name_start + i], &r[name_start + i + 1..]),
        None => (r, "latest"),
    }
}

/// Splits the Engine's output chunks into lines, forwards them, and remembers the
/// current step and what it printed.
struct BuildOutput {
    log: LineSink,
    partial: String,
    step: Option<String>,
    step_lines: std::collections::VecDeque<String>,
}

impl BuildOutput {
    fn new(log: LineSink) -> Self {
        BuildOutput {
            log,
            partial: String::new(),
            step: None,
            step_lines: Default::default(),
        }
    }

    fn push(&mut self, text: &str) {
        self.partial.push_str(text);
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            self.line(line.trim_end_matches(['\n', '\r']).to_owned());
        }
    }

    fn line(&mut self, line: String) {
        if line.starts_with("Step ") {
            self.step = Some(line.clone());
            self.step_lines.clear();
        } else {
            if self.step_lines.len() == STEP_TAIL {
                self.step_lines.pop_front();
            }
            self.step_lines.push_back(line.clone());
        }
        (self.log)(Stream::Stdout, line);
    }

    fn finish(&mut self) {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            self.line(rest);
        }
    }

    fn failed(&mut self, image: &str, message: String) -> BuildError {
        self.finish();
        (self.log)(Stream::Stderr, message.clone());
        BuildError::StepFailed {
            image: image.to_owned(),
            step: self.step.clone().unwrap_or_else(|| "the start".into()),
            output: self
                .step_lines
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join("\n"),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_ref_ignores_a_registry_port() {
        assert_eq!(split_ref("web:v1"), ("web", "v1"));
        assert_eq!(
            split_ref("localhost:5000/web"),
            ("localhost:5000/web", "latest")
        );
        assert_eq!(
            split_ref("localhost:5000/web:x"),
            ("localhost:5000/web", "x")
        );
    }

    #[test]
    fn failure_names_the_step_and_keeps_its_output() {
        let log: LineSink = std::sync::Arc::new(|_, _| {});
        let mut out = BuildOutput::new(log);
        out.push("Step 1/2 : FROM scratch\n ---> abc\nStep 2/2 : RUN fal");
        out.push("se\n ---> Running in 1\nboom\n");
        let e = out.failed("web", "returned a non-zero code: 1".into());
        let text = e.to_string();
        assert!(text.contains("Step 2/2 : RUN false"), "{text}");
        assert!(text.contains("boom"), "{text}");
        assert!(!text.contains("---> abc"), "{text}");
    }
}
