//! `stilt down`: evaluates the Tiltfile as `down` and removes what `up` created.
//!
//! Docker Compose projects are taken down (containers and networks; named volumes
//! only with `--delete-volumes`). Local processes belong to the `stilt up` that
//! started them and stop when it exits; evaluating the Tiltfile still lets
//! `if config.tilt_subcommand == "down": local(...)` teardown code run. Kubernetes
//! objects carrying this project's label are deleted (not those annotated
//! `tilt.dev/down-policy: keep`; Namespaces only with `--delete-namespaces`). Then,
//! as in Tilt, the `delete_cmd` of each `k8s_custom_deploy` runs.

use std::sync::Arc;

use super::{DownArgs, STOP_GRACE, interrupted};
use crate::config::{LoadControl, LoadOptions, load};
use crate::deploy::compose::ComposeDeployer;
use crate::deploy::compose::cli::ComposeCli;
use crate::deploy::k8s::K8sTarget;
use crate::deploy::k8s::custom;
use crate::engine::load_run::{LoadEnd, LoadJob, load_until};
use crate::model::{ComposeProject, Project};
use crate::process::{LineSink, Stream};

pub async fn down(args: DownArgs) -> i32 {
    let job = LoadJob {
        load: Arc::new(load),
        warn_after: args.common.load_warn_after(),
        opts: LoadOptions {
            k8s: args.common.k8s(),
            tiltfile: args.common.file,
            args: args.common.args,
            subcommand: "down".into(),
            control: LoadControl::default(),
        },
        grace: STOP_GRACE,
    };
    let report = |lines: Vec<String>| lines.iter().for_each(|l| eprintln!("{l}"));
    let loaded = match load_until(job, interrupted(), report).await {
        LoadEnd::Done(Ok(l)) => l,
        LoadEnd::Done(Err(f)) => {
            for line in &f.output {
                println!("{line}");
            }
            eprintln!("Error: {}", f.error);
            return 1;
        }
        LoadEnd::Crashed(e) => {
            eprintln!("Error: internal error: Tiltfile evaluation crashed: {e}");
            return 1;
        }
        LoadEnd::Abandoned => {
            eprintln!("Interrupted while loading the Tiltfile; nothing was removed");
            return 130;
        }
    };
    for line in &loaded.output {
        println!("{line}");
    }
    let projects = compose_projects(&loaded.project);
    let locals = loaded
        .project
        .resources
        .iter()
        .filter(|r| r.local().is_some())
        .count();
    if locals > 0 {
        println!("{locals} local resource(s): their processes stop with `stilt up`");
    }
    let mut code = 0;
    if !projects.is_empty() && !compose_down(&projects, args.delete_volumes).await {
        code = 1;
    }
    if loaded.project.resources.iter().any(|r| r.k8s().is_some())
        && !k8s_down(&loaded.project, args.delete_namespaces).await
    {
        code = 1;
    }
    code
}

async fn compose_down(projects: &[ComposeProject], delete_volumes: bool) -> bool {
    let cli = match ComposeCli::detect() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {e}");
            return false;
        }
    };
    let mut ok = true;
    for p in projects {
        println!("removing Docker Compose project {}", p.name);
        if let Err(e) = cli.down(p, delete_volumes, indented()).await {
            eprintln!("Error: {e}");
            ok = false;
        }
    }
    ok
}

/// Deletes every Kubernetes object this project applied (found by its label).
async fn k8s_down(project: &Project, delete_namespaces: bool) -> bool {
    let id = crate::instance::project_id(&project.tiltfile);
    let target = match K8sTarget::connect(&project.settings.k8s, &id, None) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("Error: Kubernetes: {e}");
            return false;
        }
    };
    println!(
        "deleting the Kubernetes objects of this project (context {})",
        target.context()
    );
    let mut ok = match target.down(delete_namespaces, indented()).await {
        Ok(report) => {
            if report.deleted.is_empty() {
                println!("  nothing to delete");
            }
            true
        }
        Err(e) => {
            eprintln!("Error: {e}");
            false
        }
    };
    let spawner = crate::process::real::RealSpawner::default();
    for e in custom::delete_all(&spawner, &project.resources, &indented()).await {
        eprintln!("Error: {e}");
        ok = false;
    }
    ok
}

/// Output lines of a teardown, indented under its heading.
fn indented() -> LineSink {
    Arc::new(|stream: Stream, line: String| match stream {
        Stream::Stderr => eprintln!("  {line}"),
        _ => println!("  {line}"),
    })
}

/// Each compose project once, in the order its first service appears.
fn compose_projects(p: &Project) -> Vec<ComposeProject> {
    let mut out: Vec<ComposeProject> = Vec::new();
    for r in &p.resources {
        if let Some(c) = r.compose()
            && !out.iter().any(|o| o.name == c.project.name)
        {
            out.push(c.project.clone());
        }
    }
    out
}
