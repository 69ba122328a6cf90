//! Opening a sync session in a Docker container: the helper goes in through the
//! archive API (one upload; the image needs no `tar` or shell), then one exec with
//! stdin attached runs it for as long as stilt keeps the session.
//!
//! The exec runs as root, as the archive API writes: a container whose user cannot
//! write the synced paths would otherwise behave differently on each path. When the
//! connection closes (the session dropped, stilt gone), the Engine closes the exec's
//! stdin and the helper exits: nothing is left running.

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::query_parameters::UploadToContainerOptionsBuilder;
use futures_util::StreamExt;
use tar::{Builder, EntryType, Header};

use super::api_error;
use crate::liveupdate::UpdateError;
use crate::liveupdate::channel::{ChannelError, Chunk, HELPER, HELPER_PATH, Session};
use crate::process::Stream;

/// Why no session could be opened.
#[derive(Debug)]
pub(super) enum OpenError {
    /// The container itself is gone or stopped: no path will work.
    Container(UpdateError),
    /// The helper cannot run here (read-only root, `noexec`, another architecture,
    /// exec refused): the archive path will do, and this says why.
    CannotRun(String),
}

pub(super) async fn open(docker: &Docker, container: &str) -> Result<Session, OpenError> {
    match tokio::time::timeout(OPEN_TIMEOUT, open_now(docker, container)).await {
        Ok(opened) => opened,
        Err(_) => Err(OpenError::CannotRun(format!(
            "it did not start within {OPEN_TIMEOUT:?}"
        ))),
    }
}

/// Upload, probe and start together: a wedged Engine call must not hold up the
/// update for longer (the archive path is then used).
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

async fn open_now(docker: &Docker, container: &str) -> Result<Session, OpenError> {
    upload_helper(docker, container).await?;
    probe(docker, container).await?;
    let options = CreateExecOptions {
        cmd: Some(vec![HELPER_PATH.to_owned(), "sync".to_owned()]),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        user: Some("0".to_owned()),
        working_dir: Some("/".to_owned()),
        ..Default::default()
    };
    let exec = docker
        .create_exec(container, options)
        .await
        .map_err(|e| classify(container, "start the sync helper", e))?;
    let start = StartExecOptions {
        output_capacity: Some(1 << 16),
        ..Default::default()
    };
    let started = docker
        .start_exec(&exec.id, Some(start))
        .await
        .map_err(|e| classify(container, "start the sync helper", e))?;
    let StartExecResults::Attached { output, input } = started else {
        return Err(OpenError::CannotRun("the exec started detached".to_owned()));
    };
    let output = output
        .filter_map(|item| async move {
            match item {
                Ok(LogOutput::StdOut { message }) => Some(Ok(Chunk::Data(message))),
                Ok(LogOutput::StdErr { message } | LogOutput::Console { message }) => {
                    Some(Ok(Chunk::Text(message)))
                }
                Ok(LogOutput::StdIn { .. }) => None,
                Err(e) => Some(Err(std::io::Error::other(e))),
            }
        })
        .boxed();
    Session::start(input, output)
        .await
        .map_err(|e: ChannelError| OpenError::CannotRun(e.to_string()))
}

/// Runs `helper version` once, without stdin: an exec with stdin attached whose
/// program cannot start (`noexec`, another architecture) leaves the Engine 20.10
/// stream hanging instead of reporting, while a plain exec reports it at once.
async fn probe(docker: &Docker, container: &str) -> Result<(), OpenError> {
    let argv = vec![HELPER_PATH.to_owned(), "version".to_owned()];
    let mut output = Vec::new();
    let mut keep = |_: Stream, line: String| output.push(line);
    let finished = super::exec::run(docker, container, argv, &mut keep)
        .await
        .map_err(|e| classify(container, "start the sync helper", e))?;
    let said = output.join(" ");
    if finished.code == 0 && said.contains("protocol") {
        Ok(())
    } else {
        Err(OpenError::CannotRun(format!(
            "`{HELPER_PATH} version` exited with code {}: {}",
            finished.code,
            said.trim()
        )))
    }
}

async fn upload_helper(docker: &Docker, container: &str) -> Result<(), OpenError> {
    let tar = helper_tar().map_err(|e| OpenError::CannotRun(format!("cannot pack it: {e}")))?;
    let options = UploadToContainerOptionsBuilder::default().path("/").build();
    docker
        .upload_to_container(container, Some(options), bollard::body_full(tar.into()))
        .await
        .map_err(|e| classify(container, "put the sync helper in", e))
}

/// A tar of the helper alone at `HELPER_PATH` (the Engine creates `/.stilt`).
fn helper_tar() -> std::io::Result<Vec<u8>> {
    let mut builder = Builder::new(Vec::new());
    let mut header = Header::new_gnu();
    header.set_entry_type(EntryType::Regular);
    header.set_size(HELPER.len() as u64);
    header.set_mode(0o755);
    header.set_uid(0);
    header.set_gid(0);
    builder.append_data(&mut header, HELPER_PATH.trim_start_matches('/'), HELPER)?;
    builder.into_inner()
}

fn classify(container: &str, doing: &'static str, e: bollard::errors::Error) -> OpenError {
    match api_error(container, doing, e) {
        err @ (UpdateError::NoSuchContainer { .. } | UpdateError::NotRunning { .. }) => {
            OpenError::Container(err)
        }
        UpdateError::Api { source, .. } => {
            OpenError::CannotRun(format!("cannot {doing}: {source}"))
        }
        other => OpenError::CannotRun(other.to_string()),
    }
}
