//! Tests for `docker_compose()` and `dc_resource()`; they run the real compose tool.

use super::super::test_util::*;
use crate::config::Loaded;
use crate::model::{ComposeService, Link, ResourceKind, TriggerMode};

const COMPOSE: &str = "services:
  web:
    build:
      context: ./web
      args:
        MODE: dev
    ports:
      - \"8080:80\"
      - target: 81
        published: 8081
    depends_on: [db]
  db:
    image: postgres:13
    healthcheck:
      test: [\"CMD\", \"true\"]
  cache:
    image: redis
    healthcheck:
      disable: true
";

fn project(tiltfile: &str) -> Project {
    let p = Project::new(tiltfile);
    p.write("docker-compose.yml", COMPOSE);
    p.write("web/Dockerfile", "FROM scratch\n");
    p
}

fn service<'a>(loaded: &'a Loaded, name: &str) -> &'a ComposeService {
    match &loaded.project.resource(name).expect(name).kind {
        ResourceKind::Compose(s) => s,
        other => panic!("not compose: {other:?}"),
    }
}

fn names(loaded: &Loaded) -> Vec<&str> {
    loaded
        .project
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .collect()
}

#[test]
fn each_service_becomes_a_resource_with_deps_links_and_health() {
    let p = project("docker_compose('docker-compose.yml', project_name='stilt-test-a')\n");
    let loaded = p.load();
    assert_eq!(names(&loaded), ["cache", "db", "web"]);
    let web = loaded.project.resource("web").unwrap();
    assert_eq!(web.resource_deps, vec!["db".into()]);
    // Published ports are kept apart from links, as in Tilt; they show as endpoints.
    assert!(web.links.is_empty(), "{:?}", web.links);
    assert_eq!(
        service(&loaded, "web").port_urls(),
        ["http://localhost:8080/", "http://localhost:8081/"]
    );
    assert!(service(&loaded, "db").has_healthcheck);
    assert!(!service(&loaded, "cache").has_healthcheck);
    assert!(!service(&loaded, "web").has_healthcheck);
    let s = service(&loaded, "web");
    assert_eq!(s.project.name, "stilt-test-a");
    assert_eq!(s.project.project_dir, p.path());
    assert_eq!(s.project.files, vec![p.path().join("docker-compose.yml")]);
    assert!(s.project.model["services"]["web"].is_object());
    assert!(has(
        &loaded.files_read,
        &p.path().join("docker-compose.yml")
    ));
}

#[test]
fn a_build_section_generates_an_image_named_after_project_and_service() {
    let loaded =
        project("docker_compose('docker-compose.yml', project_name='stilt-test-b')\n").load();
    assert_eq!(
        service(&loaded, "web").image.as_deref(),
        Some("stilt-test-b_web")
    );
    let img = loaded
        .project
        .image("stilt-test-b_web")
        .expect("generated image");
    let crate::model::ImageBuild::Docker(d) = &img.build else {
        panic!("not a docker build")
    };
    assert!(d.context.ends_with("web"));
    assert!(
        matches!(&d.dockerfile, crate::model::Dockerfile::Path(p) if p.ends_with("web/Dockerfile"))
    );
    assert_eq!(d.build_args.get("MODE").map(String::as_str), Some("dev"));
    assert_eq!(service(&loaded, "db").image, None);
}

#[test]
fn a_docker_build_matching_the_service_image_is_used_without_its_tag() {
    let p = project(
        "docker_compose('docker-compose.yml', project_name='stilt-test-c')\n\
         docker_build('postgres', 'web')\n",
    );
    let loaded = p.load();
    assert_eq!(service(&loaded, "db").image.as_deref(), Some("postgres"));
    assert!(
        !loaded.warnings.iter().any(|w| w.contains("not used")),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn docker_build_wins_over_a_build_section_with_a_warning() {
    let p = Project::new(
        "docker_build('app', 'web')\n\
         docker_compose('c.yml', project_name='stilt-test-d')\n",
    );
    p.write(
        "c.yml",
        "services:\n  web:\n    image: app:dev\n    build: ./web\n",
    );
    p.write("web/Dockerfile", "FROM scratch\n");
    let loaded = p.load();
    assert_eq!(service(&loaded, "web").image.as_deref(), Some("app"));
    assert_eq!(loaded.project.images.len(), 1);
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("build: section is ignored")),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn inline_yaml_blob_and_default_project_name() {
    let p = Project::new(
        "docker_compose(blob('services:\\n  one:\\n    image: x\\n    ports: [\"7001:7001\"]\\n'))\n",
    );
    let loaded = p.load();
    let s = service(&loaded, "one");
    let dir_name = p
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_lowercase();
    let expected: String = dir_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    assert_eq!(s.project.name, expected);
    assert!(s.project.files.is_empty());
    assert_eq!(s.published_ports, vec![7001]);
}

#[test]
fn a_compose_error_is_reported_at_the_call_with_the_tool_message() {
    let p = Project::new("x = 1\ndocker_compose('c.yml')\n");
    p.write("c.yml", "services:\n  web:\n    imagee: x\n");
    let f = p.fail();
    assert_fails_at(&f, "config` failed", 2, 1);
    assert!(f.error.to_string().contains("imagee"), "{}", f.error);
    assert!(has(&f.files_read, &p.path().join("c.yml")));
}

#[test]
fn a_missing_compose_file_is_an_error_and_watched() {
    let p = Project::new("docker_compose(['missing.yml'])\n");
    let f = p.fail();
    assert_fails_at(&f, "missing.yml does not exist", 1, 1);
    assert!(has(&f.files_read, &p.path().join("missing.yml")));
}

#[test]
fn env_file_and_profiles_are_passed_to_compose() {
    let p = Project::new(
        "docker_compose('c.yml', env_file='dev.env', profiles=['debug'], project_name='stilt-test-e')\n",
    );
    p.write(
        "c.yml",
        "services:\n  a:\n    image: x\n    ports: [\"${PORT}:80\"]\n  \
         dbg:\n    image: y\n    profiles: [debug]\n  other:\n    image: z\n    profiles: [never]\n",
    );
    p.write("dev.env", "PORT=7100\n");
    let loaded = p.load();
    assert_eq!(names(&loaded), ["a", "dbg"]);
    assert_eq!(service(&loaded, "a").published_ports, vec![7100]);
    assert!(has(&loaded.files_read, &p.path().join("dev.env")));
}

#[test]
fn dc_resource_before_docker_compose_sets_options_and_renames() {
    let p = project(
        "dc_resource('db', new_name='database', labels=['infra'], auto_init=False,\n\
         trigger_mode=TRIGGER_MODE_MANUAL, links=[link('http://localhost:5432', 'pg')])\n\
         dc_resource('web', infer_links=False, resource_deps=['setup'])\n\
         local_resource('setup', 'true')\n\
         docker_compose('docker-compose.yml', project_name='stilt-test-f')\n",
    );
    let loaded = p.load();
    // Tilt's order: compose services (dependencies first), then local resources.
    assert_eq!(names(&loaded), ["cache", "database", "web", "setup"]);
    let db = loaded.project.resource("database").unwrap();
    assert_eq!(db.labels, ["infra"]);
    assert!(!db.auto_init);
    assert_eq!(db.trigger_mode, TriggerMode::Manual);
    assert_eq!(
        db.links,
        vec![Link {
            url: "http://localhost:5432".into(),
            name: Some("pg".into())
        }]
    );
    let web = loaded.project.resource("web").unwrap();
    assert!(web.links.is_empty());
    assert_eq!(web.resource_deps, vec!["database".into(), "setup".into()]);
    assert_eq!(service(&loaded, "database").service, "db");
}

#[test]
fn dc_resource_for_an_unknown_service_lists_the_known_ones() {
    let p = project(
        "docker_compose('docker-compose.yml', project_name='stilt-test-g')\n\
         dc_resource('wbe')\n",
    );
    let f = p.fail();
    assert_fails_at(&f, "no Docker Compose service named \"wbe\"", 2, 1);
    assert!(
        f.error
            .to_string()
            .contains("stilt-test-g/cache, stilt-test-g/db, stilt-test-g/web"),
        "{}",
        f.error
    );
}

#[test]
fn dc_resource_image_picks_a_declared_image() {
    let p = project(
        "docker_build('custom-cache', 'web')\n\
         docker_compose('docker-compose.yml', project_name='stilt-test-h')\n\
         dc_resource('cache', image='custom-cache')\n",
    );
    let loaded = p.load();
    assert_eq!(
        service(&loaded, "cache").image.as_deref(),
        Some("custom-cache")
    );
    let f = project(
        "docker_compose('docker-compose.yml', project_name='stilt-test-h')\n\
         dc_resource('cache', image='nope')\n",
    )
    .fail();
    assert_fails_at(
        &f,
        "no docker_build or custom_build declares that image",
        2,
        1,
    );
}

#[test]
fn a_service_named_like_a_local_resource_is_an_error_at_the_later_one() {
    let p = project(
        "docker_compose('docker-compose.yml', project_name='stilt-test-i')\n\
         local_resource('db', 'true')\n",
    );
    assert_fails_at(
        &p.fail(),
        "a resource named \"db\" is already declared",
        2,
        1,
    );
}

#[test]
fn enabling_a_compose_service_brings_its_depends_on() {
    let p = project("docker_compose('docker-compose.yml', project_name='stilt-test-j')\n");
    let loaded = p.load_args(&["web"]);
    let enabled: Vec<&str> = loaded
        .project
        .enabled
        .as_ref()
        .unwrap()
        .iter()
        .map(|n| n.as_str())
        .collect();
    assert_eq!(enabled, ["web", "db"]);
}

#[test]
fn two_projects_with_one_service_name_need_project_name_in_dc_resource() {
    let p = Project::new(
        "docker_compose('a/c.yml', project_name='stilt-test-k1')\n\
         dc_resource('svc', project_name='stilt-test-k1', new_name='svc1')\n\
         docker_compose('b/c.yml', project_name='stilt-test-k2')\n",
    );
    p.write("a/c.yml", "services:\n  svc:\n    image: x\n");
    p.write("b/c.yml", "services:\n  svc:\n    image: x\n");
    let loaded = p.load();
    assert_eq!(names(&loaded), ["svc1", "svc"]);
    assert_eq!(
        service(&loaded, "svc").project.project_dir,
        p.path().join("b")
    );
    p.write(
        "Tiltfile",
        "docker_compose('a/c.yml')\ndocker_compose('b/c.yml')\ndc_resource('svc')\n",
    );
    assert_fails_at(&p.fail(), "pass project_name= to pick one", 3, 1);
}

#[test]
fn a_second_call_for_the_same_project_merges_its_files_in_place() {
    let p = Project::new(
        "docker_compose('docker-compose.yml')\n\
         local_resource('x', 'true')\n\
         docker_compose('override.yml')\n",
    );
    p.write("docker-compose.yml", "services:\n  web:\n    image: x\n");
    p.write(
        "override.yml",
        "services:\n  web:\n    ports: ['7200:80']\n  extra:\n    image: y\n",
    );
    let loaded = p.load();
    assert_eq!(names(&loaded), ["extra", "web", "x"]);
    let web = service(&loaded, "web");
    assert_eq!(web.published_ports, vec![7200]);
    assert_eq!(
        web.project.files,
        vec![
            p.path().join("docker-compose.yml"),
            p.path().join("override.yml")
        ]
    );
}
