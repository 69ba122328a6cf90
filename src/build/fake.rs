//! `FakeBuilder`: a scripted `ImageBuilder` for engine tests. It records every build,
//! fails the images it was told to, and answers `exists` from what it built. Pushes
//! are recorded too, and fail for registries it was told to refuse.

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
    pushes: Vec<(String, String)>,
    push_failures: HashMap<String, String>,
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

    /// Every push so far as `(local, remote)`, in order.
    pub fn pushes(&self) -> Vec<(String, String)> {
        self.lock().pushes.clone()
    }

    /// Makes every later push to `registry` fail with `message`.
    pub fn fail_push(&self, registry: &str, message: &str) {
        self.lock()
            .push_failures
            .insert(registry.to_owned(), message.to_owned());
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

    fn push<'a>(
        &'a self,
        local: &'a str,
        remote: &'a str,
        registry: &'a str,
        log: LineSink,
    ) -> BoxFuture<'a, Result<(), BuildError>> {
        Box::pin(async move {
            let failure = {
                let mut s = self.lock();
                s.pushes.push((local.to_owned(), remote.to_owned()));
                s.push_failures.get(registry).cloned()
            };
            if let Some(message) = failure {
                return Err(BuildError::Push {
                    image: remote.to_owned(),
                    registry: registry.to_owned(),
                    message,
                });
            }
            log(Stream::Stdout, format!("fake push of {remote}"));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use futures_util::FutureExt;

    use super::*;
    use crate::model::{Cmd, CustomBuild, ImageBuild, LiveUpdateSpec};

    fn spec(image_ref: &str) -> ImageSpec {
        ImageSpec {
            image_ref: image_ref.into(),
            build: ImageBuild::Custom(CustomBuild {
                command: Cmd::Shell("true".into()),
                deps: vec![],
                tag: None,
                skips_local_docker: false,
                disable_push: false,
                outputs_image_ref_to: None,
                ignore: vec![],
                env: BTreeMap::new(),
                dir: PathBuf::from("/"),
            }),
            live_update: LiveUpdateSpec::default(),
            entrypoint: None,
        }
    }

    #[test]
    fn records_builds_scripts_failures_and_answers_exists_from_what_it_built() {
        let fake = FakeBuilder::new();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = lines.clone();
        let log: LineSink = Arc::new(move |_, line| l.lock().unwrap().push(line));
        let handle = fake.clone();
        handle.fail("db", "no space left");
        let ok = fake
            .build(&spec("web"), "web:stilt-1", log.clone())
            .now_or_never();
        assert!(matches!(ok, Some(Ok(()))));
        let err = fake.build(&spec("db"), "db:stilt-2", log).now_or_never();
        assert!(matches!(err, Some(Err(BuildError::Scripted { .. }))));
        assert_eq!(
            handle.builds(),
            [
                ("web".to_owned(), "web:stilt-1".to_owned()),
                ("db".to_owned(), "db:stilt-2".to_owned())
            ]
        );
        handle.add_existing("cache:stilt-3");
        let exists = |t: &str| fake.exists(t).now_or_never().unwrap().unwrap();
        assert!(exists("web:stilt-1") && exists("cache:stilt-3"));
        assert!(!exists("db:stilt-2"));
        assert!(lines.lock().unwrap().len() >= 3);
    }

    #[test]
    fn records_pushes_and_fails_the_registries_it_was_told_to() {
        let fake = FakeBuilder::new();
        let log: LineSink = Arc::new(|_, _| {});
        fake.fail_push("down:5000", "connection refused");
        let ok = fake.push("web:t", "up:5000/web:t", "up:5000", log.clone());
        assert!(matches!(ok.now_or_never(), Some(Ok(()))));
        let err = fake.push("web:t", "down:5000/web:t", "down:5000", log);
        let Some(Err(BuildError::Push { message, .. })) = err.now_or_never() else {
            panic!("the push to down:5000 should fail");
        };
        assert_eq!(message, "connection refused");
        assert_eq!(fake.pushes().len(), 2);
    }
}
