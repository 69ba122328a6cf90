//! The image build step, shared by every resource that deploys the image: the tag is
//! a hash of the image's inputs, a tag already built in this session (or found in the
//! Engine at start) is not built again, and two runs that need the same tag at the
//! same time share one build (the second waits for the first).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use tokio::sync::mpsc;

use crate::build::{ImageBuilder, content_tag, tagged_ref};
use crate::model::{ImageSpec, Stream};
use crate::process::LineSink;
use crate::store::Action;

type Build = Shared<BoxFuture<'static, Result<(), String>>>;

/// The builds in progress, by tagged reference.
#[derive(Clone, Default)]
pub struct ImageBuilds {
    inflight: Arc<Mutex<HashMap<String, Build>>>,
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
