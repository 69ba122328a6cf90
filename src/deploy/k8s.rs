//! Kubernetes as a [`DeployTarget`], through the `kube` crate (no `kubectl`).
//!
//! - `connect`: kubeconfig -> client (no request yet);
//! - `inject`, `labels`: pure edits of the objects before they are applied (built
//!   images in, project and resource labels on);
//! - `kinds`, `apply`: discovery of each kind's API resource, server-side apply with
//!   unchanged-object skipping and delete-then-create on immutable fields;
//! - `placement`: whether the cluster runs on the local Docker Engine (images used in
//!   place, live update through the Engine) and, when not, which registry they go
//!   through (`registry_hosting`: the cluster's KEP-1755 ConfigMap);
//! - `pods`, `status`: the resource's pods (watch + cache) and what the newest one
//!   means as a container status (pure);
//! - `updater`: live update into pods; `streams`: the seam to pod logs, port forwards
//!   and exec; `down`: deletes what this project applied.

pub mod apply;
pub mod connect;
pub mod custom;
pub mod down;
pub mod exec;
pub mod forward;
pub mod inject;
pub mod kinds;
pub mod labels;
pub mod logs;
pub mod placement;
pub mod pods;
pub mod registry_hosting;
pub mod status;
pub mod stream_error;
pub mod streams;
pub mod target;
pub mod updater;

pub use down::DownReport;
pub use target::K8sTarget;

/// Something the Kubernetes target could not do. Each variant names the object,
/// resource or setting involved, and carries the API's own message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum K8sError {
    #[error("cannot read the kubeconfig ($KUBECONFIG or ~/.kube/config){}: {source}",
        context.as_ref().map(|c| format!(" for context {c}")).unwrap_or_default())]
    Kubeconfig {
        context: Option<String>,
        #[source]
        source: Box<kube::config::KubeconfigError>,
    },
    #[error(
        "the kubeconfig has no current context: pass --context or run `kubectl config use-context`"
    )]
    NoContext,
    #[error("cannot make a Kubernetes client for context {context}: {message}")]
    Client { context: String, message: String },
    #[error(
        "cannot reach the Kubernetes API server to look up kind {kind} of {api_version} \
         (is the cluster running?): {message}"
    )]
    Unreachable {
        api_version: String,
        kind: String,
        message: String,
    },
    #[error("the cluster does not serve kind {kind} of {api_version}: {message}")]
    UnknownKind {
        api_version: String,
        kind: String,
        message: String,
    },
    #[error("cannot {doing} {object}: {message}")]
    Api {
        object: String,
        doing: &'static str,
        message: String,
    },
    #[error(transparent)]
    Inject(#[from] inject::InjectError),
    #[error(transparent)]
    Custom(#[from] custom::CustomError),
    #[error(
        "resource {resource}: image {image} is built into the local Docker Engine, but {why}: \
         the cluster needs the image from a registry; name one with \
         default_registry('host:port') (none is set, and the cluster publishes none in \
         ConfigMap kube-public/local-registry-hosting)"
    )]
    NeedsRegistry {
        resource: String,
        image: String,
        why: String,
    },
    #[error(transparent)]
    Hosting(#[from] registry_hosting::HostingError),
    #[error("cannot list the cluster's nodes (to see where images go): {message}")]
    Nodes { message: String },
    #[error("cannot list pods ({selector}) in namespace {namespace}: {message}")]
    ListPods {
        namespace: String,
        selector: String,
        message: String,
    },
    #[error("watching pods ({selector}) in namespace {namespace}: {message}")]
    Watch {
        namespace: String,
        selector: String,
        message: String,
    },
    #[error("down: cannot {doing}: {message}")]
    Down { doing: String, message: String },
}

/// The API server's message for a failed request (its `Status.message`), or the
/// client's error when the request got no answer.
pub fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if !s.message.is_empty() => s.message.clone(),
        other => {
            // Connection failures hide the reason (refused, TLS, DNS) in the chain.
            let mut text = other.to_string();
            let mut cause = std::error::Error::source(other);
            while let Some(c) = cause {
                let next = c.to_string();
                if !text.contains(&next) {
                    text = format!("{text}: {next}");
                }
                cause = c.source();
            }
            text
        }
    }
}

/// Whether the API server answered at all (an HTTP status), as opposed to a
/// connection, TLS or protocol failure on the way.
pub fn answered(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(_))
}
