//! Kubernetes YAML at load time, all pure except `kubeconfig`'s file reads: parsing
//! objects (`yaml`), grouping them into resources as Tilt does (`group`), finding
//! where built images go (`images`), reading port forward specs (`ports`), matching
//! `filter_yaml`'s and `objects=`'s selectors (`select`), the kubeconfig's context
//! and namespace (`kubeconfig`) and the production-cluster guard (`guard`).
//!
//! The builtins in `builtins/k8s.rs` only record what the Tiltfile says; the
//! grouping runs once evaluation is over (`config::assemble`), because Tilt lets
//! `k8s_resource` come before the `k8s_yaml` that declares its workload.

pub mod group;
pub mod guard;
pub mod images;
pub mod jsonpath;
pub mod kinds;
pub mod kubeconfig;
pub mod ports;
pub mod render;
pub mod resources;
pub mod select;
pub mod yaml;
