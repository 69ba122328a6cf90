//! Tilt builtins stilt does not support yet: calling one fails with a clear message
//! at the call site, instead of Starlark's "Variable `docker_build` not found".

use std::fmt;

use allocative::Allocative;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::{
    AllocFrozenValue, FrozenHeap, FrozenValue, NoSerialize, ProvidesStaticType, StarlarkPagable,
    StarlarkValue, Value, starlark_value,
};

/// Tilt builtins that are planned but not implemented, with the capability they belong to.
pub const NOT_YET: &[(&str, &str)] = &[
    ("secret_settings", "secret scrubbing"),
    ("local_git_repo", "git helpers"),
    ("disable_snapshots", "snapshots"),
];

#[derive(Debug, ProvidesStaticType, NoSerialize, StarlarkPagable, Allocative)]
pub struct Unsupported {
    name: String,
    area: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<builtin {}>", self.name)
    }
}

#[starlark_value(type = "builtin_function_or_method")]
impl<'v> StarlarkValue<'v> for Unsupported {
    fn invoke(
        &self,
        _me: Value<'v>,
        _args: &Arguments<'v, '_>,
        _eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        Err(starlark::Error::new_other(anyhow::anyhow!(
            "{}() is a Tilt builtin that stilt does not support yet ({}); \
             see docs/tiltfile-api.md for what works today",
            self.name,
            self.area
        )))
    }
}

impl AllocFrozenValue for Unsupported {
    fn alloc_frozen_value(self, heap: &FrozenHeap) -> FrozenValue {
        heap.alloc_simple(self)
    }
}

/// Tilt's `v1alpha1` module: the low-level API objects extensions create. The name
/// exists (a Tiltfile may test for it or pass it around); each constructor fails
/// clearly at its call until the extensions work lands.
pub const V1ALPHA1: &[&str] = &[
    "cmd",
    "config_map",
    "extension",
    "extension_repo",
    "file_watch",
    "kubernetes_apply",
    "kubernetes_discovery",
    "ui_button",
    "ui_text_input_spec",
    "ui_bool_input_spec",
    "ui_choice_input_spec",
    "ui_hidden_input_spec",
];

pub fn register(b: &mut GlobalsBuilder) {
    b.namespace("v1alpha1", |m| {
        for name in V1ALPHA1 {
            m.set(
                name,
                Unsupported {
                    name: format!("v1alpha1.{name}"),
                    area: "the low-level API that extensions use".to_owned(),
                },
            );
        }
    });
    for (name, area) in NOT_YET {
        b.set(
            name,
            Unsupported {
                name: (*name).to_owned(),
                area: (*area).to_owned(),
            },
        );
    }
}
