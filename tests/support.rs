//! Builders shared by the test areas: hand-built resources and projects that read
//! like the Tiltfile they stand for.
//!
//! `local("web").cmd("make").serve("./server").deps_on(&["db"])` is
//! `local_resource("web", cmd="make", serve_cmd="./server", resource_deps=["db"])`.
//! Commands are argv lists split on spaces, so the fake spawner's script key is the
//! command text itself (a shell string would be keyed `sh -c ...`).

use std::path::PathBuf;
use std::time::Duration;

use stilt::model::{
    Cmd, LocalSpec, Probe, ProbeAction, Project, Resource, ResourceKind, ResourceName, Settings,
    TriggerMode,
};

pub const TILTFILE: &str = "/proj/Tiltfile";

/// `local_resource(name)` with nothing set yet.
pub fn local(name: &str) -> Res {
    Res(Resource {
        name: ResourceName::new(name),
        labels: vec![],
        links: vec![],
        resource_deps: vec![],
        trigger_mode: TriggerMode::Auto,
        auto_init: true,
        kind: ResourceKind::Local(LocalSpec {
            dir: "/proj".into(),
            serve_dir: "/proj".into(),
            ..Default::default()
        }),
    })
}

fn argv(command: &str) -> Cmd {
    Cmd::Argv(command.split_whitespace().map(str::to_owned).collect())
}

/// A resource under construction.
#[derive(Debug, Clone)]
pub struct Res(pub Resource);

impl Res {
    fn spec(&mut self) -> &mut LocalSpec {
        match &mut self.0.kind {
            ResourceKind::Local(l) => l,
            other => panic!("not a local resource: {other:?}"),
        }
    }

    pub fn cmd(mut self, command: &str) -> Self {
        self.spec().cmd = Some(argv(command));
        self
    }

    pub fn serve(mut self, command: &str) -> Self {
        self.spec().serve_cmd = Some(argv(command));
        self
    }

    /// Files whose changes run it (`deps=`).
    pub fn watches(mut self, path: &std::path::Path) -> Self {
        self.spec().deps = vec![path.to_path_buf()];
        self
    }

    pub fn deps_on(mut self, names: &[&str]) -> Self {
        self.0.resource_deps = names.iter().map(|n| ResourceName::new(*n)).collect();
        self
    }

    pub fn manual(mut self) -> Self {
        self.0.trigger_mode = TriggerMode::Manual;
        self
    }

    pub fn no_auto_init(mut self) -> Self {
        self.0.auto_init = false;
        self
    }

    pub fn parallel(mut self) -> Self {
        self.spec().allow_parallel = true;
        self
    }

    /// A TCP readiness probe (never actually dialled by the pure tests).
    pub fn probe(mut self) -> Self {
        self.spec().readiness_probe = Some(Probe {
            initial_delay: Duration::ZERO,
            timeout: Duration::from_secs(1),
            period: Duration::from_secs(1),
            success_threshold: 1,
            failure_threshold: 3,
            action: ProbeAction::TcpSocket {
                host: "127.0.0.1".into(),
                port: 1,
            },
        });
        self
    }

    pub fn build(self) -> Resource {
        self.0
    }
}

/// A project with default settings.
pub fn project(resources: impl IntoIterator<Item = Res>) -> Project {
    project_with(Settings::default(), resources)
}

// `Project` grows fields as features land (e.g. the enabled-resources list); the
// update keeps this builder compiling and leaves them at "everything enabled".
#[allow(clippy::needless_update)]
pub fn project_with(settings: Settings, resources: impl IntoIterator<Item = Res>) -> Project {
    Project {
        tiltfile: PathBuf::from(TILTFILE),
        resources: resources.into_iter().map(Res::build).collect(),
        settings,
        ..Project::default()
    }
}
