//! `follow_pod`: prefixes for several containers, container restarts without
//! repeated lines, `since_unix`, and the end of the stream when the pod goes.

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use stilt::deploy::k8s::logs::{LogItem, follow_pod};
use stilt::model::Stream;

use super::*;

/// Lines from `logs` until `enough` holds of them, or until `within` passes.
async fn read_until(
    logs: &mut BoxStream<'static, LogItem>,
    within: Duration,
    enough: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let mut lines = Vec::new();
    let deadline = tokio::time::Instant::now() + within;
    while !enough(&lines) {
        match tokio::time::timeout_at(deadline, logs.next()).await {
            Ok(Some(Ok((stream, line)))) => {
                assert_eq!(stream, Stream::Stdout);
                lines.push(line);
            }
            Ok(Some(Err(e))) => panic!("log error: {e}"),
            Ok(None) | Err(_) => break,
        }
    }
    lines
}

#[tokio::test]
async fn lines_of_several_containers_carry_their_names() {
    let Some(client) = cluster().await else {
        return;
    };
    let ns = TestNs::create(&client, "logs-two").await;
    let image = image(true);
    let containers = [
        ("a", "echo a1; echo a2; sleep 3600"),
        ("b", "echo b1; sleep 3600"),
    ];
    ns.pod("p", image, &containers).await;
    let mut logs = follow_pod(client.clone(), &ns.name, "p", 0);
    let mut lines = read_until(&mut logs, Duration::from_secs(20), |l| l.len() >= 3).await;
    lines.sort();
    assert_eq!(lines, ["[a] a1", "[a] a2", "[b] b1"]);
}

#[tokio::test]
async fn init_containers_are_followed_too() {
    let Some(client) = cluster().await else {
        return;
    };
    let ns = TestNs::create(&client, "logs-init").await;
    let image = image(true);
    let init = [("setup", "echo migrating; echo migrated")];
    ns.pod_with_init("p", image, &init, &[("app", "echo serving; sleep 3600")])
        .await;
    let mut logs = follow_pod(client.clone(), &ns.name, "p", 0);
    let lines = read_until(&mut logs, Duration::from_secs(20), |l| l.len() >= 3).await;
    // Containers are followed side by side; each keeps its own order.
    let setup: Vec<_> = lines.iter().filter(|l| l.starts_with("[setup]")).collect();
    assert_eq!(
        setup,
        ["[setup] migrating", "[setup] migrated"],
        "{lines:?}"
    );
    assert!(lines.contains(&"[app] serving".to_owned()), "{lines:?}");
}

#[tokio::test]
async fn a_restarted_container_is_followed_without_repeating_lines() {
    let Some(client) = cluster().await else {
        return;
    };
    let ns = TestNs::create(&client, "logs-restart").await;
    let image = image(true);
    let run = "echo run $(cat /proc/sys/kernel/random/uuid); sleep 1; exit 1";
    ns.pod("p", image, &[("app", run)]).await;
    let mut logs = follow_pod(client.clone(), &ns.name, "p", 0);
    let mut lines = read_until(&mut logs, Duration::from_secs(60), |l| l.len() >= 2).await;
    // Anything repeated would arrive within a few reconnects.
    lines.extend(read_until(&mut logs, Duration::from_secs(4), |_| false).await);
    let pod = ns.pods().get("p").await.unwrap();
    let restarts = pod.status.unwrap().container_statuses.unwrap()[0].restart_count;
    assert!(lines.len() >= 2, "a second run's line: {lines:?}");
    assert!(lines.iter().all(|l| l.starts_with("run ")), "{lines:?}");
    let mut unique = lines.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), lines.len(), "repeated lines: {lines:?}");
    assert!(
        lines.len() as i32 <= restarts + 1,
        "{lines:?} for {restarts} restarts"
    );
}

#[tokio::test]
async fn since_unix_skips_earlier_lines_and_the_stream_ends_with_the_pod() {
    let Some(client) = cluster().await else {
        return;
    };
    let ns = TestNs::create(&client, "logs-since").await;
    let image = image(true);
    ns.pod(
        "p",
        image,
        &[("app", "echo early; sleep 4; echo late; sleep 3600")],
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut logs = follow_pod(client.clone(), &ns.name, "p", since);
    let lines = read_until(&mut logs, Duration::from_secs(20), |l| !l.is_empty()).await;
    assert_eq!(lines, ["late"]);
    ns.pods()
        .delete("p", &DeleteParams::default())
        .await
        .expect("delete pod");
    // The pod goes once the kubelet killed it: seconds, more on a loaded machine.
    let end = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(item) = logs.next().await {
            assert!(item.is_ok(), "{item:?}");
        }
    })
    .await;
    let left = ns
        .pods()
        .get_opt("p")
        .await
        .ok()
        .flatten()
        .map(|p| p.status);
    assert!(
        end.is_ok(),
        "the log stream did not end with its pod (pod now: {left:?})"
    );
}
