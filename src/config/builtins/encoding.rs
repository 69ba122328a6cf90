//! `decode_json`, `encode_json`, `decode_yaml(_stream)`, `encode_yaml(_stream)`, and
//! the parsers `read_json` / `read_yaml` share.
//!
//! Encoders return a blob, as in Tilt. JSON is encoded with two-space indentation
//! and a trailing newline; YAML keeps dict order. Parse errors say where the text
//! came from and the line and column the parser reports.

use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::list::{AllocList, ListRef};
use starlark::values::tuple::TupleRef;

use super::blob::{Blob, text_of};
use super::data::{Data, from_value, to_value};

/// Parses JSON text; `source` names it in errors ("file /a/b.json", "decode_json()").
pub fn parse_json(text: &str, source: &str) -> anyhow::Result<Data> {
    serde_json::from_str::<Data>(text).map_err(|e| {
        anyhow::anyhow!(
            "cannot parse {source} as JSON: line {}, column {}: {e}",
            e.line(),
            e.column()
        )
    })
}

fn yaml_error(e: &serde_saphyr::Error, source: &str) -> anyhow::Error {
    // The error's own text carries "line L column C" (the snippet would name
    // `<input>` rather than the file, so leave it out).
    let text = e.without_snippet().to_string();
    let text = text.trim().trim_start_matches("error: ");
    anyhow::anyhow!("cannot parse {source} as YAML: {text}")
}

/// YAML 1.2 core schema booleans: `yes`, `on`, `y` stay strings (as in
/// go-yaml v3), so a GitHub-style `on:` key is not turned into `true`.
fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! { strict_booleans: true }
}

/// Parses one YAML document; empty text is `None`, as in Tilt.
pub fn parse_yaml(text: &str, source: &str) -> anyhow::Result<Data> {
    if text.trim().is_empty() {
        return Ok(Data::Null);
    }
    serde_saphyr::from_str_with_options::<Data>(text, yaml_options())
        .map_err(|e| yaml_error(&e, source))
}

/// Parses a `---`-separated YAML stream; empty documents are skipped, as in Tilt.
pub fn parse_yaml_stream(text: &str, source: &str) -> anyhow::Result<Vec<Data>> {
    let docs = serde_saphyr::from_multiple_with_options::<Data>(text, yaml_options())
        .map_err(|e| yaml_error(&e, source))?;
    Ok(docs.into_iter().filter(|d| *d != Data::Null).collect())
}

pub fn to_json(v: Value) -> anyhow::Result<String> {
    let data = from_value(v).map_err(|e| anyhow::anyhow!("encode_json(): {e}"))?;
    if let Data::Map(entries) = &data
        && let Some((k, _)) = entries.iter().find(|(k, _)| !matches!(k, Data::Str(_)))
    {
        anyhow::bail!("encode_json(): dict keys must be strings, got {k:?}");
    }
    let mut s =
        serde_json::to_string_pretty(&data).map_err(|e| anyhow::anyhow!("encode_json(): {e}"))?;
    s.push('\n');
    Ok(s)
}

fn to_yaml(v: Value) -> anyhow::Result<String> {
    let data = from_value(v).map_err(|e| anyhow::anyhow!("encode_yaml(): {e}"))?;
    serde_saphyr::to_string(&data).map_err(|e| anyhow::anyhow!("encode_yaml(): {e}"))
}

fn list_items<'v>(v: Value<'v>, what: &str) -> anyhow::Result<Vec<Value<'v>>> {
    if let Some(l) = ListRef::from_value(v) {
        return Ok(l.content().to_vec());
    }
    if let Some(t) = TupleRef::from_value(v) {
        return Ok(t.content().to_vec());
    }
    anyhow::bail!("{what} must be a list, not {}", v.get_type())
}

#[starlark_module]
fn encoding_module(b: &mut GlobalsBuilder) {
    fn decode_json<'v>(
        #[starlark(require = pos)] json: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let text = text_of(json, "decode_json() argument")?;
        to_value(parse_json(&text, "decode_json() argument")?, eval.heap())
    }

    fn encode_json<'v>(#[starlark(require = pos)] obj: Value<'v>) -> anyhow::Result<Blob> {
        Ok(Blob::new(to_json(obj)?))
    }

    fn decode_yaml<'v>(
        #[starlark(require = pos)] yaml: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let text = text_of(yaml, "decode_yaml() argument")?;
        to_value(parse_yaml(&text, "decode_yaml() argument")?, eval.heap())
    }

    fn decode_yaml_stream<'v>(
        #[starlark(require = pos)] yaml: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<Value<'v>> {
        let text = text_of(yaml, "decode_yaml_stream() argument")?;
        let docs = parse_yaml_stream(&text, "decode_yaml_stream() argument")?;
        docs_value(docs, eval)
    }

    fn encode_yaml<'v>(#[starlark(require = pos)] obj: Value<'v>) -> anyhow::Result<Blob> {
        Ok(Blob::new(to_yaml(obj)?))
    }

    fn encode_yaml_stream<'v>(#[starlark(require = pos)] objs: Value<'v>) -> anyhow::Result<Blob> {
        let docs = list_items(objs, "encode_yaml_stream() argument")?
            .into_iter()
            .map(to_yaml)
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Blob::new(docs.join("---\n")))
    }
}

/// A list value of YAML documents.
pub fn docs_value<'v>(docs: Vec<Data>, eval: &Evaluator<'v, '_, '_>) -> anyhow::Result<Value<'v>> {
    let heap = eval.heap();
    let values = docs
        .into_iter()
        .map(|d| to_value(d, heap))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(heap.alloc(AllocList(values)))
}

pub fn register(b: &mut GlobalsBuilder) {
    encoding_module(b);
}
