use super::*;

const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: one
clusters:
- name: c1
  cluster: {server: "https://127.0.0.1:6443"}
- name: c2
  cluster: {server: "https://127.0.0.1:7443"}
contexts:
- name: one
  context: {cluster: c1, user: u, namespace: team}
- name: two
  context: {cluster: c2, user: u}
users:
- name: u
  user: {token: abc}
"#;

fn kubeconfig() -> Kubeconfig {
    Kubeconfig::from_yaml(KUBECONFIG).expect("kubeconfig fixture")
}

#[tokio::test]
async fn the_current_context_and_its_namespace_are_the_defaults() {
    let c = connect_with(kubeconfig(), &K8sSettings::default()).expect("connect");
    assert_eq!(c.context, "one");
    assert_eq!(c.namespace, "team");
    assert_eq!(c.client.default_namespace(), "team");
}

#[tokio::test]
async fn context_and_namespace_settings_override_the_kubeconfig() {
    let settings = K8sSettings {
        context: Some("two".into()),
        ..K8sSettings::default()
    };
    let c = connect_with(kubeconfig(), &settings).expect("connect");
    assert_eq!(
        (c.context.as_str(), c.namespace.as_str()),
        ("two", "default")
    );

    let settings = K8sSettings {
        namespace: Some("mine".into()),
        ..K8sSettings::default()
    };
    let c = connect_with(kubeconfig(), &settings).expect("connect");
    assert_eq!((c.context.as_str(), c.namespace.as_str()), ("one", "mine"));
}

#[tokio::test]
async fn an_unknown_context_is_an_error_naming_it() {
    let settings = K8sSettings {
        context: Some("nope".into()),
        ..K8sSettings::default()
    };
    let err = connect_with(kubeconfig(), &settings)
        .err()
        .expect("unknown context");
    assert!(err.to_string().contains("nope"), "{err}");
}

#[tokio::test]
async fn no_current_context_is_an_error_that_says_what_to_do() {
    let mut kc = kubeconfig();
    kc.current_context = None;
    let err = connect_with(kc, &K8sSettings::default())
        .err()
        .expect("no context");
    assert!(err.to_string().contains("--context"), "{err}");
}
