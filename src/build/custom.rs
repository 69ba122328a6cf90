//! custom_build: run the user's command with `EXPECTED_REF` (and `EXPECTED_IMAGE`,
//! `EXPECTED_TAG`) set, then make sure the image it was asked for exists.
//!
//! The command runs in its own process group and a guard kills the whole group when
//! the build future is dropped (a superseded or cancelled build), so a `sh -c` that
//! started `docker build` leaves no orphans; see `process/real.rs` for the same rule.

use std::process::Stdio;

use crate::process::group::GroupGuard;
use crate::process::lines::{Tail, pump};

use super::BuildError;
use super::docker::{DockerBuilder, split_ref};
use crate::model::{Cmd, CustomBuild, ImageSpec};
use crate::process::{Exit, LineSink, Stream};

/// Lines of output kept for the error of a failing command.
const TAIL: usize = 40;

/// Runs `c` to produce `tagged`, then checks (or tags) the result in the Engine.
pub(crate) async fn build(
    docker: &DockerBuilder,
    spec: &ImageSpec,
    c: &CustomBuild,
    tagged: &str,
    log: &LineSink,
) -> Result<(), BuildError> {
    let image = spec.image_ref.as_str();
    run(image, c, tagged, log).await?;
    if let Some(path) = &c.outputs_image_ref_to {
        let built = std::fs::read_to_string(path).map_err(|source| BuildError::ReadOutputRef {
            image: image.to_owned(),
            path: path.clone(),
            source,
        })?;
        let built = built.trim();
        if !c.skips_local_docker && built != tagged {
            log(Stream::System, format!("Tagging {built} as {tagged}"));
            docker.tag(built, tagged).await?;
        }
        return Ok(());
    }
    if !c.skips_local_docker && !docker.image_exists(tagged).await? {
        return Err(BuildError::ImageNotProduced {
            image: image.to_owned(),
            expected: tagged.to_owned(),
        });
    }
    Ok(())
}

/// Runs the command, streaming its output to `log`; a non-zero exit is an error.
pub async fn run(
    image: &str,
    c: &CustomBuild,
    tagged: &str,
    log: &LineSink,
) -> Result<(), BuildError> {
    let argv = c.command.argv();
    let Some((program, args)) = argv.split_first() else {
        return Err(BuildError::CommandNotFound {
            image: image.to_owned(),
            program: String::new(),
        });
    };
    if !c.dir.is_dir() {
        let missing = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("working directory {} does not exist", c.dir.display()),
        );
        return Err(BuildError::CommandSpawn {
            image: image.to_owned(),
            program: program.clone(),
            source: missing,
        });
    }
    log(
        Stream::System,
        format!("Running custom_build: {}", c.command),
    );
    let child = command(c, program, args, tagged)
        .spawn()
        .map_err(|source| spawn_error(image, program, source))?;
    let (status, output) = wait_streaming(child, log).await;
    let exit = status
        .map(Exit::from_status)
        .map_err(|source| spawn_error(image, program, source))?;
    if exit.success() {
        return Ok(());
    }
    Err(BuildError::CommandFailed {
        image: image.to_owned(),
        command: c.command.to_string(),
        exit,
        hint: if exit == Exit::Code(127) && matches!(c.command, Cmd::Shell(_)) {
            " (command not found?)"
        } else {
            ""
        },
        output,
    })
}

/// The command in `dir`, with `env` and the `EXPECTED_*` variables, in its own group.
fn command(
    c: &CustomBuild,
    program: &str,
    args: &[String],
    tagged: &str,
) -> tokio::process::Command {
    let (repo, tag) = split_ref(tagged);
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(&c.dir)
        .envs(&c.env)
        .env("EXPECTED_REF", tagged)
        .env("EXPECTED_IMAGE", repo)
        .env("EXPECTED_TAG", tag)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    crate::process::group::die_with_stilt(&mut cmd);
    cmd
}

/// Waits for `child` while forwarding its output; returns its status and the last
/// `TAIL` lines. Dropping the future kills the child's whole process group.
async fn wait_streaming(
    mut child: tokio::process::Child,
    log: &LineSink,
) -> (std::io::Result<std::process::ExitStatus>, String) {
    let guard = GroupGuard::new(child.id());
    let tail = Tail::new(TAIL);
    let out = pump(child.stdout.take(), Stream::Stdout, log, &tail);
    let err = pump(child.stderr.take(), Stream::Stderr, log, &tail);
    let waited = async {
        let status = child.wait().await;
        // Stragglers that still hold the pipes open would keep the pumps alive.
        guard.kill();
        status
    };
    let (status, (), ()) = tokio::join!(waited, out, err);
    (status, tail.lines().join("\n"))
}

fn spawn_error(image: &str, program: &str, source: std::io::Error) -> BuildError {
    match source.kind() {
        std::io::ErrorKind::NotFound => BuildError::CommandNotFound {
            image: image.to_owned(),
            program: program.to_owned(),
        },
        _ => BuildError::CommandSpawn {
            image: image.to_owned(),
            program: program.to_owned(),
            source,
        },
    }
}
