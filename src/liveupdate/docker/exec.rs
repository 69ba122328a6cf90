//! One `docker exec` through the Engine API: output split into lines as it arrives,
//! the exit code from `inspect_exec`, and the runtime's "executable not found"
//! recognised so a missing program is reported as such instead of as exit code 126.

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use futures_util::StreamExt;

use crate::process::Stream;

/// How an exec ended.
pub(super) struct Finished {
    pub code: i64,
    /// The runtime could not start the program (it is not in the image).
    pub not_found: bool,
}

/// Runs `argv` in `container` from `/`, handing each output line to `line`.
/// Errors are the Engine's; the caller says what was being done.
pub(super) async fn run(
    docker: &Docker,
    container: &str,
    argv: Vec<String>,
    line: &mut (dyn FnMut(Stream, String) + Send),
) -> Result<Finished, bollard::errors::Error> {
    let options = CreateExecOptions {
        cmd: Some(argv),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        working_dir: Some("/".to_owned()),
        ..Default::default()
    };
    let id = docker.create_exec(container, options).await?.id;
    let mut not_found = false;
    if let StartExecResults::Attached { mut output, .. } = docker.start_exec(&id, None).await? {
        let mut stdout = LineBuffer::default();
        let mut stderr = LineBuffer::default();
        while let Some(chunk) = output.next().await {
            let (stream, buffer, bytes) = match chunk? {
                LogOutput::StdOut { message } => (Stream::Stdout, &mut stdout, message),
                LogOutput::StdErr { message } => (Stream::Stderr, &mut stderr, message),
                LogOutput::StdIn { .. } | LogOutput::Console { .. } => continue,
            };
            for text in buffer.push(&bytes) {
                not_found |= is_not_found(&text);
                line(stream, text);
            }
        }
        for (stream, buffer) in [(Stream::Stdout, stdout), (Stream::Stderr, stderr)] {
            if let Some(text) = buffer.finish() {
                not_found |= is_not_found(&text);
                line(stream, text);
            }
        }
    }
    let code = docker.inspect_exec(&id).await?.exit_code.unwrap_or(-1);
    Ok(Finished {
        code,
        // The message alone could be a program's own output; the runtime also
        // exits 126 (Engine 20.10) or 127 when it could not start the program.
        not_found: not_found && (code == 126 || code == 127),
    })
}

/// The runtime's message when the program does not exist in the image, e.g.
/// `OCI runtime exec failed: exec failed: ... exec: "rm": executable file not
/// found in $PATH: unknown`.
fn is_not_found(line: &str) -> bool {
    line.contains("OCI runtime exec failed")
        && (line.contains("executable file not found") || line.contains("no such file"))
}

/// Splits a byte stream into lines; a line split across chunks is kept until its end.
#[derive(Default)]
struct LineBuffer {
    partial: Vec<u8>,
}

impl LineBuffer {
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.partial.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(at) = self.partial.iter().position(|b| *b == b'\n') {
            let rest = self.partial.split_off(at + 1);
            let full = std::mem::replace(&mut self.partial, rest);
            lines.push(text(&full));
        }
        lines
    }

    /// The last line if the output did not end with a newline.
    fn finish(self) -> Option<String> {
        (!self.partial.is_empty()).then(|| text(&self.partial))
    }
}

/// A line without its `\n` / `\r\n`, invalid UTF-8 replaced.
fn text(bytes: &[u8]) -> String {
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    String::from_utf8_lossy(trimmed).into_owned()
}
