//! `k8s_kind(kind, api_version=None, image_json_path=None, image_object=None,
//! pod_readiness='')`: objects of a kind become workloads, with images at the given
//! JSONPaths. Only records the rule; `config::k8s::resources` applies it once
//! evaluation is over, so it also covers YAML declared before the call.

use anyhow::{Context, bail};
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::dict::DictRef;
use starlark::values::none::{NoneOr, NoneType};
use starlark::values::{Value, ValueLike};

use super::args::{items_of, text};
use super::blob::Text;
use crate::config::collect::{Collector, Declared, call_site};
use crate::config::k8s::jsonpath::JsonPath;
use crate::config::k8s::kinds::{ImageObject, KindRule};
use crate::config::k8s::select::regex;
use crate::model::PodReadiness;

/// `image_json_path=`: one path or a list of them.
fn json_paths(v: Value) -> anyhow::Result<Vec<JsonPath>> {
    if v.is_none() {
        return Ok(Vec::new());
    }
    let items = items_of(v).unwrap_or_else(|| vec![v]);
    items
        .into_iter()
        .map(|item| {
            let Some(s) = text(item) else {
                bail!(
                    "k8s_kind(image_json_path=) must be a string or a list of strings, not {}",
                    item.get_type()
                );
            };
            JsonPath::parse(&s).map_err(|e| anyhow::anyhow!("k8s_kind(image_json_path=): {e}"))
        })
        .collect()
}

/// `image_object=`: one `{'json_path', 'repo_field', 'tag_field'}` dict or a list.
fn image_objects(v: Value) -> anyhow::Result<Vec<ImageObject>> {
    if v.is_none() {
        return Ok(Vec::new());
    }
    let items = if DictRef::from_value(v).is_some() {
        vec![v]
    } else {
        items_of(v).unwrap_or_else(|| vec![v])
    };
    items.into_iter().map(image_object).collect()
}

fn image_object(v: Value) -> anyhow::Result<ImageObject> {
    let what = "k8s_kind(image_object=)";
    let Some(d) = DictRef::from_value(v) else {
        bail!(
            "{what} must be a dict with json_path, repo_field and tag_field, not {}",
            v.get_type()
        );
    };
    let field = |key: &str| -> anyhow::Result<String> {
        let value = d
            .iter()
            .find(|(k, _)| k.unpack_str() == Some(key))
            .map(|(_, val)| val)
            .with_context(|| format!("{what} needs the key {key:?}"))?;
        text(value)
            .with_context(|| format!("{what}[{key:?}] must be a string, not {}", value.get_type()))
    };
    for (k, _) in d.iter() {
        let k = k.to_value().to_str();
        if !["json_path", "repo_field", "tag_field"].contains(&k.as_str()) {
            bail!("{what}: unknown key {k:?} (expected json_path, repo_field, tag_field)");
        }
    }
    Ok(ImageObject {
        path: JsonPath::parse(&field("json_path")?).map_err(|e| anyhow::anyhow!("{what}: {e}"))?,
        repo_field: field("repo_field")?,
        tag_field: field("tag_field")?,
    })
}

fn pod_readiness(s: &str) -> anyhow::Result<Option<PodReadiness>> {
    match s {
        "" => Ok(None),
        "wait" => Ok(Some(PodReadiness::Wait)),
        "ignore" => Ok(Some(PodReadiness::Ignore)),
        _ => bail!("k8s_kind(pod_readiness={s:?}): must be 'wait', 'ignore' or ''"),
    }
}

/// A whole-string, case-insensitive regex (as Tilt matches kinds).
fn whole(pattern: &str, what: &str) -> anyhow::Result<regex::Regex> {
    Ok(regex(&format!("^(?:{pattern})$"), what, true)?)
}

#[starlark_module]
fn k8s_kind_module(b: &mut GlobalsBuilder) {
    fn k8s_kind<'v>(
        #[starlark(require = pos)] kind: Text,
        #[starlark(default = NoneOr::None)] api_version: NoneOr<&str>,
        #[starlark(default = NoneType)] image_json_path: Value<'v>,
        #[starlark(default = NoneType)] image_object: Value<'v>,
        #[starlark(default = "")] pod_readiness: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let kind = kind.as_str();
        let c = Collector::get(eval)?;
        if kind.is_empty() {
            bail!("k8s_kind() needs a kind");
        }
        let image_paths = json_paths(image_json_path)?;
        let image_objects = image_objects(image_object)?;
        if !image_paths.is_empty() && !image_objects.is_empty() {
            bail!("k8s_kind({kind:?}): pass image_json_path= or image_object=, not both");
        }
        let rule = KindRule {
            kind: whole(kind, "kind")?,
            api_version: api_version
                .into_option()
                .map(|a| whole(a, "api_version"))
                .transpose()?,
            image_paths,
            image_objects,
            pod_readiness: self::pod_readiness(pod_readiness)?,
        };
        c.k8s.borrow_mut().kinds.push(Declared {
            value: rule,
            at: call_site(eval),
        });
        Ok(NoneType)
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    k8s_kind_module(b);
}
