//! `Forwarder`: a forward serving a pod's httpd, re-pointed to a second pod on the
//! same local port, stopped; and a taken local port reported, then retried.

use stilt::deploy::k8s::forward::Forwarder;
use stilt::model::ResourceName;
use stilt::model::k8s::PortForward;
use stilt::process::Stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

fn forward(local: u16, container: u16) -> PortForward {
    PortForward {
        local_port: local,
        container_port: Some(container),
        name: None,
        link_path: None,
        host: None,
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `GET /` on the local port; the response, or None when it cannot connect or the
/// response is empty.
async fn get(port: u16) -> Option<String> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    tcp.write_all(b"GET / HTTP/1.0\r\n\r\n").await.ok()?;
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_string(&mut response))
        .await
        .ok()?
        .ok()?;
    (!response.is_empty()).then_some(response)
}

/// Polls `get` until the response contains `text` (10 s at most).
async fn wait_for_page(port: u16, text: &str) -> String {
    let mut last = None;
    for _ in 0..50 {
        last = get(port).await;
        if last.as_deref().is_some_and(|r| r.contains(text)) {
            return last.unwrap_or_default();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("port {port} never served {text:?}; last response: {last:?}");
}

fn httpd(page: &str) -> String {
    format!("mkdir -p /tmp/w; echo {page} > /tmp/w/index.html; exec httpd -f -p 8080 -h /tmp/w")
}

#[tokio::test]
async fn a_forward_serves_its_pod_and_follows_a_new_pod_on_the_same_port() {
    let Some(client) = cluster().await else {
        return;
    };
    let ns = TestNs::create(&client, "forward").await;
    let image = image(true);
    ns.pod("a", image, &[("web", &httpd("from-pod-a"))]).await;
    ns.pod("b", image, &[("web", &httpd("from-pod-b"))]).await;
    let forwarder = Forwarder::new(client.clone());
    let resource = ResourceName::new("web");
    let port = free_port();
    let forwards = [forward(port, 8080)];
    let (log, lines) = collect();
    let to = |pod: &str| Some((ns.name.clone(), pod.to_owned()));
    forwarder.set(&resource, to("a"), &forwards, log.clone());
    wait_for_page(port, "from-pod-a").await;
    // Setting the same again changes nothing.
    forwarder.set(&resource, to("a"), &forwards, log.clone());
    assert!(get(port).await.unwrap().contains("from-pod-a"));
    forwarder.set(&resource, to("b"), &forwards, log.clone());
    wait_for_page(port, "from-pod-b").await;
    forwarder.set(&resource, None, &forwards, log);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        TcpStream::connect(("127.0.0.1", port)).await.is_err(),
        "still listening"
    );
    assert!(
        lines.lock().unwrap().is_empty(),
        "{:?}",
        lines.lock().unwrap()
    );
    forwarder.stop_all();
}

#[tokio::test]
async fn a_taken_local_port_is_reported_with_its_owner_and_retried() {
    // No cluster needed: nothing is forwarded until the port is free.
    let config = kube::Config::new("http://127.0.0.1:9".parse().unwrap());
    let client = Client::try_from(config).unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let forwarder = Forwarder::new(client);
    let (log, lines) = collect();
    let pod = Some(("default".to_owned(), "web-1".to_owned()));
    forwarder.set(&ResourceName::new("web"), pod, &[forward(port, 80)], log);
    tokio::time::sleep(Duration::from_millis(500)).await;
    {
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let (stream, line) = &lines[0];
        assert_eq!(*stream, Stream::System);
        let owner = format!("in use by pid {}", std::process::id());
        assert!(line.contains("resource web"), "{line}");
        assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
        assert!(line.contains(&owner), "{line}");
    }
    drop(taken);
    for _ in 0..50 {
        if lines.lock().unwrap().len() > 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let lines = lines.lock().unwrap();
    assert!(
        lines
            .last()
            .is_some_and(|(_, l)| l.contains("now listening")),
        "{lines:?}"
    );
    forwarder.stop_all();
}
