//! The Kubernetes deploy target. On this branch only the streaming half: pod logs
//! (`logs`), port forwards (`forward`) and exec-based live update (`exec`), each
//! standalone over a `kube::Client`, with their shared error type (`stream_error`).

pub mod exec;
pub mod forward;
pub mod logs;
pub mod stream_error;
