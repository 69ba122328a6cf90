//! Starlark values for `link()`, `probe()` and the probe actions.

use std::fmt;
use std::time::Duration;

use allocative::Allocative;
use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::starlark_module;
use starlark::starlark_simple_value;
use starlark::values::float::UnpackFloat;
use starlark::values::list::ListRef;
use starlark::values::none::NoneOr;
use starlark::values::{NoSerialize, ProvidesStaticType, StarlarkValue, Value, starlark_value};

use super::args::{downcast, list_of_str};
use super::blob::Text;
use crate::model::{Link, Probe, ProbeAction};

#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub struct LinkValue {
    #[allocative(skip)]
    pub link: Link,
}
starlark_simple_value!(LinkValue);

impl fmt::Display for LinkValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "link({:?}, {:?})",
            self.link.url,
            self.link.name.clone().unwrap_or_default()
        )
    }
}

#[starlark_value(type = "link")]
impl<'v> StarlarkValue<'v> for LinkValue {}

#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub struct ProbeActionValue {
    #[allocative(skip)]
    pub action: ProbeAction,
}
starlark_simple_value!(ProbeActionValue);

impl fmt::Display for ProbeActionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.action)
    }
}

#[starlark_value(type = "probe_action")]
impl<'v> StarlarkValue<'v> for ProbeActionValue {}

#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub struct ProbeValue {
    #[allocative(skip)]
    pub probe: Probe,
}
starlark_simple_value!(ProbeValue);

impl fmt::Display for ProbeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "probe({:?})", self.probe.action)
    }
}

#[starlark_value(type = "probe")]
impl<'v> StarlarkValue<'v> for ProbeValue {}

fn port(p: i32) -> anyhow::Result<u16> {
    u16::try_from(p)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| anyhow::anyhow!("port must be between 1 and 65535, got {p}"))
}

fn secs(v: f64, what: &str) -> anyhow::Result<Duration> {
    if !(v.is_finite() && v >= 0.0) {
        bail!("{what} must be a non-negative number of seconds, got {v}");
    }
    Ok(Duration::from_secs_f64(v))
}

fn action_of<'v>(v: NoneOr<Value<'v>>, what: &str) -> anyhow::Result<Option<ProbeAction>> {
    match v.into_option() {
        None => Ok(None),
        Some(v) => Ok(Some(
            downcast::<ProbeActionValue>(v, what, &format!("{what}(...)"))?
                .action
                .clone(),
        )),
    }
}

/// `links` may be a url string, a `link(...)`, or a list of either.
pub fn links_arg(v: Value) -> anyhow::Result<Vec<Link>> {
    if v.is_none() {
        return Ok(Vec::new());
    }
    let items: Vec<Value> = match ListRef::from_value(v) {
        Some(l) => l.content().to_vec(),
        None => vec![v],
    };
    items.into_iter().map(one_link).collect()
}

fn one_link(v: Value) -> anyhow::Result<Link> {
    if let Some(url) = v.unpack_str() {
        return Ok(Link {
            url: url.to_owned(),
            name: None,
        });
    }
    let l = downcast::<LinkValue>(v, "links", "a url string or link(...)")?;
    Ok(l.link.clone())
}

#[starlark_module]
fn values_module(b: &mut GlobalsBuilder) {
    fn link(
        #[starlark(require = pos)] url: Text,
        #[starlark(default = "")] name: &str,
    ) -> anyhow::Result<LinkValue> {
        let url = url.as_str();
        if url.trim().is_empty() {
            bail!("link() needs a non-empty url");
        }
        Ok(LinkValue {
            link: Link {
                url: url.to_owned(),
                name: (!name.is_empty()).then(|| name.to_owned()),
            },
        })
    }

    fn exec_action<'v>(
        #[starlark(require = pos)] command: Value<'v>,
    ) -> anyhow::Result<ProbeActionValue> {
        let command = list_of_str(command, "exec_action command")?;
        if command.is_empty() {
            bail!("exec_action() needs a non-empty command list");
        }
        Ok(ProbeActionValue {
            action: ProbeAction::Exec { command },
        })
    }

    fn http_get_action(
        port: i32,
        #[starlark(default = "localhost")] host: &str,
        #[starlark(default = "http")] scheme: &str,
        #[starlark(default = "")] path: &str,
    ) -> anyhow::Result<ProbeActionValue> {
        if scheme != "http" {
            bail!("http_get_action scheme {scheme:?} is not supported yet (only \"http\")");
        }
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("/{path}")
        };
        Ok(ProbeActionValue {
            action: ProbeAction::HttpGet {
                host: host.to_owned(),
                port: self::port(port)?,
                path,
                scheme: scheme.to_owned(),
            },
        })
    }

    fn tcp_socket_action(
        port: i32,
        #[starlark(default = "localhost")] host: &str,
    ) -> anyhow::Result<ProbeActionValue> {
        Ok(ProbeActionValue {
            action: ProbeAction::TcpSocket {
                host: host.to_owned(),
                port: self::port(port)?,
            },
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn probe<'v>(
        #[starlark(default = UnpackFloat(0f64))] initial_delay_secs: UnpackFloat,
        #[starlark(default = UnpackFloat(1f64))] timeout_secs: UnpackFloat,
        #[starlark(default = UnpackFloat(10f64))] period_secs: UnpackFloat,
        #[starlark(default = 1)] success_threshold: i32,
        #[starlark(default = 3)] failure_threshold: i32,
        #[starlark(default = NoneOr::None)] exec: NoneOr<Value<'v>>,
        #[starlark(default = NoneOr::None)] http_get: NoneOr<Value<'v>>,
        #[starlark(default = NoneOr::None)] tcp_socket: NoneOr<Value<'v>>,
    ) -> anyhow::Result<ProbeValue> {
        let actions: Vec<ProbeAction> = [
            action_of(exec, "exec")?,
            action_of(http_get, "http_get")?,
            action_of(tcp_socket, "tcp_socket")?,
        ]
        .into_iter()
        .flatten()
        .collect();
        let [action] = <[ProbeAction; 1]>::try_from(actions).map_err(|a| {
            anyhow::anyhow!(
                "probe() needs exactly one of exec=, http_get=, tcp_socket= (got {})",
                a.len()
            )
        })?;
        if success_threshold < 1 || failure_threshold < 1 {
            bail!("probe() thresholds must be at least 1");
        }
        Ok(ProbeValue {
            probe: Probe {
                initial_delay: secs(initial_delay_secs.0, "initial_delay_secs")?,
                timeout: secs(timeout_secs.0, "timeout_secs")?,
                period: secs(period_secs.0, "period_secs")?.max(Duration::from_millis(10)),
                success_threshold: success_threshold as u32,
                failure_threshold: failure_threshold as u32,
                action,
            },
        })
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    values_module(b);
}
