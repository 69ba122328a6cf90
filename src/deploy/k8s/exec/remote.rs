//! One command in a pod's container through the exec API: optional stdin, output
//! split into lines as it arrives, the exit code from the status channel, and the
//! runtime's "executable not found" recognised so a missing program is reported as
//! such instead of as exit code 126.
//!
//! Stdin is written but never closed: over WebSocket, clusters before 1.29 speak
//! `v4.channel.k8s.io`, which cannot close stdin alone. Closing it closes the whole
//! connection; the server then gives no output and no status, and keeps the socket
//! open (checked on 1.20). So a command given stdin must stop reading by itself
//! (`head -c N | tar -x`), and the writer is dropped only once the status came.

use futures_util::stream::{self, BoxStream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

use crate::process::Stream;

/// Bytes per WebSocket frame of stdin (kube's default, 1 KiB, makes an archive of a
/// few megabytes thousands of frames).
const STDIN_CHUNK: usize = 64 * 1024;

/// How an exec ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Finished {
    pub code: i64,
    /// The runtime could not start the program (it is not in the image).
    pub not_found: bool,
}

/// Why an exec could not be run to its end.
#[derive(Debug, thiserror::Error)]
pub(super) enum RemoteError {
    #[error(transparent)]
    Api(#[from] kube::Error),
    #[error("the exec ended without an exit status: {0}")]
    NoStatus(String),
}

/// Runs `argv` in `container` of `pod`, feeding it `stdin` (if any) and handing each
/// output line to `line`.
pub(super) async fn run(
    pods: &Api<Pod>,
    pod: &str,
    container: &str,
    argv: Vec<String>,
    stdin: Option<Vec<u8>>,
    line: &mut (dyn FnMut(Stream, String) + Send),
) -> Result<Finished, RemoteError> {
    let params = AttachParams::default()
        .container(container)
        .stdin(stdin.is_some())
        .stdout(true)
        .stderr(true)
        .max_stdin_buf_size(STDIN_CHUNK)
        .max_stdout_buf_size(STDIN_CHUNK)
        .max_stderr_buf_size(STDIN_CHUNK);
    let mut process = pods.exec(pod, argv, &params).await?;
    let status = process.take_status();
    let output = stream::select(
        lines(Stream::Stdout, process.stdout()),
        lines(Stream::Stderr, process.stderr()),
    );
    let mut writer = process.stdin();
    let feed = async {
        if let (Some(writer), Some(bytes)) = (writer.as_mut(), stdin.as_deref()) {
            // A command that exits early (no `tar`) makes this fail; its status
            // says why, so the write error itself is not the story.
            let _ = writer.write_all(bytes).await;
            let _ = writer.flush().await;
        }
    };
    let mut not_found = false;
    let read = output.for_each(|(stream, text)| {
        not_found |= is_not_found(&text);
        line(stream, text);
        futures_util::future::ready(())
    });
    tokio::join!(feed, read);
    let status = match status {
        Some(status) => status.await,
        None => None,
    };
    drop(writer);
    let _ = process.join().await;
    let code = exit_code(status)?;
    Ok(Finished {
        code,
        // The message alone could be a program's own output; the runtime also
        // exits 126 or 127 when it could not start the program.
        not_found: not_found && (code == 126 || code == 127),
    })
}

/// The lines of one output channel, as a stream that ends with the channel.
fn lines(
    stream: Stream,
    reader: Option<impl AsyncRead + Unpin + Send + 'static>,
) -> BoxStream<'static, (Stream, String)> {
    let Some(reader) = reader else {
        return stream::empty().boxed();
    };
    stream::unfold(BufReader::new(reader), move |mut reader| async move {
        let mut raw = Vec::new();
        match reader.read_until(b'\n', &mut raw).await {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(((stream, text(&raw)), reader)),
        }
    })
    .boxed()
}

/// A line without its `\n` / `\r\n`, invalid UTF-8 replaced.
fn text(bytes: &[u8]) -> String {
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    String::from_utf8_lossy(trimmed).into_owned()
}

/// The runtime's message when the program does not exist in the image, e.g.
/// `OCI runtime exec failed: exec failed: ... exec: "tar": executable file not
/// found in $PATH: unknown` (sent on stdout).
fn is_not_found(line: &str) -> bool {
    line.contains("OCI runtime exec failed")
        && (line.contains("executable file not found") || line.contains("no such file"))
}

/// The exit code a status reports: `Success` is 0; a failure carries its code as
/// the `ExitCode` cause. Any other failure (the container went away) is an error.
fn exit_code(status: Option<Status>) -> Result<i64, RemoteError> {
    let Some(status) = status else {
        return Err(RemoteError::NoStatus("the connection closed".to_owned()));
    };
    if status.status.as_deref() == Some("Success") {
        return Ok(0);
    }
    let code = status
        .details
        .as_ref()
        .and_then(|d| d.causes.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.reason.as_deref() == Some("ExitCode"))
        .and_then(|c| c.message.as_deref())
        .and_then(|m| m.parse::<i64>().ok());
    code.ok_or_else(|| {
        RemoteError::NoStatus(
            status
                .message
                .unwrap_or_else(|| "unknown failure".to_owned()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(value: serde_json::Value) -> Option<Status> {
        Some(serde_json::from_value(value).expect("status"))
    }

    #[test]
    fn success_is_exit_code_zero() {
        assert_eq!(
            exit_code(status(json!({"status": "Success"}))).ok(),
            Some(0)
        );
    }

    #[test]
    fn a_non_zero_exit_comes_from_the_exit_code_cause() {
        let failed = status(json!({
            "status": "Failure", "reason": "NonZeroExitCode",
            "message": "command terminated with non-zero exit code: Error executing in Docker Container: 3",
            "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}
        }));
        assert_eq!(exit_code(failed).ok(), Some(3));
    }

    #[test]
    fn a_failure_without_exit_code_or_no_status_is_an_error() {
        let gone = status(json!({"status": "Failure", "message": "container not found"}));
        let err = exit_code(gone).expect_err("no exit code");
        assert!(err.to_string().contains("container not found"), "{err}");
        assert!(exit_code(None).is_err());
    }

    #[test]
    fn the_runtimes_not_found_message_is_recognised() {
        assert!(is_not_found(
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \
             \"tar\": executable file not found in $PATH: unknown"
        ));
        assert!(!is_not_found("sh: tar: not found"));
    }

    #[test]
    fn lines_lose_their_line_ends() {
        assert_eq!(text(b"a\r\n"), "a");
        assert_eq!(text(b"b"), "b");
    }
}
