//! Project-wide settings from `update_settings`, `watch_settings`, `ci_settings`, ...

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub max_parallel_updates: usize,
    /// Extra ignore patterns from `watch_settings(ignore=)` (gitignore syntax).
    pub watch_ignore: Vec<String>,
    /// Whether `.gitignore` files exclude paths from watching (Tilt: never).
    pub use_gitignore: bool,
    /// Quiet window after the last file event before a batch is emitted.
    pub debounce_quiet: Duration,
    /// Upper bound on how long a batch can be held back by a stream of events.
    pub debounce_max_wait: Duration,
    /// `stilt ci` global timeout; `None` waits forever.
    pub ci_timeout: Option<Duration>,
    /// Per-resource limit on how long a resource may stay not ready in `ci`.
    pub ci_readiness_timeout: Option<Duration>,
    /// Bytes of log kept per resource before the oldest lines are dropped.
    pub log_cap_bytes: usize,
    /// Kubernetes: allowed contexts, `--context`/`--namespace`, ci grace period.
    pub k8s: super::k8s::K8sSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_parallel_updates: 3,
            watch_ignore: Vec::new(),
            use_gitignore: true,
            debounce_quiet: Duration::from_millis(15),
            debounce_max_wait: Duration::from_secs(2),
            ci_timeout: Some(Duration::from_secs(30 * 60)),
            ci_readiness_timeout: Some(Duration::from_secs(5 * 60)),
            log_cap_bytes: 1 << 20,
            k8s: super::k8s::K8sSettings::default(),
        }
    }
}
