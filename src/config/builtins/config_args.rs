//! `config.*`: Tiltfile settings from `-- args` and `tilt_config.json`.
//!
//! `config.define_string/_string_list/_bool/_object(name, args=False, usage="")`
//! declare settings; `config.parse()` reads `tilt_config.json` in the main Tiltfile's
//! directory (recorded as read even when absent, so creating it reloads), then the
//! words after `--` with Go `flag` rules as Tilt does (`--name value`, `--name=value`,
//! `--flag`, repeated `--name` for lists, parsing stops at the first non-flag word,
//! and the rest go to the one `args=True` setting). Command-line values replace the
//! file's. `config.tilt_subcommand`, `config.main_path` and `config.main_dir` are
//! per-evaluation values set by [`super::per_eval`].

use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::Value;
use starlark::values::none::NoneType;

use super::args::list_of_str;
use super::blob::Text;
use super::data::{Data, to_value};
use super::encoding::parse_json;
use crate::config::collect::Collector;

/// The type of a `config.define_*` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    String,
    StringList,
    Bool,
    Object,
}

impl ArgKind {
    fn describe(self) -> &'static str {
        match self {
            ArgKind::String => "a string",
            ArgKind::StringList => "a list of strings",
            ArgKind::Bool => "a bool",
            ArgKind::Object => "a JSON object",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ArgDef {
    pub name: String,
    pub kind: ArgKind,
    /// Takes the positional words after `--`.
    pub args: bool,
    pub usage: String,
}

/// State of `config.define_*` / `config.parse` for one evaluation.
#[derive(Debug, Default)]
pub struct ConfigArgs {
    /// Whether `config.parse()` ran (then `-- args` are config values, not resource names).
    pub parsed: bool,
    pub defs: Vec<ArgDef>,
    /// What `config.parse()` returned, in definition order.
    pub values: Vec<(String, Data)>,
    /// `config.set_enabled_resources` (`Some(vec![])` after `clear_enabled_resources`).
    pub enabled_resources: Option<Vec<String>>,
}

/// Checks a `tilt_config.json` value against the setting's type.
fn check_file_value(def: &ArgDef, v: Data) -> anyhow::Result<Data> {
    let ok = match (&def.kind, &v) {
        (ArgKind::String, Data::Str(_)) | (ArgKind::Bool, Data::Bool(_)) => true,
        (ArgKind::Object, Data::Map(_)) => true,
        (ArgKind::StringList, Data::List(items)) => items.iter().all(|i| matches!(i, Data::Str(_))),
        _ => false,
    };
    if !ok {
        bail!(
            "tilt_config.json: setting {:?} must be {}, got {v:?}",
            def.name,
            def.kind.describe()
        );
    }
    Ok(v)
}

/// A command-line word for the setting `def`.
fn parse_word(def: &ArgDef, word: &str, flag: &str) -> anyhow::Result<Data> {
    Ok(match def.kind {
        ArgKind::String | ArgKind::StringList => Data::Str(word.to_owned()),
        ArgKind::Bool => match word {
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Data::Bool(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Data::Bool(false),
            _ => bail!("invalid value {word:?} for {flag}: expected a bool (true or false)"),
        },
        ArgKind::Object => {
            let v = parse_json(word, &format!("the value of {flag}"))?;
            if !matches!(v, Data::Map(_)) {
                bail!("invalid value {word:?} for {flag}: expected a JSON object");
            }
            v
        }
    })
}

/// Adds a command-line value (lists accumulate, others replace).
fn set_cli(values: &mut Vec<(String, Data)>, def: &ArgDef, v: Data) {
    let existing = values.iter_mut().find(|(k, _)| *k == def.name);
    match (def.kind, existing) {
        (ArgKind::StringList, Some((_, Data::List(items)))) => items.push(v),
        (ArgKind::StringList, None) => values.push((def.name.clone(), Data::List(vec![v]))),
        (_, Some((_, slot))) => *slot = v,
        (_, None) => values.push((def.name.clone(), v)),
    }
}

/// Parses the words after `--` against `defs`.
pub fn parse_args(defs: &[ArgDef], words: &[String]) -> anyhow::Result<Vec<(String, Data)>> {
    let mut values = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        if word == "--" {
            i += 1;
            break;
        }
        let Some(flag) = word
            .strip_prefix("--")
            .or_else(|| word.strip_prefix('-'))
            .filter(|f| !f.is_empty())
        else {
            break;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (flag, None),
        };
        let shown = format!("--{name}");
        let Some(def) = defs.iter().find(|d| d.name == name) else {
            let known: Vec<String> = defs.iter().map(|d| format!("--{}", d.name)).collect();
            bail!(
                "unknown flag {shown} after `--` (defined settings: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            );
        };
        let value = match (inline, def.kind) {
            (Some(v), _) => v.to_owned(),
            (None, ArgKind::Bool) => "true".to_owned(),
            (None, _) => {
                i += 1;
                match words.get(i) {
                    Some(v) => v.clone(),
                    None => bail!("flag {shown} needs a value"),
                }
            }
        };
        set_cli(&mut values, def, parse_word(def, &value, &shown)?);
        i += 1;
    }
    let positional = &words[i.min(words.len())..];
    if positional.is_empty() {
        return Ok(values);
    }
    let Some(def) = defs.iter().find(|d| d.args) else {
        bail!(
            "positional arguments {positional:?} were given after `--`, but no setting takes them \
             (define one with args=True)"
        );
    };
    let shown = format!("positional arguments (setting {:?})", def.name);
    match def.kind {
        ArgKind::StringList => {
            values.retain(|(k, _)| *k != def.name);
            let items = positional.iter().map(|w| Data::Str(w.clone())).collect();
            values.push((def.name.clone(), Data::List(items)));
        }
        _ => {
            let [word] = positional else {
                bail!("{shown}: expected at most one value, got {positional:?}");
            };
            set_cli(&mut values, def, parse_word(def, word, &shown)?);
        }
    }
    Ok(values)
}

fn define(
    eval: &Evaluator,
    name: &str,
    kind: ArgKind,
    args: bool,
    usage: &str,
) -> anyhow::Result<NoneType> {
    let c = Collector::get(eval)?;
    let mut cfg = c.config.borrow_mut();
    if name.is_empty() || name.starts_with('-') || name.contains('=') {
        bail!("invalid setting name {name:?}");
    }
    if cfg.parsed {
        bail!("config.define_*({name:?}) must come before config.parse()");
    }
    if cfg.defs.iter().any(|d| d.name == name) {
        bail!("config setting {name:?} is already defined");
    }
    if args && let Some(other) = cfg.defs.iter().find(|d| d.args) {
        bail!(
            "config setting {name:?} has args=True, but {:?} already takes the positional arguments",
            other.name
        );
    }
    cfg.defs.push(ArgDef {
        name: name.to_owned(),
        kind,
        args,
        usage: usage.to_owned(),
    });
    Ok(NoneType)
}

fn parse(c: &Collector) -> anyhow::Result<Vec<(String, Data)>> {
    let defs = c.config.borrow().defs.clone();
    let file = c.main_dir.join("tilt_config.json");
    c.record_read(&file);
    let mut values: Vec<(String, Data)> = Vec::new();
    match std::fs::read_to_string(&file) {
        Ok(text) => {
            let Data::Map(entries) = parse_json(&text, &format!("file {}", file.display()))? else {
                bail!("{}: must contain a JSON object", file.display());
            };
            for (k, v) in entries {
                let Data::Str(key) = k else { continue };
                let Some(def) = defs.iter().find(|d| d.name == key) else {
                    bail!(
                        "{}: unknown setting {key:?} (not defined with config.define_*)",
                        file.display()
                    );
                };
                values.push((key, check_file_value(def, v)?));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => bail!("cannot read {}: {e}", file.display()),
    }
    for (k, v) in parse_args(&defs, &c.args)? {
        match values.iter_mut().find(|(name, _)| *name == k) {
            Some(slot) => slot.1 = v,
            None => values.push((k, v)),
        }
    }
    // Definition order, so the result does not depend on where a value came from.
    values.sort_by_key(|(k, _)| defs.iter().position(|d| d.name == *k));
    Ok(values)
}

#[starlark_module]
fn config_module(b: &mut GlobalsBuilder) {
    fn define_string<'v>(
        #[starlark(require = pos)] name: Text,
        #[starlark(default = false)] args: bool,
        #[starlark(default = "")] usage: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let name = name.as_str();
        define(eval, name, ArgKind::String, args, usage)
    }

    fn define_string_list<'v>(
        #[starlark(require = pos)] name: Text,
        #[starlark(default = false)] args: bool,
        #[starlark(default = "")] usage: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let name = name.as_str();
        define(eval, name, ArgKind::StringList, args, usage)
    }

    fn define_bool<'v>(
        #[starlark(require = pos)] name: Text,
        #[starlark(default = false)] args: bool,
        #[starlark(default = "")] usage: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let name = name.as_str();
        define(eval, name, ArgKind::Bool, args, usage)
    }

    fn define_object<'v>(
        #[starlark(require = pos)] name: Text,
        #[starlark(default = false)] args: bool,
        #[starlark(default = "")] usage: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let name = name.as_str();
        define(eval, name, ArgKind::Object, args, usage)
    }

    /// A dict of the settings that were given a value.
    fn parse<'v>(eval: &mut Evaluator<'v, '_, '_>) -> anyhow::Result<Value<'v>> {
        let c = Collector::get(eval)?;
        let values = self::parse(c)?;
        {
            let mut cfg = c.config.borrow_mut();
            cfg.parsed = true;
            cfg.values = values.clone();
        }
        let entries = values.into_iter().map(|(k, v)| (Data::Str(k), v)).collect();
        to_value(Data::Map(entries), eval.heap())
    }

    fn set_enabled_resources<'v>(
        #[starlark(require = pos)] resources: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        let names = list_of_str(resources, "config.set_enabled_resources() argument")?;
        c.config.borrow_mut().enabled_resources = Some(names);
        Ok(NoneType)
    }

    fn clear_enabled_resources<'v>(eval: &mut Evaluator<'v, '_, '_>) -> anyhow::Result<NoneType> {
        let c = Collector::get(eval)?;
        c.config.borrow_mut().enabled_resources = Some(Vec::new());
        Ok(NoneType)
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    b.namespace("config", |b| {
        config_module(b);
        // Placeholders in the process-wide namespace; each evaluation's `config`
        // (see `per_eval`) carries the real values.
        b.set(super::per_eval::CONFIG_MARKER, "");
        b.set("main_path", "");
        b.set("main_dir", "");
    });
}

#[cfg(test)]
#[path = "config_args_tests.rs"]
mod tests;
