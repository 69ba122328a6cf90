//! Load errors: each says what went wrong and where (file:line:col + source line).

use std::fmt;
use std::path::PathBuf;

use starlark::codemap::FileSpan;

/// A position in a Tiltfile (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// The source line, for showing under the message.
    pub source_line: String,
}

impl Location {
    pub fn from_span(span: &FileSpan) -> Self {
        let resolved = span.file.resolve_span(span.span);
        let line = resolved.begin.line;
        Self {
            file: PathBuf::from(span.filename()),
            line: line + 1,
            column: resolved.begin.column + 1,
            source_line: span.file.source_line(line).trim_end().to_owned(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read Tiltfile {path}: {source}")]
    ReadTiltfile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the thread that evaluates the Tiltfile: {source}")]
    StartThread {
        #[source]
        source: std::io::Error,
    },
    /// Starlark's own rendering (repeated traceback frames folded): traceback, message, ` --> file:line:col` and a snippet.
    #[error("{rendered}")]
    Eval {
        rendered: String,
        location: Option<Location>,
    },
    /// A problem found after evaluation (dependency cycle, unknown dep), pinned
    /// to the call that declared the resource.
    #[error("{}", snippet(message, location))]
    Declared { message: String, location: Location },
    /// The starter gave up on the load (stilt is stopping); what it declared is dropped.
    #[error("the Tiltfile load was cancelled (stilt is stopping)")]
    Cancelled,
}

impl ConfigError {
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfigError::ReadTiltfile { .. }
            | ConfigError::StartThread { .. }
            | ConfigError::Cancelled => None,
            ConfigError::Eval { location, .. } => location.as_ref(),
            ConfigError::Declared { location, .. } => Some(location),
        }
    }

    pub fn from_starlark(e: &starlark::Error) -> Self {
        ConfigError::Eval {
            rendered: super::traceback::fold_repeated_frames(e.to_string().trim_end()),
            location: e.span().map(Location::from_span),
        }
    }
}

/// `error: msg`, ` --> file:line:col` and the source line, laid out like starlark's own errors.
fn snippet(message: &str, at: &Location) -> String {
    let n = at.line.to_string();
    let pad = " ".repeat(n.len());
    format!(
        "error: {message}\n --> {at}\n{pad} |\n{n} | {}\n{pad} |",
        at.source_line
    )
}
