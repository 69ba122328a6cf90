//! The image build step, shared by every resource that deploys the image: the tag is
//! a hash of the image's inputs, a tag already built in this session (or found in the
//! Engine at start) is not built again, and two runs that need the same tag at the
//! same time share one build (the second waits for the first). When the target
//! needs images from a registry, `publish` pushes them after the build.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use tokio::sync::mpsc;

use crate::build::registry::{rewrite, split_tag};
use crate::build::{ImageBuilder, content_tag, tagged_ref};
use crate::model::{CustomBuild, ImageBuild, ImageSpec, RegistrySpec, Stream};
use crate::process::LineSink;
use crate::store::Action;

type Build = Shared<BoxFuture<'static, Result<(), String>>>;

/// The builds in progress, by tagged reference.
#[derive(Clone, Default)]
pub struct ImageBuilds {
    inflight: Arc<Mutex<HashMap<String, Build>>>,
    /// Registry references pushed in this session (a tag is content, so once is enough).
    pushed: Arc<Mutex<HashSet<String>>>,
}

impl ImageBuilds {
    /// Makes sure `spec` is built at the tag its inputs hash to; returns that tagged
    /// reference. `last` is the tag last built for it in this session. Reports the
    /// image's state (`ImageBuildStarted`, then `ImageBuilt` or `ImageBuildFailed`).
    pub async fn ensure(
        &self,
        builder: Arc<dyn ImageBuilder>,
        spec: &ImageSpec,
        last: Option<&str>,
        log: LineSink,
        tx: &mpsc::UnboundedSender<Action>,
    ) -> Result<String, String> {
        let result = self.build(builder, spec, last, log, tx).await;
        let _ = tx.send(match &result {
            Ok(tagged) => Action::ImageBuilt {
                image_ref: spec.image_ref.clone(),
                tagged: tagged.clone(),
            },
            Err(error) => Action::ImageBuildFailed {
                image_ref: spec.image_ref.clone(),
                error: error.clone(),
            },
        });
        result
    }

    /// Pushes `tagged` (built into the local Engine) to `registry` under its
    /// rewritten name; returns the reference the cluster pulls. A failed push is the
    /// image's build error (`ImageBuildFailed`). `custom_build(disable_push=True)`
    /// images are renamed but not pushed: their command pushes them.
    pub async fn publish(
        &self,
        builder: Arc<dyn ImageBuilder>,
        spec: &ImageSpec,
        tagged: &str,
        registry: &RegistrySpec,
        log: LineSink,
        tx: &mpsc::UnboundedSender<Action>,
    ) -> Result<String, String> {
        let refs = rewrite(registry, &spec.image_ref, split_tag(tagged).1);
        let say = |text: String| log(Stream::System, text);
        if matches!(
            &spec.build,
            ImageBuild::Custom(CustomBuild {
                disable_push: true,
                ..
            })
        ) {
            say(format!(
                "image {}: disable_push=True, not pushing",
                refs.push
            ));
            return Ok(refs.cluster);
        }
        if self.was_pushed(&refs.push) {
            say(format!("image {}: already pushed", refs.push));
            return Ok(refs.cluster);
        }
        match builder
            .push(tagged, &refs.push, &registry.host, log.clone())
            .await
        {
            Ok(()) => {
                self.pushed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(refs.push);
                Ok(refs.cluster)
            }
            Err(e) => {
                let error = e.to_string();
                let _ = tx.send(Action::ImageBuildFailed {
                    image_ref: spec.image_ref.clone(),
                    error: error.clone(),
                });
                Err(error)
            }
        }
    }

    fn was_pushed(&self, reference: &str) -> bool {
        let pushed = self.pushed.lock().unwrap_or_else(|e| e.into_inner());
        pushed.contains(reference)
    }

    async fn build(
        &self,
        builder: Arc<dyn ImageBuilder>,
        spec: &ImageSpec,
        last: Option<&str>,
        log: LineSink,
        tx: &mpsc::UnboundedSender<Action>,
    ) -> Result<String, String> {
        let say = |text: String| log(Stream::System, text);
        let owned = spec.clone();
        let tag = tokio::task::spawn_blocking(move || content_tag(&owned))
            .await
            .map_err(|e| format!("internal error: hashing {} crashed: {e}", spec.image_ref))?
            .map_err(|e| e.to_string())?;
        let tagged = tagged_ref(spec, &tag);
        if last == Some(tagged.as_str()) {
            say(format!("image {tagged}: inputs unchanged, build skipped"));
            return Ok(tagged);
        }
        let (build, shared) = {
            let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            match inflight.get(&tagged) {
                Some(b) => (b.clone(), true),
                None => {
                    let b = start(
                        builder,
                        spec.clone(),
                        tagged.clone(),
                        last.is_none(),
                        log.clone(),
                    )
                    .boxed()
                    .shared();
                    inflight.insert(tagged.clone(), b.clone());
                    (b, false)
                }
            }
        };
        if shared {
            say(format!(
                "image {tagged}: another resource is building it; waiting"
            ));
        } else {
            let _ = tx.send(Action::ImageBuildStarted {
                image_ref: spec.image_ref.clone(),
                tagged: tagged.clone(),
            });
        }
        let result = build.await;
        if !shared {
            let mut inflight = self.inflight.lock().unwrap_or_else(|e| e.into_inner());
            inflight.remove(&tagged);
        }
        result.map(|()| tagged)
    }
}

/// Builds `tagged`, unless (at the first build of the session) the Engine has it.
async fn start(
    builder: Arc<dyn ImageBuilder>,
    spec: ImageSpec,
    tagged: String,
    first: bool,
    log: LineSink,
) -> Result<(), String> {
    if first && builder.exists(&tagged).await.unwrap_or(false) {
        log(
            Stream::System,
            format!("image {tagged}: already built, reusing it"),
        );
        return Ok(());
    }
    log(Stream::System, format!("building {tagged}"));
    builder
        .build(&spec, &tagged, log)
        .await
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::fake::FakeBuilder;

    fn no_log() -> LineSink {
        Arc::new(|_, _| {})
    }

    fn spec(image_ref: &str) -> ImageSpec {
        ImageSpec::docker(image_ref, std::path::Path::new("/proj"))
    }

    fn registry(host: &str, from_cluster: Option<&str>) -> RegistrySpec {
        RegistrySpec {
            host: host.into(),
            host_from_cluster: from_cluster.map(Into::into),
            single_name: None,
        }
    }

    #[tokio::test]
    async fn publish_pushes_the_rewritten_name_once_and_returns_the_clusters_name() {
        let fake = FakeBuilder::new();
        let builds = ImageBuilds::default();
        let (tx, _rx) = mpsc::unbounded_channel();
        let reg = registry("localhost:5000", Some("registry:5000"));
        let builder: Arc<dyn ImageBuilder> = Arc::new(fake.clone());
        for _ in 0..2 {
            let got = builds
                .publish(
                    builder.clone(),
                    &spec("team/web"),
                    "team/web:stilt-1",
                    &reg,
                    no_log(),
                    &tx,
                )
                .await;
            assert_eq!(got.as_deref(), Ok("registry:5000/team_web:stilt-1"));
        }
        assert_eq!(
            fake.pushes(),
            [(
                "team/web:stilt-1".to_owned(),
                "localhost:5000/team_web:stilt-1".to_owned()
            )]
        );
    }

    #[tokio::test]
    async fn a_failed_push_is_the_images_build_error() {
        let fake = FakeBuilder::new();
        fake.fail_push("localhost:5000", "connection refused");
        let builds = ImageBuilds::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let reg = registry("localhost:5000", None);
        let builder: Arc<dyn ImageBuilder> = Arc::new(fake.clone());
        let err = builds
            .publish(builder, &spec("web"), "web:stilt-1", &reg, no_log(), &tx)
            .await
            .expect_err("the push fails");
        assert!(err.contains("localhost:5000/web:stilt-1"), "{err}");
        assert!(err.contains("connection refused"), "{err}");
        let Ok(Action::ImageBuildFailed { image_ref, error }) = rx.try_recv() else {
            panic!("no ImageBuildFailed");
        };
        assert_eq!((image_ref.as_str(), error), ("web", err));
        // Not remembered as pushed: the next run tries again.
        assert!(!builds.was_pushed("localhost:5000/web:stilt-1"));
    }
}
