//! Kubernetes in the Tiltfile: YAML to objects (`yaml`), Tilt's grouping of objects
//! into resources with the places built images go (`group`, pure), the kubeconfig's
//! context and namespace (`context`) and the guard against deploying to a cluster
//! that may not be local (`guard`, pure).

pub mod context;
pub mod group;
pub mod guard;
pub mod yaml;

pub use group::{Grouped, K8sResourceOpts, ObjectDecl, group};
