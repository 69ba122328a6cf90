//! `stilt alpha tiltfile-result`: evaluates the Tiltfile (as `up` would, starting
//! nothing) and prints what it declared as JSON, in the stable shape documented in
//! docs/cli.md, so results can be compared with Tilt's and between versions.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use super::{CommonArgs, STOP_GRACE, interrupted};
use crate::config::{LoadControl, LoadOptions, load};
use crate::engine::load_run::{LoadEnd, LoadJob, load_until};
use crate::model::{
    Cmd, ImageBuild, ImageSpec, K8sSpec, LiveUpdateSpec, LocalSpec, Project, Resource,
    ResourceKind, TriggerMode,
};

pub async fn tiltfile_result(args: CommonArgs) -> i32 {
    let job = LoadJob {
        load: Arc::new(load),
        warn_after: args.load_warn_after(),
        opts: LoadOptions {
            k8s: args.k8s(),
            tiltfile: args.file,
            args: args.args,
            subcommand: "up".into(),
            control: LoadControl::default(),
        },
        grace: STOP_GRACE,
    };
    let report = |lines: Vec<String>| lines.iter().for_each(|l| eprintln!("{l}"));
    match load_until(job, interrupted(), report).await {
        LoadEnd::Done(Ok(loaded)) => {
            for line in &loaded.output {
                eprintln!("{line}");
            }
            let mut doc = project(&loaded.project);
            doc["warnings"] = json!(loaded.warnings);
            match serde_json::to_string_pretty(&doc) {
                Ok(text) => {
                    println!("{text}");
                    0
                }
                Err(e) => {
                    eprintln!("Error: cannot render the result: {e}");
                    1
                }
            }
        }
        LoadEnd::Done(Err(f)) => {
            for line in &f.output {
                eprintln!("{line}");
            }
            eprintln!("Error: {}", f.error);
            1
        }
        LoadEnd::Crashed(e) => {
            eprintln!("Error: internal error: Tiltfile evaluation crashed: {e}");
            1
        }
        LoadEnd::Abandoned => 130,
    }
}

fn path(p: &Path) -> Value {
    json!(p.display().to_string())
}

fn cmd(c: &Option<Cmd>) -> Value {
    match c {
        None => Value::Null,
        Some(Cmd::Shell(s)) => json!(s),
        Some(Cmd::Argv(v)) => json!(v),
    }
}

/// The whole result: resources in order, images, the enabled list.
pub fn project(p: &Project) -> Value {
    json!({
        "tiltfile": path(&p.tiltfile),
        "resources": p.resources.iter().map(resource).collect::<Vec<_>>(),
        "images": p.images.iter().map(image).collect::<Vec<_>>(),
        "enabled": p.enabled.as_ref().map(|e| e.iter().map(|n| n.as_str()).collect::<Vec<_>>()),
    })
}

fn resource(r: &Resource) -> Value {
    let mut v = json!({
        "name": r.name.as_str(),
        "kind": r.kind_label(),
        "resource_deps": r.resource_deps.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
        "labels": r.labels,
        "trigger_mode": match r.trigger_mode {
            TriggerMode::Auto => "auto",
            TriggerMode::Manual => "manual",
        },
        "auto_init": r.auto_init,
        "links": r.links.iter().map(|l| json!({"url": l.url, "name": l.name})).collect::<Vec<_>>(),
        "images": r.images(),
    });
    match &r.kind {
        ResourceKind::Local(l) => v["local"] = local(l),
        ResourceKind::Compose(c) => {
            v["compose"] = json!({
                "project": c.project.name,
                "service": c.service,
                "image": c.image,
                "healthcheck": c.has_healthcheck,
                "published_ports": c.published_ports,
                "infer_links": c.infer_links,
            })
        }
        ResourceKind::K8s(k) => v["k8s"] = k8s(k),
        ResourceKind::Target(t) => v["target"] = json!({"name": t.target, "spec": t.spec}),
    }
    v
}

fn local(l: &LocalSpec) -> Value {
    json!({
        "cmd": cmd(&l.cmd),
        "serve_cmd": cmd(&l.serve_cmd),
        "deps": l.deps.iter().map(|d| path(d)).collect::<Vec<_>>(),
        "ignore": l.ignore,
        "dir": path(&l.dir),
        "serve_dir": path(&l.serve_dir),
        "env": l.env,
        "serve_env": l.serve_env,
        "allow_parallel": l.allow_parallel,
        "readiness_probe": l.readiness_probe.is_some(),
    })
}

fn k8s(k: &K8sSpec) -> Value {
    json!({
        "objects": k.objects.iter().map(|o| json!({
            "apiVersion": o.api_version,
            "kind": o.kind,
            "name": o.name,
            "namespace": o.namespace,
        })).collect::<Vec<_>>(),
        "workload": k.workload.map(|w| k.objects[w].selector(true)),
        "image_slots": k.image_slots.iter().map(|s| json!({
            "object": k.objects.get(s.object).map(|o| o.selector(true)),
            "pointer": s.pointer,
            "image": s.image_ref,
        })).collect::<Vec<_>>(),
        "port_forwards": k.port_forwards.iter().map(|p| json!({
            "local_port": p.local_port,
            "container_port": p.container_port(),
            "host": p.host(),
            "name": p.name,
            "link_path": p.link_path,
        })).collect::<Vec<_>>(),
        "extra_pod_selectors": k.extra_pod_selectors,
        "pod_readiness": format!("{:?}", k.pod_readiness).to_lowercase(),
        "discovery_strategy": format!("{:?}", k.discovery).to_lowercase(),
    })
}

fn image(i: &ImageSpec) -> Value {
    let build = match &i.build {
        ImageBuild::Docker(d) => json!({
            "type": "docker_build",
            "context": path(&d.context),
            "dockerfile": match &d.dockerfile {
                crate::model::Dockerfile::Path(p) => path(p),
                crate::model::Dockerfile::Contents(_) => json!("<dockerfile_contents>"),
            },
            "build_args": d.build_args,
            "target": d.target,
            "ignore": d.ignore,
            "only": d.only,
        }),
        ImageBuild::Custom(c) => json!({
            "type": "custom_build",
            "command": cmd(&Some(c.command.clone())),
            "deps": c.deps.iter().map(|d| path(d)).collect::<Vec<_>>(),
            "tag": c.tag,
            "skips_local_docker": c.skips_local_docker,
            "dir": path(&c.dir),
        }),
    };
    json!({
        "image_ref": i.image_ref,
        "build": build,
        "live_update": live_update(&i.live_update),
    })
}

fn live_update(l: &LiveUpdateSpec) -> Value {
    json!({
        "initial_sync": l.initial_sync,
        "fall_back_on": l.fall_back_on.iter().map(|p| path(p)).collect::<Vec<_>>(),
        "sync": l.syncs.iter().map(|s| json!({"local": path(&s.local), "remote": s.remote})).collect::<Vec<_>>(),
        "run": l.runs.iter().map(|r| json!({
            "cmd": cmd(&Some(r.cmd.clone())),
            "trigger": r.triggers.iter().map(|p| path(p)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "restart_container": l.restart,
        "restart_process": l.restart_process.as_ref().map(|r| json!({
            "entrypoint": r.entrypoint,
            "restart_file": r.restart_file,
            "trigger": r.triggers.iter().map(|p| path(p)).collect::<Vec<_>>(),
            "exit_policy": r.exit_policy.as_str(),
        })),
    })
}
