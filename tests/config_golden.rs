//! Tiltfile evaluation: each `fixtures/config/NAME.star` is loaded and its result
//! (the project, or the error message) compared with `NAME.golden`.
//! Regenerate after an intended change with `STILT_REGENERATE_GOLDEN=1 cargo test`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use stilt::config::{LoadOptions, load};
use stilt::model::{ComposeService, ImageBuild, ImageSpec, LiveUpdateSpec, Project, ResourceKind};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config")
}

/// A stable text rendering of a load result, with the fixture dir shown as `<dir>`.
fn render(name: &str, args: &[&str]) -> String {
    let dir = fixtures();
    let opts = LoadOptions {
        tiltfile: dir.join(format!("{name}.star")),
        args: args.iter().map(|s| s.to_string()).collect(),
        subcommand: "up".into(),
        // A local cluster's context, so the production guard lets k8s fixtures load
        // whatever the machine's kubeconfig says.
        k8s: stilt::model::K8sSettings {
            context: Some("stilt-test".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let text = match load(&opts) {
        Ok(l) => {
            let mut s = render_project(&l.project);
            for w in &l.warnings {
                let _ = writeln!(s, "warning: {w}");
            }
            for o in &l.output {
                let _ = writeln!(s, "output: {o}");
            }
            s
        }
        Err(f) => format!("ERROR\n{}\n", f.error),
    };
    text.replace(&dir.display().to_string(), "<dir>")
}

fn render_project(p: &Project) -> String {
    let mut s = String::new();
    let st = &p.settings;
    let _ = writeln!(
        s,
        "settings: max_parallel_updates={} use_gitignore={} watch_ignore={:?} ci_timeout={:?} readiness_timeout={:?}",
        st.max_parallel_updates,
        st.use_gitignore,
        st.watch_ignore,
        st.ci_timeout,
        st.ci_readiness_timeout
    );
    let k = &st.k8s;
    if !k.allowed_contexts.is_empty() || k.grace_period.is_some() {
        let _ = writeln!(
            s,
            "k8s: allowed_contexts={:?} grace_period={:?}",
            k.allowed_contexts, k.grace_period
        );
    }
    if let Some(r) = &k.registry {
        let _ = writeln!(
            s,
            "registry: host={:?} host_from_cluster={:?} single_name={:?}",
            r.host, r.host_from_cluster, r.single_name
        );
    }
    if let Some(e) = &p.enabled {
        let names: Vec<&str> = e.iter().map(|n| n.as_str()).collect();
        let _ = writeln!(s, "enabled: {names:?}");
    }
    render_compose_projects(&mut s, p);
    for img in &p.images {
        render_image(&mut s, img);
    }
    for r in &p.resources {
        let _ = writeln!(s, "resource {}", r.name);
        let _ = writeln!(
            s,
            "  trigger_mode={:?} auto_init={} labels={:?}",
            r.trigger_mode, r.auto_init, r.labels
        );
        let deps: Vec<&str> = r.resource_deps.iter().map(|d| d.as_str()).collect();
        let _ = writeln!(s, "  resource_deps={deps:?}");
        for l in &r.links {
            let _ = writeln!(s, "  link {} {:?}", l.url, l.name);
        }
        let l = match &r.kind {
            ResourceKind::Local(l) => l,
            ResourceKind::Compose(c) => {
                render_service(&mut s, c);
                continue;
            }
            ResourceKind::K8s(k) => {
                render_k8s(&mut s, k);
                continue;
            }
            ResourceKind::Target(t) => {
                let _ = writeln!(s, "  target={} images={:?}", t.target, t.images);
                continue;
            }
        };
        let _ = writeln!(s, "  cmd={:?}", l.cmd);
        let _ = writeln!(s, "  serve_cmd={:?}", l.serve_cmd);
        let _ = writeln!(s, "  deps={:?} ignore={:?}", l.deps, l.ignore);
        let _ = writeln!(
            s,
            "  dir={} serve_dir={}",
            l.dir.display(),
            l.serve_dir.display()
        );
        let _ = writeln!(
            s,
            "  env={:?} serve_env={:?} allow_parallel={}",
            l.env, l.serve_env, l.allow_parallel
        );
        if let Some(p) = &l.readiness_probe {
            let _ = writeln!(s, "  probe={p:?}");
        }
    }
    s
}

/// A Kubernetes resource: its objects, workload, image slots and pod settings.
fn render_k8s(s: &mut String, k: &stilt::model::K8sSpec) {
    for (i, o) in k.objects.iter().enumerate() {
        let workload = if k.workload == Some(i) {
            " (workload)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  object {} {}{workload}",
            o.api_version,
            o.selector(true)
        );
    }
    if !k.images.is_empty() {
        let _ = writeln!(s, "  images={:?}", k.images);
    }
    for slot in &k.image_slots {
        let _ = writeln!(
            s,
            "  image {} at {}{} (container {:?})",
            slot.image_ref, slot.object, slot.pointer, slot.container
        );
    }
    for pf in &k.port_forwards {
        let _ = writeln!(s, "  port_forward {pf:?}");
    }
    if !k.extra_pod_selectors.is_empty() {
        let _ = writeln!(s, "  extra_pod_selectors={:?}", k.extra_pod_selectors);
    }
    let _ = writeln!(
        s,
        "  pod_readiness={:?} discovery={:?}",
        k.pod_readiness, k.discovery
    );
    if let Some(c) = &k.custom {
        let _ = writeln!(
            s,
            "  apply={:?} dir={} env={:?}",
            c.apply.cmd,
            c.apply.dir.display(),
            c.apply.env
        );
        let _ = writeln!(
            s,
            "  delete={:?} dir={} env={:?}",
            c.delete.cmd,
            c.delete.dir.display(),
            c.delete.env
        );
        let _ = writeln!(s, "  deps={:?} image_deps={:?}", c.deps, c.image_deps);
        let _ = writeln!(
            s,
            "  image_selector={:?} container_selector={:?}",
            c.image_selector, c.container_selector
        );
    }
    for slot in &k.image_slots {
        if let Some(t) = &slot.tag_pointer {
            let _ = writeln!(s, "  tag of {} at {}{t}", slot.image_ref, slot.object);
        }
    }
}

/// Each compose project once (services share it): what `config` resolved.
fn render_compose_projects(s: &mut String, p: &Project) {
    let mut seen: Vec<&str> = Vec::new();
    for c in p.resources.iter().filter_map(|r| r.compose()) {
        let proj = &c.project;
        if seen.contains(&proj.name.as_str()) {
            continue;
        }
        seen.push(&proj.name);
        let services: Vec<&String> = proj.model["services"]
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        let _ = writeln!(s, "compose_project {}", proj.name);
        let _ = writeln!(
            s,
            "  dir={} files={:?} env_file={:?}",
            proj.project_dir.display(),
            proj.files,
            proj.env_file
        );
        let _ = writeln!(
            s,
            "  profiles={:?} wait={} model_services={services:?}",
            proj.profiles, proj.wait
        );
    }
}

fn render_service(s: &mut String, c: &ComposeService) {
    let _ = writeln!(
        s,
        "  compose project={} service={} image={:?} healthcheck={} ports={:?} infer_links={}",
        c.project.name, c.service, c.image, c.has_healthcheck, c.published_ports, c.infer_links
    );
}

fn render_image(s: &mut String, img: &ImageSpec) {
    let _ = writeln!(s, "image {} ({})", img.image_ref, img.kind_label());
    match &img.build {
        ImageBuild::Docker(d) => {
            let _ = writeln!(
                s,
                "  context={} dockerfile={:?}",
                d.context.display(),
                d.dockerfile
            );
            let _ = writeln!(
                s,
                "  build_args={:?} target={:?} ignore={:?} only={:?}",
                d.build_args, d.target, d.ignore, d.only
            );
            let _ = writeln!(
                s,
                "  extra_tags={:?} network={:?} platform={:?} pull={} cache_from={:?} extra_hosts={:?}",
                d.extra_tags, d.network, d.platform, d.pull, d.cache_from, d.extra_hosts
            );
        }
        ImageBuild::Custom(c) => {
            let _ = writeln!(s, "  command={:?} dir={}", c.command, c.dir.display());
            let _ = writeln!(s, "  deps={:?} ignore={:?}", c.deps, c.ignore);
            let _ = writeln!(
                s,
                "  tag={:?} disable_push={} skips_local_docker={} outputs_image_ref_to={:?} env={:?}",
                c.tag, c.disable_push, c.skips_local_docker, c.outputs_image_ref_to, c.env
            );
        }
    }
    if let Some(e) = &img.entrypoint {
        let _ = writeln!(s, "  entrypoint={e:?}");
    }
    render_live_update(s, &img.live_update);
}

fn render_live_update(s: &mut String, lu: &LiveUpdateSpec) {
    if *lu == LiveUpdateSpec::default() {
        return;
    }
    let _ = writeln!(
        s,
        "  live_update initial_sync={} restart={} fall_back_on={:?}",
        lu.initial_sync, lu.restart, lu.fall_back_on
    );
    for sync in &lu.syncs {
        let _ = writeln!(s, "    sync {} -> {}", sync.local.display(), sync.remote);
    }
    for run in &lu.runs {
        let _ = writeln!(
            s,
            "    run {:?} triggers={:?} echo_off={}",
            run.cmd, run.triggers, run.echo_off
        );
    }
    if let Some(r) = &lu.restart_process {
        let _ = writeln!(
            s,
            "    restart_process entrypoint={:?} file={} triggers={:?} exit_policy={}",
            r.entrypoint,
            r.restart_file,
            r.triggers,
            r.exit_policy.as_str()
        );
    }
}

fn check(name: &str, args: &[&str]) {
    let got = render(name, args);
    let path = fixtures().join(format!("{name}.golden"));
    if std::env::var_os("STILT_REGENERATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing {}: run with STILT_REGENERATE_GOLDEN=1",
            path.display()
        )
    });
    assert_eq!(
        got,
        want,
        "{name}: evaluation result differs from {}",
        path.display()
    );
}

macro_rules! golden {
    ($($name:ident $(($($arg:expr),*))?),* $(,)?) => {
        $(#[test] fn $name() { check(stringify!($name), &[$($($arg),*)?]); })*
    };
}

golden! {
    k8s_kind_json_path,
    k8s_kind_image_object,
    k8s_kind_error_unsupported_path,
    k8s_kind_error_wrong_type,
    k8s_kind_error_non_string_target,
    k8s_kind_error_bad_image_object,
    k8s_custom_deploy_all_options,
    k8s_custom_deploy_error_unknown_image,
    k8s_custom_deploy_error_wrong_type,
    k8s_custom_deploy_error_live_update,
    k8s_custom_deploy_error_new_name,
    local_resource_all_arguments,
    trigger_mode_default_applies,
    settings_builtins,
    load_relative_symbols,
    error_syntax,
    error_unclosed_bracket_at_end,
    error_unclosed_paren_at_end,
    error_runaway_recursion,
    error_resource_name_newline,
    error_resource_name_slash,
    error_unsupported_builtin,
    error_dependency_cycle,
    error_unknown_dependency,
    error_duplicate_resource,
    error_probe_needs_one_action,
    error_load_cycle,
    error_missing_load,
    error_fail_builtin,
    error_bad_trigger_mode,
    exit_keeps_earlier_resources,
    enabled_resources_from_args("web"),
    error_enable_unknown_resource("nope"),
    config_parse_takes_args("--port", "9000", "extra"),
    error_bad_ignore_pattern,
    docker_build_all_options,
    custom_build_all_options,
    error_docker_build_ssh,
    error_docker_build_duplicate_ref,
    error_live_update_order,
    error_live_update_sync_outside_context,
    error_live_update_relative_remote,
    live_update_trigger_outside_sync,
    error_live_update_without_sync_or_run,
    error_live_update_sync_outside_deps,
    docker_compose_services,
    docker_compose_enable_by_name("web"),
    error_compose_missing_file,
    dc_resource_options,
    error_dc_resource_unknown_service,
    tab_indentation,
    error_tab_indented_column,
    file_var_and_ignored_settings,
    relative_paths_follow_executing_file,
    error_local_resource_dir_without_cmd,
    error_local_resource_serve_dir_without_serve_cmd,
    k8s_deployment_service,
    k8s_name_collision,
    k8s_same_name_two_namespaces,
    k8s_uncategorized_order,
    k8s_objects_placement,
    k8s_objects_only_resource,
    k8s_extra_pod_selectors,
    k8s_job_and_cronjob,
    k8s_init_containers,
    k8s_undeclared_image,
    k8s_port_forwards,
    k8s_resource_merge,
    k8s_list_and_pod,
    k8s_filter_yaml,
    k8s_workload_to_resource_function,
    k8s_settings,
    default_registry,
    error_default_registry_twice,
    error_default_registry_bad_host,
    error_k8s_resource_unknown,
    error_k8s_restart_container,
    restart_process,
    error_restart_process_exit_policy,
    error_restart_process_no_live_update,
    error_restart_process_with_restart_container,
    error_unknown_extension,
    error_v1alpha1_constructor,
    error_k8s_duplicate_object,
    error_k8s_bad_port_forward,
    error_k8s_yaml_invalid_document,
    error_k8s_objects_ambiguous,
}

/// Fixtures that run a real tool (`helm`; `kustomize` or `kubectl`): skipped when it
/// is not on `$PATH`, failed when the cluster tests are on (`STILT_TEST_KUBECONFIG`).
macro_rules! golden_with_tool {
    ($($tool:literal => $name:ident),* $(,)?) => {
        $(#[test] fn $name() {
            if crate::cli_helm::tool_or_skip($tool) {
                check(stringify!($name), &[]);
                // The render cache went to the fixture's state dir: leave none behind.
                let tiltfile = fixtures().join(concat!(stringify!($name), ".star"));
                let _ = std::fs::remove_dir_all(stilt::instance::state_dir(&tiltfile));
            }
        })*
    };
}

golden_with_tool! {
    "helm" => helm_render,
    "helm" => helm_defaults,
    "helm" => error_helm_bad_value,
    "kubectl" => kustomize_overlay,
}

golden! {
    error_helm_missing_chart,
    error_kustomize_no_kustomization,
}
