//! Image builds: which files are inputs (`Inputs`, the one matcher shared by the
//! context tar, the content hash and the file watcher), the content-hash tag, and
//! the builders (Docker Engine API for `docker_build`, a command for `custom_build`).
//!
//! The `ImageBuilder` trait is the seam: `docker.rs` is the real one, `fake.rs` a
//! scripted one for engine tests.

pub mod context;
pub mod custom;
pub mod docker;
pub mod dockerignore;
#[cfg(any(test, feature = "testing"))]
pub mod fake;
pub mod inputs;
pub mod push;
pub mod registry;
pub mod restart;
pub mod tag;

use std::path::PathBuf;

use futures_util::future::BoxFuture;

use crate::model::ImageSpec;
use crate::process::LineSink;

pub use inputs::Inputs;
pub use tag::{content_tag, tagged_ref};

/// A build that failed, saying what was being built and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("invalid ignore pattern {pattern:?}: {source}")]
    BadPattern {
        pattern: String,
        #[source]
        source: globset::Error,
    },
    #[error("invalid ignore pattern {pattern:?}: {message}")]
    BadIgnore { pattern: String, message: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the Dockerfile {path}: {source}")]
    ReadDockerfile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("build context {path} is not a directory")]
    NoContext { path: PathBuf },
    #[error("cannot reach the Docker Engine at {host}: {source} (is Docker running?)")]
    Unreachable {
        host: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("{doing} for image {image}: {source}")]
    Engine {
        image: String,
        doing: &'static str,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("building image {image} failed at {step}\n{output}\n{message}")]
    StepFailed {
        image: String,
        /// The last `Step n/m : ...` line before the failure (or "the start").
        step: String,
        /// The lines the failing step printed.
        output: String,
        message: String,
    },
    #[error("image {image}: {what} is not supported: {why}")]
    Unsupported {
        image: String,
        what: &'static str,
        why: &'static str,
    },
    #[error(
        "custom_build for {image}: command not found: {program:?} (is it installed and on PATH?)"
    )]
    CommandNotFound { image: String, program: String },
    #[error("custom_build for {image}: cannot start {program:?}: {source}")]
    CommandSpawn {
        image: String,
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("custom_build for {image}: `{command}` failed with {exit}{hint}\n{output}")]
    CommandFailed {
        image: String,
        command: String,
        exit: crate::process::Exit,
        /// " (command not found?)" for exit code 127, else empty.
        hint: &'static str,
        /// The last lines the command printed.
        output: String,
    },
    #[error(
        "custom_build for {image}: the command succeeded but did not produce {expected} (it must build $EXPECTED_REF)"
    )]
    ImageNotProduced { image: String, expected: String },
    #[error("custom_build for {image}: cannot read the image reference from {path}: {source}")]
    ReadOutputRef {
        image: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot send the build context of {image}: {message}")]
    Context { image: String, message: String },
    #[error("internal error while preparing the build of {image}: {message}")]
    Join { image: String, message: String },
    #[error("pushing image {image} to registry {registry} failed: {message}")]
    Push {
        image: String,
        registry: String,
        message: String,
    },
    /// A failure scripted on the fake builder.
    #[error("building image {image} failed: {message}")]
    Scripted { image: String, message: String },
}

/// Builds images. `tagged` is the full reference to produce (`web:stilt-0123abcd`).
pub trait ImageBuilder: Send + Sync {
    /// Builds `spec` as `tagged`, streaming output lines to `log`.
    fn build<'a>(
        &'a self,
        spec: &'a ImageSpec,
        tagged: &'a str,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), BuildError>>;
    /// Whether `tagged` exists in the local Engine (lets a restarted stilt reuse images).
    fn exists<'a>(&'a self, tagged: &'a str) -> BoxFuture<'a, Result<bool, BuildError>>;
    /// Pushes the built `local` image as `remote` (`host/name:tag`, in `registry`),
    /// streaming progress lines to `log`. Builders without an Engine cannot.
    fn push<'a>(
        &'a self,
        local: &'a str,
        remote: &'a str,
        registry: &'a str,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), BuildError>> {
        let _ = (local, log);
        Box::pin(async move {
            Err(BuildError::Push {
                image: remote.to_owned(),
                registry: registry.to_owned(),
                message: "this image builder cannot push".into(),
            })
        })
    }
}
