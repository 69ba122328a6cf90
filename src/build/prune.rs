//! Old images: every build tags `<ref>:stilt-<hash>`, so each change of the inputs
//! leaves the previous tag behind. `stilt down` removes a project's stilt tags except
//! the one its images' inputs hash to now (the next `up` reuses that one).

use std::collections::BTreeSet;

use bollard::Docker;
use bollard::query_parameters::{ListImagesOptionsBuilder, RemoveImageOptionsBuilder};

use super::tag::{content_tag, tagged_ref};
use crate::model::{ImageBuild, ImageSpec};

/// The tags of `repo_tags` that stilt made for `image_ref` and that are not `keep`.
pub fn stale<'a>(
    image_ref: &str,
    repo_tags: impl IntoIterator<Item = &'a str>,
    keep: &BTreeSet<String>,
) -> Vec<String> {
    let prefix = format!("{image_ref}:stilt-");
    let mut out: Vec<String> = repo_tags
        .into_iter()
        .filter(|t| t.starts_with(&prefix) && !keep.contains(*t))
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What a prune did.
#[derive(Debug, Default)]
pub struct Pruned {
    pub removed: Vec<String>,
    /// Tags that could not be removed, with why (an image a container still uses).
    pub failed: Vec<(String, String)>,
}

/// Removes the stale stilt tags of `images` (content-hash tags only: a
/// `custom_build(tag=...)` image keeps its fixed tag).
pub async fn prune(
    docker: &Docker,
    images: &[ImageSpec],
) -> Result<Pruned, bollard::errors::Error> {
    let mut pruned = Pruned::default();
    for spec in images {
        if let ImageBuild::Custom(c) = &spec.build
            && c.tag.as_deref().is_some_and(|t| !t.is_empty())
        {
            continue;
        }
        let owned = spec.clone();
        let current = tokio::task::spawn_blocking(move || content_tag(&owned))
            .await
            .ok()
            .and_then(Result::ok);
        let keep: BTreeSet<String> = current.iter().map(|t| tagged_ref(spec, t)).collect();
        let filters = std::collections::HashMap::from([(
            "reference",
            vec![format!("{}:stilt-*", spec.image_ref)],
        )]);
        let options = ListImagesOptionsBuilder::default()
            .filters(&filters)
            .build();
        let listed = docker.list_images(Some(options)).await?;
        let tags = listed
            .iter()
            .flat_map(|i| i.repo_tags.iter().map(String::as_str));
        for tag in stale(&spec.image_ref, tags, &keep) {
            let options = RemoveImageOptionsBuilder::default().build();
            match docker.remove_image(&tag, Some(options), None).await {
                Ok(_) => pruned.removed.push(tag),
                Err(e) => pruned.failed.push((tag, e.to_string())),
            }
        }
    }
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stilts_other_tags_of_the_image_are_stale() {
        let keep = BTreeSet::from(["web:stilt-2222".to_owned()]);
        let tags = [
            "web:stilt-1111",
            "web:stilt-2222",
            "web:latest",
            "web-admin:stilt-3333",
            "registry/web:stilt-4444",
        ];
        assert_eq!(stale("web", tags, &keep), ["web:stilt-1111"]);
    }
}
