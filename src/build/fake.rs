//! `FakeBuilder`: a scripted `ImageBuilder` for engine tests. It records every build,
//! fails the images it was told to, and answers `exists` from what it built.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::future::BoxFuture;

use super::{BuildError, ImageBuilder};
use crate::model::ImageSpec;
use crate::process::{LineSink, Stream};

#[derive(Debug, Default)]
struct State {
    builds: Vec<(String, String)>,
    failures: HashMap<String, String>,
    existing: HashSet<String>,
}

/// Clones share one state, so a test keeps a handle while the engine holds another.
#[derive(Debug, Clone, Default)]
pub struct FakeBuilder {
    state: Arc<Mutex<State>>,
}

impl FakeBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every build so far as `(image_ref, tagged)`, in order.
    pub fn builds(&self) -> Vec<(String, String)> {
        self.lock().builds.clone()
    }

    /// Makes every later build of `image_ref` fail with `message`.
    pub fn fail(&self, image_ref: &str, message: &str) {
        self.lock()
            .failures
            .insert(image_ref.to_owned(), message.to_owned());
    }

    /// Lets builds of `image_ref` succeed again.
    pub fn succeed(&self, image_ref: &str) {
        self.lock().failures.remove(image_ref);
    }

    /// Pretends `tagged` is already in the Engine.
    pub fn add_existing(&self, tagged: &str) {
        self.lock().existing.insert(tagged.to_owned());
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock must not hide the state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ImageBuilder for FakeBuilder {
    fn build<'a>(
        &'a self,
        spec: &'a ImageSpec,
        tagged: &'a str,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), BuildError>> {
        Box::pin(async move {
            let failure = {
                let mut s = self.lock();
                s.builds.push((spec.image_ref.clone(), tagged.to_owned()));
                s.failures.get(&spec.image_ref).cloned()
            };
            log(Stream::Stdout, format!("fake build of {tagged}"));
            if let Some(message) = failure {
                log(Stream::Stderr, message.clone());
                return Err(BuildError::Scripted {
                    image: spec.image_ref.clone(),
                    message,
                });
            }
            self.lock().existing.insert(tagged.to_owned());
            log(Stream::Stdout, format!("Successfully tagged {tagged}"));
            Ok(())
        })
    }

    fn exists<'a>(&'a self, tagged: &'a str) -> BoxFuture<'a, Result<bool, BuildError>> {
        Box::pin(async move { Ok(self.lock().existing.contains(tagged)) })
    }
}
