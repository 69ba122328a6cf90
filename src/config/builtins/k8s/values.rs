//! The Kubernetes builtins' argument values: YAML sources, `port_forward(...)` and
//! port forward specs, pod selectors, and the string enums.

use std::collections::BTreeMap;
use std::fmt;

use allocative::Allocative;
use anyhow::{Context, bail};
use starlark::starlark_simple_value;
use starlark::values::{
    NoSerialize, ProvidesStaticType, StarlarkValue, Value, ValueLike, starlark_value,
};

use super::super::args::{items_of, str_dict};
use super::super::blob::Blob;
use crate::config::collect::{Collector, resolve};
use crate::config::k8s::ports;
use crate::model::{DiscoveryStrategy, PodReadiness, PortForward};

/// YAML text and what to call it in errors (the file, or `<blob>`).
pub struct Source {
    pub name: String,
    pub text: String,
}

/// A path, a blob of YAML, or a list of them; files are recorded as read (a change
/// reloads the Tiltfile) and a missing one is an error naming it.
pub fn sources(
    c: &Collector,
    eval: &starlark::eval::Evaluator,
    v: Value,
    what: &str,
) -> anyhow::Result<Vec<Source>> {
    let items = items_of(v).unwrap_or_else(|| vec![v]);
    let mut out = Vec::new();
    for item in items {
        if let Some(b) = item.downcast_ref::<Blob>() {
            out.push(Source {
                name: "<blob>".into(),
                text: b.text.clone(),
            });
            continue;
        }
        let Some(p) = item.unpack_str() else {
            bail!(
                "{what}: expected a path, a blob of YAML or a list of them, not {}",
                item.get_type()
            );
        };
        if p.contains('\n') {
            bail!(
                "{what}: a string is a path, and this one spans lines; pass YAML text as \
                 blob(...)"
            );
        }
        let path = resolve(eval, p);
        c.record_read(&path);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{what}: cannot read {}", path.display()))?;
        out.push(Source {
            name: path.display().to_string(),
            text,
        });
    }
    Ok(out)
}

/// `port_forward(...)`: a port forward for `k8s_resource(port_forwards=)`.
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub struct PortForwardValue {
    #[allocative(skip)]
    pub pf: PortForward,
}
starlark_simple_value!(PortForwardValue);

impl fmt::Display for PortForwardValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pf = &self.pf;
        write!(f, "port_forward({}, {}", pf.local_port, pf.container_port())?;
        if let Some(n) = &pf.name {
            write!(f, ", name={n:?}")?;
        }
        write!(f, ")")
    }
}

#[starlark_value(type = "port_forward")]
impl<'v> StarlarkValue<'v> for PortForwardValue {}

fn one_port_forward(v: Value) -> anyhow::Result<PortForward> {
    if let Some(pf) = v.downcast_ref::<PortForwardValue>() {
        return Ok(pf.pf.clone());
    }
    if let Some(s) = v.unpack_str() {
        return ports::parse(s).map_err(|e| anyhow::anyhow!("k8s_resource(port_forwards=): {e}"));
    }
    if let Some(n) = v.unpack_i32() {
        return ports::from_int(n.into())
            .map_err(|e| anyhow::anyhow!("k8s_resource(port_forwards=): {e}"));
    }
    bail!(
        "k8s_resource(port_forwards=): expected a port ('9000', '9000:8000', \
         'host:9000:8000', an int or port_forward(...)), not {}",
        v.get_type()
    )
}

/// One port forward or a list of them.
pub fn port_forwards(v: Value) -> anyhow::Result<Vec<PortForward>> {
    if v.is_none() {
        return Ok(Vec::new());
    }
    match items_of(v) {
        Some(items) => items.into_iter().map(one_port_forward).collect(),
        None => Ok(vec![one_port_forward(v)?]),
    }
}

/// A dict of labels or a list of them.
pub fn pod_selectors(v: Value) -> anyhow::Result<Vec<BTreeMap<String, String>>> {
    const WHAT: &str = "k8s_resource(extra_pod_selectors=)";
    if v.is_none() {
        return Ok(Vec::new());
    }
    let items = items_of(v).unwrap_or_else(|| vec![v]);
    items
        .into_iter()
        .map(|item| {
            if item.unpack_str().is_some() || items_of(item).is_some() {
                bail!(
                    "{WHAT} must be a dict of labels or a list of them, not {}",
                    item.get_type()
                );
            }
            str_dict(Some(item), WHAT)
        })
        .collect()
}

pub fn pod_readiness(s: &str) -> anyhow::Result<Option<PodReadiness>> {
    match s {
        "" => Ok(None),
        "wait" => Ok(Some(PodReadiness::Wait)),
        "ignore" => Ok(Some(PodReadiness::Ignore)),
        _ => bail!("k8s_resource(pod_readiness={s:?}): must be 'wait', 'ignore' or ''"),
    }
}

pub fn discovery(s: &str) -> anyhow::Result<Option<DiscoveryStrategy>> {
    match s {
        "" => Ok(None),
        "default" => Ok(Some(DiscoveryStrategy::Default)),
        "selectors-only" => Ok(Some(DiscoveryStrategy::SelectorsOnly)),
        _ => bail!(
            "k8s_resource(discovery_strategy={s:?}): must be 'default', 'selectors-only' or ''"
        ),
    }
}
