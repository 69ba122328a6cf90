//! Image builds: which files are inputs (`Inputs`, the one matcher shared by the
//! context tar, the content hash and the file watcher), the content-hash tag, and
//! the builders (Docker Engine API for `docker_build`, a command for `custom_build`).
//!
//! The `ImageBuilder` trait is the seam: `docker.rs` is the real one, `fake.rs` a
//! scripted one for engine tests.

// Submodules (filled in by the build work): context, custom, docker, dockerignore,
// fake, inputs, tag.

use futures_util::future::BoxFuture;

use crate::model::ImageSpec;
use crate::process::LineSink;

/// A build that failed, saying what was being built and why.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Other(String),
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
}
