//! Image targets: how an image is built (`docker_build`, `custom_build`) and patched
//! in place (`live_update`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::live_update::LiveUpdateSpec;
use super::resource::Cmd;

/// One image the Tiltfile declared. Deployers refer to it by `image_ref`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSpec {
    /// The reference deploy configs use, without a tag (`web`, `example.com/team/web`).
    pub image_ref: String,
    pub build: ImageBuild,
    /// Empty when the Tiltfile gave no `live_update`.
    pub live_update: LiveUpdateSpec,
    /// Overrides the image's entrypoint in the deployed container.
    pub entrypoint: Option<Cmd>,
}

impl ImageSpec {
    /// The builtin that declared it.
    pub fn kind_label(&self) -> &'static str {
        match self.build {
            ImageBuild::Docker(_) => "docker_build",
            ImageBuild::Custom(_) => "custom_build",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ImageBuild {
    Docker(DockerBuild),
    Custom(CustomBuild),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dockerfile {
    /// Absolute path to a Dockerfile (it need not be inside the context).
    Path(PathBuf),
    /// `dockerfile_contents=`.
    Contents(String),
}

/// `docker_build(...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct DockerBuild {
    /// Absolute path of the build context.
    pub context: PathBuf,
    pub dockerfile: Dockerfile,
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    /// `ignore=`: dockerignore-syntax patterns relative to the context, added to `.dockerignore`.
    pub ignore: Vec<String>,
    /// `only=`: paths relative to the context; when non-empty, nothing else is in the context.
    pub only: Vec<String>,
    pub extra_tags: Vec<String>,
    pub network: Option<String>,
    pub platform: Option<String>,
    pub pull: bool,
    pub cache_from: Vec<String>,
    /// `host:ip` entries.
    pub extra_hosts: Vec<String>,
}

impl ImageSpec {
    /// `docker_build(image_ref, context)` with `context/Dockerfile` and every option at
    /// its default.
    pub fn docker(image_ref: &str, context: &std::path::Path) -> ImageSpec {
        ImageSpec {
            image_ref: image_ref.to_owned(),
            build: ImageBuild::Docker(DockerBuild {
                context: context.to_path_buf(),
                dockerfile: Dockerfile::Path(context.join("Dockerfile")),
                build_args: BTreeMap::new(),
                target: None,
                ignore: Vec::new(),
                only: Vec::new(),
                extra_tags: Vec::new(),
                network: None,
                platform: None,
                pull: false,
                cache_from: Vec::new(),
                extra_hosts: Vec::new(),
            }),
            live_update: LiveUpdateSpec::default(),
            entrypoint: None,
        }
    }
}

/// `custom_build(...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomBuild {
    /// Run with `EXPECTED_REF` (and `EXPECTED_IMAGE`, `EXPECTED_TAG`) set; must produce that image.
    pub command: Cmd,
    /// Absolute paths whose changes rebuild the image (and feed its content hash).
    pub deps: Vec<PathBuf>,
    /// A fixed tag instead of the content-hash one.
    pub tag: Option<String>,
    pub skips_local_docker: bool,
    pub disable_push: bool,
    /// The command writes the reference it built into this file.
    pub outputs_image_ref_to: Option<PathBuf>,
    /// Gitignore-syntax patterns (relative to the Tiltfile dir) excluded from `deps`.
    pub ignore: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub dir: PathBuf,
}
