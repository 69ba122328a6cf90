//! The data model shared by the JSON and YAML builtins, and its conversion to and
//! from Starlark values.
//!
//! Going through our own [`Data`] tree (rather than `serde_json::Value`) keeps map
//! keys in document order and ints apart from floats. starlark turns on serde_json's
//! `arbitrary_precision` feature crate-wide: serde_json then hands numbers to a
//! visitor as a one-entry map keyed by [`JSON_NUMBER_TOKEN`], which [`Data`]'s
//! visitor recognises and parses (the same thing `serde_json::Value` does).

use std::fmt;

use anyhow::bail;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use starlark::collections::SmallMap;
use starlark::values::dict::{Dict, DictRef};
use starlark::values::float::StarlarkFloat;
use starlark::values::list::{AllocList, ListRef};
use starlark::values::tuple::TupleRef;
use starlark::values::{Heap, UnpackValue, Value, ValueLike};

use super::blob::Blob;

/// The key serde_json uses to pass an arbitrary-precision number through `visit_map`.
const JSON_NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// A JSON/YAML document: what both formats can express.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    List(Vec<Data>),
    /// Entries in document order.
    Map(Vec<(Data, Data)>),
}

impl Data {
    fn from_number_text(s: &str) -> Option<Data> {
        if let Ok(i) = s.parse::<i64>() {
            return Some(Data::Int(i));
        }
        if let Ok(u) = s.parse::<u64>() {
            return Some(Data::UInt(u));
        }
        s.parse::<f64>().ok().map(Data::Float)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = Data;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON or YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Data, E> {
        Ok(Data::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Data, E> {
        Ok(Data::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Data, E> {
        Ok(i64::try_from(v).map_or(Data::UInt(v), Data::Int))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Data, E> {
        match (i64::try_from(v), u64::try_from(v)) {
            (Ok(i), _) => Ok(Data::Int(i)),
            (_, Ok(u)) => Ok(Data::UInt(u)),
            _ => Err(E::custom(format!("integer {v} is too large"))),
        }
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Data, E> {
        u64::try_from(v)
            .map(|u| i64::try_from(u).map_or(Data::UInt(u), Data::Int))
            .map_err(|_| E::custom(format!("integer {v} is too large")))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Data, E> {
        Ok(Data::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Data, E> {
        Ok(Data::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Data, E> {
        Ok(Data::Str(v))
    }
    fn visit_none<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }
    fn visit_unit<E>(self) -> Result<Data, E> {
        Ok(Data::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Data, D::Error> {
        Data::deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Data, D::Error> {
        Data::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Data, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Data>()? {
            items.push(item);
        }
        Ok(Data::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Data>()? {
            let value = map.next_value::<Data>()?;
            if entries.is_empty()
                && matches!(&key, Data::Str(k) if k == JSON_NUMBER_TOKEN)
                && let Data::Str(text) = &value
            {
                return Data::from_number_text(text)
                    .ok_or_else(|| de::Error::custom(format!("invalid number {text}")));
            }
            entries.push((key, value));
        }
        Ok(Data::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Data {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Data, D::Error> {
        d.deserialize_any(DataVisitor)
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Data::Null => s.serialize_unit(),
            Data::Bool(b) => s.serialize_bool(*b),
            Data::Int(i) => s.serialize_i64(*i),
            Data::UInt(u) => s.serialize_u64(*u),
            Data::Float(f) => s.serialize_f64(*f),
            Data::Str(v) => s.serialize_str(v),
            Data::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Data::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Builds the Starlark value for `d` (dicts keep entry order).
pub fn to_value<'v>(d: Data, heap: Heap<'v>) -> anyhow::Result<Value<'v>> {
    Ok(match d {
        Data::Null => Value::new_none(),
        Data::Bool(b) => Value::new_bool(b),
        Data::Int(i) => heap.alloc(i),
        Data::UInt(u) => heap.alloc(u),
        Data::Float(f) => heap.alloc(f),
        Data::Str(s) => heap.alloc(s),
        Data::List(items) => {
            let values = items
                .into_iter()
                .map(|i| to_value(i, heap))
                .collect::<anyhow::Result<Vec<_>>>()?;
            heap.alloc(AllocList(values))
        }
        Data::Map(entries) => {
            let mut map = SmallMap::with_capacity(entries.len());
            for (k, v) in entries {
                let key = to_value(k, heap)?;
                let hashed = key
                    .get_hashed()
                    .map_err(|e| anyhow::anyhow!("cannot use {key} as a dict key: {e}"))?;
                map.insert_hashed(hashed, to_value(v, heap)?);
            }
            heap.alloc(Dict::new(map))
        }
    })
}

/// Converts a Starlark value (None, bool, int, float, string, blob, list, tuple,
/// dict) to [`Data`]; anything else is an error naming its type.
pub fn from_value(v: Value) -> anyhow::Result<Data> {
    from_value_depth(v, 0)
}

fn from_value_depth(v: Value, depth: usize) -> anyhow::Result<Data> {
    if depth > 200 {
        bail!("value is nested too deeply (or contains itself)");
    }
    if v.is_none() {
        return Ok(Data::Null);
    }
    if let Some(b) = v.unpack_bool() {
        return Ok(Data::Bool(b));
    }
    if let Some(s) = v.unpack_str() {
        return Ok(Data::Str(s.to_owned()));
    }
    if let Some(b) = v.downcast_ref::<Blob>() {
        return Ok(Data::Str(b.text.clone()));
    }
    if let Some(f) = v.downcast_ref::<StarlarkFloat>() {
        return Ok(Data::Float(f.0));
    }
    if v.get_type() == "int" {
        if let Ok(Some(i)) = i64::unpack_value(v) {
            return Ok(Data::Int(i));
        }
        let text = v.to_str();
        return text
            .parse::<u64>()
            .map(Data::UInt)
            .map_err(|_| anyhow::anyhow!("integer {text} is too large to encode"));
    }
    let items = if let Some(l) = ListRef::from_value(v) {
        Some(l.content().to_vec())
    } else {
        TupleRef::from_value(v).map(|t| t.content().to_vec())
    };
    if let Some(items) = items {
        return items
            .into_iter()
            .map(|i| from_value_depth(i, depth + 1))
            .collect::<anyhow::Result<_>>()
            .map(Data::List);
    }
    if let Some(d) = DictRef::from_value(v) {
        return d
            .iter()
            .map(|(k, val)| {
                Ok((
                    from_value_depth(k, depth + 1)?,
                    from_value_depth(val, depth + 1)?,
                ))
            })
            .collect::<anyhow::Result<_>>()
            .map(Data::Map);
    }
    bail!("cannot encode a value of type {} ({v})", v.get_type())
}

#[cfg(test)]
mod tests {
    use super::Data;

    #[test]
    fn json_numbers_survive_arbitrary_precision() {
        let d: Data =
            serde_json::from_str(r#"{"b": 1, "a": [2.5, -3, null, 18446744073709551615]}"#)
                .unwrap();
        assert_eq!(
            d,
            Data::Map(vec![
                (Data::Str("b".into()), Data::Int(1)),
                (
                    Data::Str("a".into()),
                    Data::List(vec![
                        Data::Float(2.5),
                        Data::Int(-3),
                        Data::Null,
                        Data::UInt(u64::MAX)
                    ])
                ),
            ])
        );
    }

    #[test]
    fn yaml_keeps_order_and_types() {
        // `y` is a string key (YAML 1.2 booleans), not `true`.
        let d = super::super::encoding::parse_yaml("zz: 1\ny: 1.5\nx: ~\nw: [true, str]\n", "test")
            .unwrap();
        assert_eq!(
            d,
            Data::Map(vec![
                (Data::Str("zz".into()), Data::Int(1)),
                (Data::Str("y".into()), Data::Float(1.5)),
                (Data::Str("x".into()), Data::Null),
                (
                    Data::Str("w".into()),
                    Data::List(vec![Data::Bool(true), Data::Str("str".into())])
                ),
            ])
        );
    }
}
