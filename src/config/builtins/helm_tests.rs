//! Tests for `helm()`: its arguments, the post-processing of what `helm template`
//! prints, the files it watches, the missing-binary error and the render cache, with a
//! counting fake `helm` script put first on the Tiltfile's `$PATH`.

use super::super::test_util::*;
use super::*;

/// A project with a chart, a values file and a fake `helm` that logs each run (its
/// arguments) to `runs` and prints one ConfigMap per run-independent input.
struct Fixture {
    p: Project,
}

const FAKE_HELM: &str = r#"#!/bin/sh
echo "$*" >> "$(dirname "$0")/../runs"
cat <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: from-fake-helm
---
apiVersion: v1
kind: Pod
metadata:
  name: chart-test
  annotations:
    helm.sh/hook: test-success
YAML
"#;

impl Fixture {
    fn new(tiltfile_rest: &str) -> Fixture {
        let tiltfile = format!(
            "os.putenv('PATH', os.path.abspath('bin') + ':' + os.getenv('PATH', ''))\n{tiltfile_rest}"
        );
        let p = Project::new(&tiltfile);
        p.write("bin/helm", FAKE_HELM)
            .write(
                "chart/Chart.yaml",
                "apiVersion: v2\nname: c\nversion: 0.1.0\n",
            )
            .write("chart/templates/cm.yaml", "kind: ConfigMap\n")
            .write("values.yaml", "a: 1\n");
        make_executable(&p.path().join("bin/helm"));
        Fixture { p }
    }

    /// Loads with the test cluster's context (a local one: the guard lets it pass).
    fn load(&self) -> crate::config::Loaded {
        load_k8s(&self.p)
    }

    fn runs(&self) -> Vec<String> {
        std::fs::read_to_string(self.p.path().join("runs"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Fixture {
    /// The render cache lives in the project's state dir: leave none behind.
    fn drop(&mut self) {
        let _ =
            std::fs::remove_dir_all(crate::instance::state_dir(&self.p.path().join("Tiltfile")));
    }
}

pub(crate) fn load_k8s(p: &Project) -> crate::config::Loaded {
    let opts = crate::config::LoadOptions {
        tiltfile: p.path().join("Tiltfile"),
        subcommand: "up".into(),
        k8s: crate::model::K8sSettings {
            context: Some("stilt-test".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    match crate::config::load(&opts) {
        Ok(l) => l,
        Err(e) => panic!("load failed: {}", e.error),
    }
}

fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn template_args_follow_tilt_order_and_defaults() {
    let a = HelmArgs {
        chart: "/p/chart".into(),
        ..Default::default()
    };
    assert_eq!(
        template_args(&a),
        ["template", "chart", "/p/chart", "--include-crds"]
    );
    let a = HelmArgs {
        chart: "/p/chart".into(),
        name: "rel".into(),
        namespace: "ns".into(),
        values: vec!["/p/v1.yaml".into(), "/p/v2.yaml".into()],
        set: vec!["a=1".into(), "b=2".into()],
        kube_version: "1.20.0".into(),
        skip_crds: true,
    };
    assert_eq!(
        template_args(&a).join(" "),
        "template rel /p/chart --skip-crds --namespace ns --kube-version 1.20.0 \
         --values /p/v1.yaml --values /p/v2.yaml --set a=1 --set b=2"
    );
}

#[test]
fn postprocess_drops_tests_and_places_namespaced_objects_only() {
    let text = "kind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n---\n\
                kind: ConfigMap\napiVersion: v1\nmetadata: {name: b, namespace: x}\n---\n\
                kind: ClusterRole\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: r}\n---\n\
                kind: Pod\napiVersion: v1\nmetadata: {name: t, annotations: {helm.sh/hook: 'test'}}\n";
    let out = postprocess(text, "helm: c", "ns").expect("postprocess");
    let objects = yaml::parse_objects(&out, "out").expect("parse");
    let placed: Vec<(String, Option<String>)> = objects
        .iter()
        .map(|o| (o.name.clone(), o.namespace.clone()))
        .collect();
    assert_eq!(
        placed,
        [
            ("a".to_owned(), Some("ns".to_owned())),
            ("b".to_owned(), Some("x".to_owned())),
            ("r".to_owned(), None),
        ]
    );
}

#[test]
fn postprocess_keeps_the_text_when_nothing_changes() {
    let text =
        "# Source: c/templates/a.yaml\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: a}\n";
    assert_eq!(postprocess(text, "helm: c", "").expect("ok"), text);
}

#[test]
fn helm_returns_a_blob_for_k8s_yaml_and_watches_chart_and_values() {
    let f = Fixture::new(
        "y = helm('chart', values='values.yaml', set=['x=1'])\n\
         print(type(y))\n\
         k8s_yaml(y)\n",
    );
    let loaded = f.load();
    assert!(
        loaded.output.iter().any(|l| l == "blob"),
        "{:?}",
        loaded.output
    );
    let root = f.p.path();
    assert!(has(&loaded.files_read, &root.join("chart")));
    assert!(has(&loaded.files_read, &root.join("values.yaml")));
    let objects = &loaded.project.resources[0];
    assert_eq!(objects.name.as_str(), "uncategorized");
    let runs = f.runs();
    assert_eq!(
        runs,
        [format!(
            "template chart {} --include-crds --values {} --set x=1",
            root.join("chart").display(),
            root.join("values.yaml").display()
        )]
    );
}

#[test]
fn local_chart_dependencies_are_watched() {
    let f = Fixture::new("k8s_yaml(helm('chart'))\n");
    f.p.write(
        "chart/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n  - name: lib\n    \
         version: 0.1.0\n    repository: file://../lib\n  - name: remote\n    \
         version: 1.0.0\n    repository: https://charts.example.com\n",
    );
    let loaded = f.load();
    assert!(
        has(&loaded.files_read, &f.p.path().join("lib")),
        "{:?}",
        loaded.files_read
    );
}

#[test]
fn a_reload_with_unchanged_chart_runs_helm_no_more() {
    let f = Fixture::new("k8s_yaml(helm('chart', values=['values.yaml']))\n");
    f.load();
    f.load();
    assert_eq!(f.runs().len(), 1, "the second load ran helm again");
    f.p.write("chart/templates/cm.yaml", "kind: ConfigMap # changed\n");
    f.load();
    assert_eq!(f.runs().len(), 2, "a changed template did not re-render");
    f.p.write("values.yaml", "a: 2\n");
    f.load();
    assert_eq!(f.runs().len(), 3, "a changed values file did not re-render");
}

#[test]
fn a_missing_helm_binary_is_named() {
    let f = Fixture::new("os.putenv('PATH', '/nonexistent')\nhelm('chart')\n");
    let err = f.p.fail();
    assert_fails_at(&err, "the `helm` binary was not found on $PATH", 3, 1);
}

#[test]
fn a_chart_path_that_is_a_file_is_refused() {
    let f = Fixture::new("helm('values.yaml')\n");
    let err = f.p.fail();
    assert_fails_at(
        &err,
        "is not a directory; helm() takes a local chart directory",
        2,
        1,
    );
}
