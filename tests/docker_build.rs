//! Image builds against the real Docker Engine: docker_build through the streamed
//! context, the content tag, and custom_build commands. Every image is `FROM` the
//! local busybox image (there is no registry) and removed at the end of its test.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use stilt::build::docker::DockerBuilder;
use stilt::build::{BuildError, ImageBuilder, Inputs, content_tag, tagged_ref};
use stilt::model::{
    Cmd, CustomBuild, DockerBuild, Dockerfile, ImageBuild, ImageSpec, LiveUpdateSpec,
};
use stilt::process::{LineSink, Stream};

use crate::docker_support::{busybox_image, docker, write_busybox_context};

/// Removes the images a test built, also when it fails.
struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for i in &self.0 {
            let _ = Command::new("docker").args(["rmi", "-f", i]).output();
        }
    }
}

fn docker_spec(image_ref: &str, context: &Path) -> ImageSpec {
    ImageSpec::docker(image_ref, context)
}

fn docker_build(spec: &mut ImageSpec) -> &mut DockerBuild {
    match &mut spec.build {
        ImageBuild::Docker(b) => b,
        ImageBuild::Custom(_) => unreachable!(),
    }
}

fn custom_spec(image_ref: &str, dir: &Path, command: Cmd) -> ImageSpec {
    ImageSpec {
        image_ref: image_ref.into(),
        build: ImageBuild::Custom(CustomBuild {
            command,
            deps: vec![dir.to_path_buf()],
            tag: None,
            skips_local_docker: false,
            disable_push: false,
            outputs_image_ref_to: None,
            ignore: vec![],
            env: BTreeMap::new(),
            dir: dir.to_path_buf(),
        }),
        live_update: LiveUpdateSpec::default(),
        entrypoint: None,
    }
}

fn sink() -> (LineSink, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    let sink: LineSink =
        Arc::new(move |_: Stream, line: String| l.lock().expect("log lines").push(line));
    (sink, lines)
}

/// Builds `spec` under its content tag; the tagged ref joins `images` for cleanup.
async fn build(spec: &ImageSpec, images: &mut Images) -> Result<String, BuildError> {
    let tagged = tagged_ref(spec, &content_tag(spec).expect("content tag"));
    images.0.push(tagged.clone());
    let (log, _) = sink();
    DockerBuilder::new(stilt::docker::connect().expect("connect to Docker"))
        .build(spec, &tagged, log)
        .await
        .map(|()| tagged)
}

fn run_sh(image: &str, script: &str) -> String {
    docker(&["run", "--rm", image, "sh", "-c", script])
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    fs::write(p, text).expect("write file");
}

fn from_busybox(rest: &str) -> String {
    format!("FROM {}\n{rest}", busybox_image())
}

#[tokio::test]
async fn scratch_busybox_image_builds_through_the_streamed_context_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    write_busybox_context(dir.path());
    let mut images = Images(vec![]);
    let spec = docker_spec("stilt-test-build-scratch", dir.path());
    let tagged = build(&spec, &mut images).await.unwrap();
    assert!(
        tagged.starts_with("stilt-test-build-scratch:stilt-"),
        "{tagged}"
    );
    assert!(
        DockerBuilder::new(stilt::docker::connect().unwrap())
            .exists(&tagged)
            .await
            .unwrap()
    );
    assert_eq!(
        run_sh(&tagged, "echo hello from busybox").trim(),
        "hello from busybox"
    );
}

#[tokio::test]
async fn failing_run_step_reports_the_step_and_its_output() {
    let dir = tempfile::tempdir().unwrap();
    let df = from_busybox("RUN echo fine\nRUN echo step-output-here && false\nRUN echo never\n");
    write(dir.path(), "Dockerfile", &df);
    let mut images = Images(vec![]);
    let err = build(
        &docker_spec("stilt-test-build-fail", dir.path()),
        &mut images,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("stilt-test-build-fail"), "{err}");
    assert!(
        err.contains("Step 3/4 : RUN echo step-output-here && false"),
        "{err}"
    );
    assert!(err.contains("step-output-here"), "{err}");
    assert!(err.contains("returned a non-zero code: 1"), "{err}");
    assert!(!err.contains("never"), "{err}");
}

#[tokio::test]
async fn dockerignore_and_ignore_keep_files_out_of_the_image_and_the_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "Dockerfile", &from_busybox("COPY . /app\n"));
    write(d, ".dockerignore", "secret.txt\nvendor\n!vendor/keep.txt\n");
    for f in [
        "app.txt",
        "secret.txt",
        "debug.log",
        "vendor/keep.txt",
        "vendor/drop.txt",
    ] {
        write(d, f, f);
    }
    let mut spec = docker_spec("stilt-test-build-ignore", d);
    docker_build(&mut spec).ignore = vec!["*.log".into()];
    let inputs = Inputs::for_image(&spec).unwrap();
    for (f, expected) in [
        ("app.txt", true),
        ("vendor/keep.txt", true),
        ("secret.txt", false),
        ("debug.log", false),
        ("vendor/drop.txt", false),
    ] {
        assert_eq!(inputs.includes(&d.join(f)), expected, "{f}");
    }
    let mut images = Images(vec![]);
    let tagged = build(&spec, &mut images).await.unwrap();
    run_sh(
        &tagged,
        "test -e /app/app.txt && test -e /app/vendor/keep.txt && test ! -e /app/secret.txt \
         && test ! -e /app/debug.log && test ! -e /app/vendor/drop.txt",
    );
}

#[tokio::test]
async fn only_keeps_everything_else_out_of_the_image_and_the_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "Dockerfile", &from_busybox("COPY . /app\n"));
    write(d, "src/main.txt", "main");
    write(d, "docs/readme.txt", "docs");
    let mut spec = docker_spec("stilt-test-build-only", d);
    docker_build(&mut spec).only = vec!["src".into()];
    let inputs = Inputs::for_image(&spec).unwrap();
    assert!(inputs.includes(&d.join("src/main.txt")));
    assert!(!inputs.includes(&d.join("docs/readme.txt")));
    // The Dockerfile is outside `only` yet still drives the build.
    assert!(inputs.includes(&d.join("Dockerfile")));
    let mut images = Images(vec![]);
    let tagged = build(&spec, &mut images).await.unwrap();
    run_sh(
        &tagged,
        "test -e /app/src/main.txt && test ! -e /app/docs && test ! -e /app/Dockerfile",
    );
}

#[test]
fn content_tag_is_stable_follows_inputs_and_ignores_ignored_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "Dockerfile", "FROM scratch\nCOPY . /\n");
    write(d, "app.txt", "v1");
    write(d, "notes.log", "a");
    let mut spec = docker_spec("stilt-test-build-tag", d);
    docker_build(&mut spec).ignore = vec!["*.log".into()];
    let first = content_tag(&spec).unwrap();
    assert!(
        first.starts_with("stilt-") && first.len() == "stilt-".len() + 16,
        "{first}"
    );
    assert_eq!(content_tag(&spec).unwrap(), first);

    write(d, "notes.log", "b, a change to an ignored file");
    assert_eq!(content_tag(&spec).unwrap(), first);

    write(d, "app.txt", "v2");
    let second = content_tag(&spec).unwrap();
    assert_ne!(second, first);

    docker_build(&mut spec)
        .build_args
        .insert("X".into(), "1".into());
    assert_ne!(content_tag(&spec).unwrap(), second);
}

#[tokio::test]
async fn dockerfile_contents_build_args_target_and_extra_tags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "hello.txt", "hello-file");
    let mut spec = docker_spec("stilt-test-build-contents", d);
    let extra = "stilt-test-build-contents:extra";
    let b = docker_build(&mut spec);
    b.dockerfile = Dockerfile::Contents(format!(
        "FROM {bb} AS first\nARG MSG\nRUN echo \"first $MSG\" > /stage\nCOPY hello.txt /hello.txt\n\
         FROM {bb} AS second\nRUN echo second > /stage\n",
        bb = busybox_image()
    ));
    b.build_args.insert("MSG".into(), "with-arg".into());
    b.target = Some("first".into());
    b.extra_tags = vec![extra.into()];
    let mut images = Images(vec![extra.into()]);
    let tagged = build(&spec, &mut images).await.unwrap();
    assert_eq!(run_sh(&tagged, "cat /stage").trim(), "first with-arg");
    assert_eq!(run_sh(&tagged, "cat /hello.txt"), "hello-file");
    assert_eq!(run_sh(extra, "cat /stage").trim(), "first with-arg");
}

#[tokio::test]
async fn custom_build_produces_expected_ref_with_docker_build() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "ctx/Dockerfile",
        &from_busybox("RUN echo custom > /made-by\n"),
    );
    let spec = custom_spec(
        "stilt-test-build-custom",
        d,
        Cmd::Shell(
            "echo building $EXPECTED_IMAGE at $EXPECTED_TAG; docker build -q -t $EXPECTED_REF ctx"
                .into(),
        ),
    );
    let mut images = Images(vec![]);
    let tagged = tagged_ref(&spec, &content_tag(&spec).unwrap());
    images.0.push(tagged.clone());
    let (log, lines) = sink();
    let builder = DockerBuilder::new(stilt::docker::connect().unwrap());
    builder.build(&spec, &tagged, log).await.unwrap();
    assert_eq!(run_sh(&tagged, "cat /made-by").trim(), "custom");
    let (image, tag) = tagged.split_once(':').unwrap();
    let expected = format!("building {image} at {tag}");
    assert!(
        lines.lock().unwrap().contains(&expected),
        "{:?}",
        lines.lock().unwrap()
    );
}

#[tokio::test]
async fn custom_build_failures_say_what_went_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let builder = DockerBuilder::new(stilt::docker::connect().unwrap());
    let (log, _) = sink();
    let tagged = "stilt-test-build-custom-fail:stilt-0";
    let _images = Images(vec![tagged.into()]);

    let failing = custom_spec("img", d, Cmd::Shell("echo custom-oops >&2; exit 3".into()));
    let err = builder
        .build(&failing, tagged, log.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("exit code 3") && err.contains("custom-oops"),
        "{err}"
    );

    let missing = custom_spec("img", d, Cmd::Argv(vec!["stilt-no-such-program".into()]));
    let err = builder
        .build(&missing, tagged, log.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("command not found") && err.contains("stilt-no-such-program"),
        "{err}"
    );

    let missing_in_sh = custom_spec("img", d, Cmd::Shell("stilt-no-such-program".into()));
    let err = builder
        .build(&missing_in_sh, tagged, log.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("exit code 127 (command not found?)"), "{err}");

    let lazy = custom_spec("img", d, Cmd::Shell("true".into()));
    let err = builder
        .build(&lazy, tagged, log)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("did not produce stilt-test-build-custom-fail:stilt-0"),
        "{err}"
    );
}

#[tokio::test]
async fn dropping_a_custom_build_kills_its_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The shell starts a background sleeper and waits: both must die with the build.
    let spec = custom_spec(
        "img",
        d,
        Cmd::Shell("sleep 300 & echo $! > child.pid; wait".into()),
    );
    let builder = DockerBuilder::new(stilt::docker::connect().unwrap());
    let (log, _) = sink();
    let pid_file = d.join("child.pid");
    let build = builder.build(&spec, "stilt-test-build-drop:x", log);
    let waited = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        tokio::pin!(build);
        loop {
            tokio::select! {
                r = &mut build => panic!("the build ended by itself: {r:?}"),
                () = tokio::time::sleep(std::time::Duration::from_millis(20)) => {}
            }
            if fs::read_to_string(&pid_file).is_ok_and(|s| s.ends_with('\n')) {
                return; // `build` is dropped here
            }
        }
    });
    waited.await.expect("the command never wrote its pid");
    let pid = fs::read_to_string(&pid_file).unwrap().trim().to_owned();
    let gone = (0..600).any(|_| {
        let alive = Path::new(&format!("/proc/{pid}")).exists()
            && !fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "));
        if alive {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        !alive
    });
    assert!(gone, "background sleeper {pid} outlived the dropped build");
}

#[tokio::test]
async fn unreachable_engine_error_says_where_and_suggests_docker_is_down() {
    let dir = tempfile::tempdir().unwrap();
    // A plain file where the socket should be: it exists, but nothing listens.
    let sock = dir.path().join("docker.sock");
    fs::write(&sock, "").unwrap();
    let client = bollard::Docker::connect_with_unix(
        &sock.to_string_lossy(),
        10,
        bollard::API_DEFAULT_VERSION,
    )
    .unwrap();
    let err = DockerBuilder::new(client)
        .exists("stilt-test-build-none:x")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("cannot reach the Docker Engine at "),
        "{err}"
    );
    assert!(err.ends_with("(is Docker running?)"), "{err}");
}

#[tokio::test]
async fn context_keeps_modes_symlinks_and_empty_dirs() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "Dockerfile", &from_busybox("COPY . /app\n"));
    write(d, "run.sh", "#!/bin/sh\necho ran\n");
    fs::set_permissions(d.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("run.sh", d.join("link.sh")).unwrap();
    fs::create_dir(d.join("empty")).unwrap();
    let mut images = Images(vec![]);
    let tagged = build(&docker_spec("stilt-test-build-modes", d), &mut images)
        .await
        .unwrap();
    let out = run_sh(
        &tagged,
        "test -x /app/run.sh && test -L /app/link.sh && test -d /app/empty && /app/link.sh",
    );
    assert_eq!(out.trim(), "ran");
}

#[tokio::test]
async fn custom_build_outputs_image_ref_to_is_tagged_as_the_expected_ref() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "ctx/Dockerfile",
        &from_busybox("RUN echo via-ref-file > /made-by\n"),
    );
    let built = "stilt-test-build-outref:built-by-command";
    let mut spec = custom_spec(
        "stilt-test-build-outref",
        d,
        Cmd::Shell(format!(
            "docker build -q -t {built} ctx && echo {built} > ref.txt"
        )),
    );
    if let ImageBuild::Custom(c) = &mut spec.build {
        c.outputs_image_ref_to = Some(d.join("ref.txt"));
    }
    let tagged = tagged_ref(&spec, &content_tag(&spec).unwrap());
    let _images = Images(vec![built.into(), tagged.clone()]);
    let (log, _) = sink();
    let builder = DockerBuilder::new(stilt::docker::connect().unwrap());
    builder.build(&spec, &tagged, log).await.unwrap();
    assert_eq!(run_sh(&tagged, "cat /made-by").trim(), "via-ref-file");
}
