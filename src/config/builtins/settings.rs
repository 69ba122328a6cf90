//! Project-wide settings: trigger_mode(), update_settings, watch_settings, ci_settings.

use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::{NoneOr, NoneType};

use super::args::{TRIGGER_AUTO, TRIGGER_MANUAL, go_duration, str_or_list, trigger_mode_of};
use crate::config::collect::Collector;

fn duration_setting(
    v: NoneOr<&str>,
    what: &str,
) -> anyhow::Result<Option<Option<std::time::Duration>>> {
    match v.into_option() {
        None => Ok(None),
        Some(s) => {
            let d = go_duration(s).map_err(|e| anyhow::anyhow!("ci_settings({what}=): {e}"))?;
            // Tilt: 0 means no timeout.
            Ok(Some((!d.is_zero()).then_some(d)))
        }
    }
}

#[starlark_module]
fn settings_module(b: &mut GlobalsBuilder) {
    const TRIGGER_MODE_AUTO: i32 = TRIGGER_AUTO;
    const TRIGGER_MODE_MANUAL: i32 = TRIGGER_MANUAL;

    fn trigger_mode<'v>(
        #[starlark(require = pos)] mode: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        if mode.is_none() {
            bail!("trigger_mode() needs TRIGGER_MODE_AUTO or TRIGGER_MODE_MANUAL");
        }
        let m = trigger_mode_of(mode, c)?;
        c.default_trigger_mode.set(m);
        Ok(NoneType)
    }

    fn update_settings<'v>(
        #[starlark(require = named)] max_parallel_updates: Option<i32>,
        #[starlark(require = named)] k8s_upsert_timeout_secs: Option<Value<'v>>,
        #[starlark(require = named)] suppress_unused_image_warnings: Option<Value<'v>>,
        #[starlark(require = named)] k8s_server_side_apply: Option<Value<'v>>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let _ = (
            k8s_upsert_timeout_secs,
            suppress_unused_image_warnings,
            k8s_server_side_apply,
        );
        let c = Collector::get(eval)?;
        if let Some(n) = max_parallel_updates {
            if n < 1 {
                bail!("update_settings(max_parallel_updates=) must be at least 1, got {n}");
            }
            c.settings.borrow_mut().max_parallel_updates = n as usize;
        }
        Ok(NoneType)
    }

    /// `ignore=` is Tilt's; `use_gitignore=`, `debounce_ms=` and `max_wait_ms=` are stilt's.
    fn watch_settings<'v>(
        #[starlark(require = named)] ignore: Option<Value<'v>>,
        #[starlark(require = named)] use_gitignore: Option<bool>,
        #[starlark(require = named)] debounce_ms: Option<i32>,
        #[starlark(require = named)] max_wait_ms: Option<i32>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        let mut s = c.settings.borrow_mut();
        s.watch_ignore
            .extend(str_or_list(ignore, "watch_settings(ignore=)")?);
        if let Some(g) = use_gitignore {
            s.use_gitignore = g;
        }
        if let Some(ms) = debounce_ms {
            if !(0..=10_000).contains(&ms) {
                bail!("watch_settings(debounce_ms=) must be between 0 and 10000, got {ms}");
            }
            s.debounce_quiet = std::time::Duration::from_millis(ms as u64);
        }
        if let Some(ms) = max_wait_ms {
            if !(1..=600_000).contains(&ms) {
                bail!("watch_settings(max_wait_ms=) must be between 1 and 600000, got {ms}");
            }
            s.debounce_max_wait = std::time::Duration::from_millis(ms as u64);
        }
        Ok(NoneType)
    }

    fn ci_settings<'v>(
        #[starlark(require = named, default = NoneOr::None)] timeout: NoneOr<&str>,
        #[starlark(require = named, default = NoneOr::None)] readiness_timeout: NoneOr<&str>,
        #[starlark(require = named, default = NoneOr::None)] k8s_grace_period: NoneOr<&str>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        let mut s = c.settings.borrow_mut();
        if let Some(t) = duration_setting(timeout, "timeout")? {
            s.ci_timeout = t;
        }
        if let Some(t) = duration_setting(readiness_timeout, "readiness_timeout")? {
            s.ci_readiness_timeout = t;
        }
        if let Some(g) = k8s_grace_period.into_option() {
            // Unlike the timeouts, 0 is a real value here: no grace at all.
            let d = go_duration(g)
                .map_err(|e| anyhow::anyhow!("ci_settings(k8s_grace_period=): {e}"))?;
            s.k8s.grace_period = Some(d);
        }
        Ok(NoneType)
    }

    /// Accepted so shared Tiltfiles run; stilt never phones home or checks versions.
    fn version_settings<'v>(
        #[starlark(args)] _args: Value<'v>,
        #[starlark(kwargs)] _kwargs: Value<'v>,
    ) -> anyhow::Result<NoneType> {
        Ok(NoneType)
    }

    fn analytics_settings<'v>(
        #[starlark(args)] _args: Value<'v>,
        #[starlark(kwargs)] _kwargs: Value<'v>,
    ) -> anyhow::Result<NoneType> {
        Ok(NoneType)
    }

    /// Tilt's analytics and telemetry hooks: accepted and ignored, like `analytics_settings`.
    fn experimental_analytics_report<'v>(
        #[starlark(args)] _args: Value<'v>,
        #[starlark(kwargs)] _kwargs: Value<'v>,
    ) -> anyhow::Result<NoneType> {
        Ok(NoneType)
    }

    fn experimental_metrics_settings<'v>(
        #[starlark(args)] _args: Value<'v>,
        #[starlark(kwargs)] _kwargs: Value<'v>,
    ) -> anyhow::Result<NoneType> {
        Ok(NoneType)
    }

    fn experimental_telemetry_cmd<'v>(
        #[starlark(args)] _args: Value<'v>,
        #[starlark(kwargs)] _kwargs: Value<'v>,
    ) -> anyhow::Result<NoneType> {
        Ok(NoneType)
    }

    /// Legacy Tilt Cloud team id: accepted and ignored.
    fn set_team<'v>(#[starlark(require = pos)] team_id: Value<'v>) -> anyhow::Result<NoneType> {
        let _ = team_id;
        Ok(NoneType)
    }

    /// Tilt feature flags: accepted and ignored (stilt has no flagged features).
    fn enable_feature<'v>(
        #[starlark(require = pos)] feature_name: Value<'v>,
    ) -> anyhow::Result<NoneType> {
        let _ = feature_name;
        Ok(NoneType)
    }

    /// Tilt feature flags: accepted and ignored, like `enable_feature`.
    fn disable_feature<'v>(
        #[starlark(require = pos)] feature_name: Value<'v>,
    ) -> anyhow::Result<NoneType> {
        let _ = feature_name;
        Ok(NoneType)
    }

    /// Where Kubernetes CRDs keep image references: accepted and ignored while
    /// stilt has no Kubernetes target.
    fn k8s_image_json_path<'v>(
        #[starlark(require = pos)] paths: Value<'v>,
        #[starlark(default = NoneOr::None)] api_version: NoneOr<Value<'v>>,
        #[starlark(default = NoneOr::None)] kind: NoneOr<Value<'v>>,
        #[starlark(default = NoneOr::None)] name: NoneOr<Value<'v>>,
        #[starlark(default = NoneOr::None)] namespace: NoneOr<Value<'v>>,
    ) -> anyhow::Result<NoneType> {
        let _ = (paths, api_version, kind, name, namespace);
        Ok(NoneType)
    }

    /// Tilt's pruning of old images: accepted and ignored; `stilt down` removes the
    /// image tags stilt built.
    #[allow(clippy::too_many_arguments)]
    fn docker_prune_settings<'v>(
        #[starlark(default = NoneOr::None)] disable: NoneOr<Value<'v>>,
        #[starlark(default = NoneOr::None)] max_age_mins: NoneOr<Value<'v>>,
        #[starlark(default = NoneOr::None)] num_builds: NoneOr<Value<'v>>,
        #[starlark(default = NoneOr::None)] interval_hrs: NoneOr<Value<'v>>,
        #[starlark(default = NoneOr::None)] keep_recent: NoneOr<Value<'v>>,
    ) -> anyhow::Result<NoneType> {
        let _ = (disable, max_age_mins, num_builds, interval_hrs, keep_recent);
        Ok(NoneType)
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    settings_module(b);
}
