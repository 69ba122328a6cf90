//! `restart_process` images: after the image is built, one more layer puts stilt's
//! static supervisor into it and makes it the entrypoint, running the extension's
//! `entrypoint` as its child (see the helper's `supervise` mode). A live update then
//! only has to write the restart file (`liveupdate::apply`).
//!
//! The layer is built `FROM` the image just built and tagged with the same reference,
//! so deployers, pushes and `down` see one image.

use std::path::Path;

use futures_util::StreamExt;

use super::BuildError;
use super::docker::DockerBuilder;
use crate::model::ProcessRestart;
use crate::process::{LineSink, Stream};

/// Where the supervisor lives in the image: apart from the sync helper's path, which
/// the sync channel may overwrite while the supervisor runs.
pub const SUPERVISOR_PATH: &str = "/.stilt/supervise";

/// Identifies the supervisor in image tags: a new supervisor retags (and rebuilds)
/// wrapped images.
pub const SUPERVISOR_ID: &str = concat!("stilt-supervise-", env!("CARGO_PKG_VERSION"));

/// The static helper binary that holds the supervisor (its `supervise` mode).
fn helper_binary() -> &'static [u8] {
    crate::liveupdate::channel::HELPER
}

/// The wrapping layer's Dockerfile.
pub fn dockerfile(base: &str, r: &ProcessRestart) -> String {
    let mut entrypoint: Vec<String> = vec![
        SUPERVISOR_PATH.into(),
        "supervise".into(),
        "--restart-file".into(),
        r.restart_file.clone(),
        "--exit-policy".into(),
        r.exit_policy.as_str().into(),
        "--".into(),
    ];
    entrypoint.extend(r.entrypoint.iter().cloned());
    // JSON form: no shell in the image is needed, and every argument stays whole.
    let json = serde_json::to_string(&entrypoint).unwrap_or_else(|_| "[]".into());
    let dir = Path::new(&r.restart_file)
        .parent()
        .and_then(Path::to_str)
        .filter(|d| *d != "/")
        .map(|d| format!("COPY restart-dir {d}\n"))
        .unwrap_or_default();
    format!("FROM {base}\nCOPY helper {SUPERVISOR_PATH}\n{dir}ENTRYPOINT {json}\nCMD []\n")
}

/// The build context: the Dockerfile, the helper and an empty world-writable
/// directory for the restart file (a `FROM scratch` image has no `/tmp`).
pub fn context(base: &str, r: &ProcessRestart, helper: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut file = |name: &str, mode: u32, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, name, data)
    };
    file("Dockerfile", 0o644, dockerfile(base, r).as_bytes())?;
    file("helper", 0o755, helper)?;
    let mut h = tar::Header::new_gnu();
    h.set_size(0);
    h.set_mode(0o1777);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Directory);
    tar.append_data(&mut h, "restart-dir/", std::io::empty())?;
    tar.into_inner()
}

/// Adds the supervisor layer to `tagged` (built just before) under the same tag.
pub(crate) async fn wrap(
    builder: &DockerBuilder,
    image: &str,
    tagged: &str,
    r: &ProcessRestart,
    log: &LineSink,
) -> Result<(), BuildError> {
    let body = context(tagged, r, helper_binary()).map_err(|e| BuildError::Context {
        image: image.to_owned(),
        message: format!("preparing the restart_process layer: {e}"),
    })?;
    log(
        Stream::System,
        format!(
            "{tagged}: adding stilt's process supervisor (restart_process, restart file {})",
            r.restart_file
        ),
    );
    let opts = bollard::query_parameters::BuildImageOptionsBuilder::default()
        .t(tagged)
        .dockerfile("Dockerfile")
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream =
        builder
            .docker()
            .build_image(opts, None, Some(bollard::body_full(body.into())));
    let mut last = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(text) = info.stream {
                    last = text.trim_end().to_owned();
                }
                if let Some(message) = info.error_detail.and_then(|d| d.message) {
                    return Err(wrap_failed(image, message, &last));
                }
            }
            Err(bollard::errors::Error::DockerStreamError { error }) => {
                return Err(wrap_failed(image, error, &last));
            }
            Err(e) => return Err(builder.error(image, "adding the restart_process layer", e)),
        }
    }
    Ok(())
}

fn wrap_failed(image: &str, message: String, last: &str) -> BuildError {
    BuildError::StepFailed {
        image: image.to_owned(),
        step: "the restart_process layer (stilt's supervisor)".to_owned(),
        output: last.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ExitPolicy;

    fn restart(file: &str) -> ProcessRestart {
        ProcessRestart {
            entrypoint: vec!["/bin/web".into(), "--port".into(), "8000 x".into()],
            restart_file: file.into(),
            triggers: vec![],
            exit_policy: ExitPolicy::Continue,
        }
    }

    #[test]
    fn the_supervisor_runs_the_entrypoint_with_every_argument_whole() {
        let d = dockerfile("web:stilt-1", &restart("/tmp/.restart-proc"));
        assert_eq!(
            d,
            "FROM web:stilt-1\nCOPY helper /.stilt/supervise\nCOPY restart-dir /tmp\n\
             ENTRYPOINT [\"/.stilt/supervise\",\"supervise\",\"--restart-file\",\
             \"/tmp/.restart-proc\",\"--exit-policy\",\"continue\",\"--\",\"/bin/web\",\
             \"--port\",\"8000 x\"]\nCMD []\n"
        );
    }

    #[test]
    fn a_restart_file_at_the_root_needs_no_directory() {
        assert!(!dockerfile("w", &restart("/.restart")).contains("restart-dir"));
    }

    #[test]
    fn the_context_holds_an_executable_helper() {
        let bytes = context("w", &restart("/tmp/r"), b"ELF").unwrap();
        let mut a = tar::Archive::new(&bytes[..]);
        let mut seen = Vec::new();
        for e in a.entries().unwrap() {
            let e = e.unwrap();
            seen.push((
                e.path().unwrap().display().to_string(),
                e.header().mode().unwrap(),
            ));
        }
        assert_eq!(
            seen,
            vec![
                ("Dockerfile".to_owned(), 0o644),
                ("helper".to_owned(), 0o755),
                ("restart-dir/".to_owned(), 0o1777)
            ]
        );
    }
}
