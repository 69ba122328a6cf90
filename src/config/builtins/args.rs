//! Unpacking the loosely typed arguments Tilt accepts (a string or a list, ...).

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use starlark::values::dict::DictRef;
use starlark::values::list::ListRef;
use starlark::values::tuple::TupleRef;
use starlark::values::{Value, ValueLike};

use super::blob::Blob;
use crate::config::collect::Collector;
use crate::model::{Cmd, TriggerMode};

/// What `TRIGGER_MODE_AUTO` and `TRIGGER_MODE_MANUAL` stand for (Tilt's values).
pub const TRIGGER_AUTO: i32 = 1;
pub const TRIGGER_MANUAL: i32 = 2;

/// The text of a string or a blob: Tilt accepts a blob (`local()`'s output, `read_file`)
/// wherever it takes a string.
pub fn text(v: Value) -> Option<String> {
    v.unpack_str()
        .map(str::to_owned)
        .or_else(|| v.downcast_ref::<Blob>().map(|b| b.text.clone()))
}

/// A string, or a list/tuple of strings; `None` gives an empty list.
pub fn str_or_list(v: Option<Value>, what: &str) -> anyhow::Result<Vec<String>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(Vec::new());
    };
    if let Some(s) = text(v) {
        return Ok(vec![s]);
    }
    list_of_str(v, what)
}

/// The items of a list or tuple; `None` for any other value.
pub fn items_of(v: Value) -> Option<Vec<Value>> {
    if let Some(l) = ListRef::from_value(v) {
        Some(l.content().to_vec())
    } else {
        TupleRef::from_value(v).map(|t| t.content().to_vec())
    }
}

/// A list or tuple of strings.
pub fn list_of_str(v: Value, what: &str) -> anyhow::Result<Vec<String>> {
    let Some(items) = items_of(v) else {
        bail!(
            "{what} must be a string or a list of strings, not {}",
            v.get_type()
        );
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            text(*item)
                .with_context(|| format!("{what}[{i}] must be a string, not {}", item.get_type()))
        })
        .collect()
}

/// A command: a non-empty string (run by `sh -c`, surrounding whitespace trimmed as in
/// Tilt) or an argv list; `""`, `[]` or `None` is no command.
pub fn cmd(v: Option<Value>, what: &str) -> anyhow::Result<Option<Cmd>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if let Some(s) = text(v) {
        let s = s.trim();
        return Ok((!s.is_empty()).then(|| Cmd::Shell(s.to_owned())));
    }
    let argv = list_of_str(v, what)?;
    Ok((!argv.is_empty()).then_some(Cmd::Argv(argv)))
}

/// A dict of string to string (env vars).
pub fn str_dict(v: Option<Value>, what: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let Some(v) = v.filter(|v| !v.is_none()) else {
        return Ok(BTreeMap::new());
    };
    let Some(d) = DictRef::from_value(v) else {
        bail!("{what} must be a dict of strings, not {}", v.get_type());
    };
    d.iter()
        .map(|(k, val)| {
            let k = k
                .unpack_str()
                .with_context(|| format!("{what} keys must be strings, got {}", k.get_type()))?;
            let val = text(val).unwrap_or_else(|| val.to_str());
            Ok((k.to_owned(), val))
        })
        .collect()
}

/// A resource's `trigger_mode=`: `None` takes the global `trigger_mode()` default.
pub fn trigger_mode_of(v: Value, c: &Collector) -> anyhow::Result<TriggerMode> {
    if v.is_none() {
        return Ok(c.default_trigger_mode.get());
    }
    match v.unpack_i32() {
        Some(TRIGGER_AUTO) => Ok(TriggerMode::Auto),
        Some(TRIGGER_MANUAL) => Ok(TriggerMode::Manual),
        _ => bail!("trigger_mode must be TRIGGER_MODE_AUTO or TRIGGER_MODE_MANUAL, got {v}"),
    }
}

/// Parses a Go-style duration ("30m", "1h30m", "90s", "500ms") as used by `ci_settings`.
pub fn go_duration(s: &str) -> anyhow::Result<std::time::Duration> {
    let s = s.trim();
    if s == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        bail!("empty duration");
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        let n: f64 = num.parse().with_context(|| {
            format!("invalid duration {s:?}: expected a number before the unit")
        })?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let secs = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => bail!("invalid duration {s:?}: unknown unit {unit:?} (use h, m, s or ms)"),
        };
        total += n * secs;
        rest = next;
    }
    Ok(std::time::Duration::from_secs_f64(total))
}

/// Unwraps `v` as `T`, naming the argument and the expected type on failure.
pub fn downcast<'v, T: starlark::values::StarlarkValue<'v>>(
    v: Value<'v>,
    what: &str,
    expected: &str,
) -> anyhow::Result<&'v T> {
    v.downcast_ref::<T>()
        .with_context(|| format!("{what} must be {expected}, not {}", v.get_type()))
}

#[cfg(test)]
mod tests {
    use super::{cmd, go_duration};
    use crate::model::Cmd;
    use starlark::values::Heap;

    #[test]
    fn a_string_command_is_trimmed_like_tilt() {
        Heap::temp(|heap| {
            let v = heap.alloc("\n  echo hi \n\t");
            assert_eq!(
                cmd(Some(v), "cmd").unwrap(),
                Some(Cmd::Shell("echo hi".to_owned()))
            );
        });
    }

    use std::time::Duration;

    #[test]
    fn go_durations_parse_like_go() {
        assert_eq!(go_duration("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(go_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(go_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(go_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(go_duration("0").unwrap(), Duration::ZERO);
        assert!(go_duration("10 minutes").is_err());
        assert!(go_duration("").is_err());
    }
}
