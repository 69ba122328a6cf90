use std::sync::{Arc, Mutex};

use super::*;

fn project() -> ComposeProject {
    ComposeProject {
        name: "shop".into(),
        project_dir: "/src/shop".into(),
        files: vec![],
        env_file: Some("/src/shop/.env.dev".into()),
        profiles: vec!["debug".into(), "tools".into()],
        wait: false,
        model: serde_json::json!({}),
    }
}

#[test]
fn argv_passes_project_env_file_profiles_and_model_on_stdin() {
    let cli = ComposeCli::new(ComposeTool {
        argv: vec!["docker".into(), "compose".into()],
        json_config: true,
    });
    let argv = cli.argv(&project(), &["up", "-d", "web"]);
    assert_eq!(
        argv.join(" "),
        "docker compose -p shop --project-directory /src/shop --env-file /src/shop/.env.dev \
         --profile debug --profile tools -f - up -d web"
    );
}

#[test]
fn failure_message_names_project_service_command_and_output() {
    let err = ComposeError::Failed {
        command: "docker-compose -p shop -f - up -d web".into(),
        project: "shop".into(),
        service: Some("web".into()),
        exit: "exit code 1".into(),
        output: vec!["Pulling web".into(), "pull access denied".into()],
    };
    assert_eq!(
        err.to_string(),
        "`docker-compose -p shop -f - up -d web` failed for service \"web\" of compose \
         project \"shop\" (exit code 1):\n  Pulling web\n  pull access denied"
    );
}

/// A "compose tool" that is a shell script; compose's arguments become `$1...`.
fn script_tool(script: &str) -> ComposeCli {
    ComposeCli::new(ComposeTool {
        argv: vec!["sh".into(), "-c".into(), script.into(), "sh".into()],
        json_config: false,
    })
}

fn project_in(dir: &std::path::Path) -> ComposeProject {
    ComposeProject {
        project_dir: dir.to_owned(),
        env_file: None,
        profiles: vec![],
        model: serde_json::json!({"services": {"web": {"build": {"context": "."}}}}),
        ..project()
    }
}

type Lines = Arc<Mutex<Vec<(Stream, String)>>>;

fn collecting() -> (LineSink, Lines) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink_lines = lines.clone();
    let sink: LineSink = Arc::new(move |s, l| sink_lines.lock().unwrap().push((s, l)));
    (sink, lines)
}

#[tokio::test]
async fn up_feeds_the_deploy_model_on_stdin_and_streams_output() {
    let dir = tempfile::tempdir().unwrap();
    let cli = script_tool("cat > stdin.json; echo \"args: $*\"; echo progress >&2");
    let p = project_in(dir.path());
    let images = BTreeMap::from([("web".to_owned(), "web:stilt-1".to_owned())]);
    let (sink, lines) = collecting();
    cli.up(&p, "web", &images, sink).await.unwrap();
    let fed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("stdin.json")).unwrap()).unwrap();
    assert_eq!(fed, for_deploy(&p, &images));
    let dir_arg = dir.path().display();
    // stdout and stderr are read by two tasks: their relative order is not defined.
    let mut got = lines.lock().unwrap().clone();
    got.sort_by_key(|(s, _)| *s == Stream::Stderr);
    assert_eq!(
        got,
        vec![
            (
                Stream::Stdout,
                format!(
                    "args: -p shop --project-directory {dir_arg} -f - up -d --no-deps --no-build web"
                )
            ),
            (Stream::Stderr, "progress".to_owned()),
        ]
    );
}

#[tokio::test]
async fn failed_command_carries_its_last_output_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cli = script_tool("cat >/dev/null; for i in $(seq 1 30); do echo line $i; done; exit 3");
    let (sink, _) = collecting();
    let err = cli
        .rm(&project_in(dir.path()), "web", sink)
        .await
        .unwrap_err();
    let ComposeError::Failed {
        service,
        exit,
        output,
        ..
    } = err
    else {
        panic!("not a failure: {err}");
    };
    assert_eq!(
        (service.as_deref(), exit.as_str()),
        (Some("web"), "exit code 3")
    );
    assert_eq!(output.len(), TAIL_LINES);
    assert_eq!(output.last().map(String::as_str), Some("line 30"));
}

#[tokio::test]
async fn missing_tool_is_reported_as_not_installed() {
    let dir = tempfile::tempdir().unwrap();
    let cli = ComposeCli::new(ComposeTool {
        argv: vec!["stilt-test-no-such-compose".into()],
        json_config: false,
    });
    let (sink, _) = collecting();
    let err = cli
        .down(&project_in(dir.path()), false, sink)
        .await
        .unwrap_err();
    assert!(matches!(err, ComposeError::ToolNotFound { .. }), "{err}");
    assert!(err.to_string().contains("not installed"), "{err}");
}

#[tokio::test]
async fn dropping_the_future_kills_the_tools_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    // The tool leaves a grandchild that kill_on_drop alone would orphan.
    let cli = script_tool("sleep 300 & echo $! > grandchild; wait");
    let p = project_in(dir.path());
    let (sink, _) = collecting();
    let pid_file = dir.path().join("grandchild");
    {
        let images = BTreeMap::new();
        let up = cli.up(&p, "web", &images, sink);
        let wait_pid = async {
            while std::fs::read_to_string(&pid_file).map_or(true, |s| s.trim().is_empty()) {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        };
        tokio::select! {
            _ = up => panic!("the tool ended by itself"),
            () = wait_pid => {}
        }
    }
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let gone = async {
        // A killed orphan may linger as a zombie until init reaps it.
        while std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| !stat.contains(") Z "))
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), gone)
        .await
        .expect("the grandchild was killed");
}
