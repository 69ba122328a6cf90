//! Pushing a built image to a registry through the Docker Engine: tag the local
//! image with its registry name, then `POST /images/{name}/push`, forwarding the
//! Engine's progress into the resource's log.
//!
//! Only one line per layer event is kept ("Preparing", "Pushed", "Layer already
//! exists", the final digest line); the byte-count "Pushing" updates would flood the
//! log. No credentials are sent: registries that need a login are not supported yet.

use bollard::Docker;
use bollard::models::PushImageInfo;
use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
use futures_util::StreamExt;

use super::BuildError;
use super::registry::split_tag;
use crate::process::{LineSink, Stream};

/// Pushes the local image `local` as `remote`, a reference in `registry`.
pub async fn push(
    docker: &Docker,
    local: &str,
    remote: &str,
    registry: &str,
    log: LineSink,
) -> Result<(), BuildError> {
    let fail = |message: String| BuildError::Push {
        image: remote.to_owned(),
        registry: registry.to_owned(),
        message,
    };
    let (repo, tag) = split_tag(remote);
    if local != remote {
        let opts = TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        docker
            .tag_image(local, Some(opts))
            .await
            .map_err(|e| fail(format!("cannot tag {local} as {remote}: {e}")))?;
    }
    log(Stream::System, format!("pushing {remote}"));
    let opts = PushImageOptionsBuilder::default().tag(tag).build();
    let mut progress = docker.push_image(repo, Some(opts), None);
    let mut last = None;
    while let Some(item) = progress.next().await {
        let info = item.map_err(|e| fail(engine_message(&e)))?;
        if let Some(line) = progress_line(&info).filter(|l| last.as_ref() != Some(l)) {
            log(Stream::Stdout, line.clone());
            last = Some(line);
        }
    }
    log(Stream::System, format!("pushed {remote}"));
    Ok(())
}

/// The Engine's own words for a failed request (its JSON `message`), else the
/// client's error.
fn engine_message(e: &bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerResponseServerError { message, .. } => message.clone(),
        bollard::errors::Error::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}

/// The log line for one progress message, or `None` for byte-count updates.
pub fn progress_line(info: &PushImageInfo) -> Option<String> {
    let status = info.status.as_deref()?.trim();
    if status.is_empty() || status == "Pushing" {
        return None;
    }
    Some(status.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(status: Option<&str>) -> PushImageInfo {
        PushImageInfo {
            status: status.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn byte_count_updates_are_left_out_of_the_log() {
        assert_eq!(progress_line(&info(Some("Pushing"))), None);
        assert_eq!(progress_line(&info(None)), None);
        assert_eq!(
            progress_line(&info(Some("Layer already exists"))).as_deref(),
            Some("Layer already exists")
        );
        let digest = "stilt-1: digest: sha256:abc size: 527";
        assert_eq!(progress_line(&info(Some(digest))).as_deref(), Some(digest));
    }
}
