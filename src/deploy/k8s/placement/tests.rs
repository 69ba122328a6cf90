use super::*;

fn node(name: &str, addresses: &[&str], runtime: &str) -> NodeFacts {
    NodeFacts {
        name: name.into(),
        addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
        runtime: runtime.into(),
        machine_id: String::new(),
    }
}

fn here() -> LocalFacts {
    LocalFacts {
        engine_name: Some("vm".into()),
        hostname: Some("vm".into()),
        addresses: vec![
            "127.0.0.1".parse().expect("ip"),
            "192.0.2.2".parse().expect("ip"),
        ],
        machine_id: Some("3d12".into()),
    }
}

#[test]
fn a_docker_node_at_one_of_our_addresses_is_the_local_engine() {
    // The project's test cluster: node "localhost", InternalIP of eth0.
    let n = node(
        "localhost",
        &["192.0.2.2", "localhost"],
        "docker://20.10.24+dfsg1",
    );
    assert_eq!(decide(&[n], &here()), Placement::LocalEngine);
}

#[test]
fn a_docker_node_named_like_this_machine_or_docker_desktop_is_local() {
    let by_name = node("vm", &["10.1.1.1"], "docker://24.0.0");
    assert!(decide(&[by_name], &here()).is_local());
    let desktop = node("docker-desktop", &["192.168.65.3"], "docker://24.0.0");
    assert!(decide(&[desktop], &here()).is_local());
}

#[test]
fn the_machine_id_identifies_this_machine() {
    let mut n = node("worker", &["10.1.1.1"], "docker://24.0.0");
    n.machine_id = "3d12".into();
    assert!(decide(&[n], &here()).is_local());
}

#[test]
fn a_containerd_node_is_not_the_local_engine_even_on_this_machine() {
    let kind = node("vm", &["192.0.2.2"], "containerd://1.7.0");
    let Placement::Elsewhere { why } = decide(&[kind], &here()) else {
        panic!("containerd node taken for the local Engine");
    };
    assert!(why.contains("containerd://1.7.0"), "{why}");
}

#[test]
fn a_docker_node_on_another_machine_is_not_local() {
    // minikube's docker driver: a node container with its own Engine inside.
    let minikube = node("minikube", &["192.168.49.2"], "docker://24.0.4");
    assert_eq!(
        decide(&[minikube], &here()),
        Placement::Elsewhere {
            why: "node minikube is not this machine".into()
        }
    );
}

#[test]
fn every_node_must_be_local() {
    let local = node("localhost", &["192.0.2.2"], "docker://20.10");
    let remote = node("far", &["10.9.9.9"], "docker://20.10");
    assert!(!decide(&[local, remote], &here()).is_local());
}

#[test]
fn without_an_engine_or_nodes_nothing_is_local() {
    let n = node("localhost", &["192.0.2.2"], "docker://20.10");
    let no_engine = LocalFacts {
        engine_name: None,
        ..here()
    };
    assert!(!decide(std::slice::from_ref(&n), &no_engine).is_local());
    assert!(!decide(&[], &here()).is_local());
}

fn registry(host: &str) -> RegistrySpec {
    RegistrySpec {
        host: host.into(),
        ..RegistrySpec::default()
    }
}

#[test]
fn a_cluster_on_the_local_engine_gets_no_push_even_with_a_registry() {
    let local = Placement::LocalEngine;
    let r = registry("localhost:5000");
    assert_eq!(route(&local, Some(&r), None, false), Ok(ImageRoute::Local));
    assert_eq!(route(&local, None, Some(&r), false), Ok(ImageRoute::Local));
    assert_eq!(route(&local, None, None, false), Ok(ImageRoute::Local));
}

#[test]
fn forcing_a_push_pushes_to_a_local_cluster_when_there_is_a_registry() {
    let local = Placement::LocalEngine;
    let r = registry("127.0.0.1:5000");
    assert_eq!(
        route(&local, Some(&r), None, true),
        Ok(ImageRoute::Push(r.clone()))
    );
    // Nowhere to push: the images stay where they are.
    assert_eq!(route(&local, None, None, true), Ok(ImageRoute::Local));
}

#[test]
fn a_cluster_elsewhere_gets_pushes_to_the_configured_registry_before_the_clusters_own() {
    let away = Placement::Elsewhere {
        why: "node kind-control-plane runs containers with containerd".into(),
    };
    let mine = registry("localhost:5000");
    let clusters = RegistrySpec {
        host: "localhost:5001".into(),
        host_from_cluster: Some("kind-registry:5000".into()),
        single_name: None,
    };
    assert_eq!(
        route(&away, Some(&mine), Some(&clusters), false),
        Ok(ImageRoute::Push(mine.clone()))
    );
    assert_eq!(
        route(&away, None, Some(&clusters), false),
        Ok(ImageRoute::Push(clusters.clone()))
    );
}

#[test]
fn a_cluster_elsewhere_without_a_registry_says_why() {
    let away = Placement::Elsewhere {
        why: "node n1 is not this machine".into(),
    };
    assert_eq!(
        route(&away, None, None, false),
        Err("node n1 is not this machine".into())
    );
    // An empty host is no registry.
    assert!(route(&away, Some(&registry("")), None, false).is_err());
}
