//! `blob`: Tilt's value for file contents and command output.
//!
//! As in Tilt, `str(b)` (and `print(b)`, `"%s" % b`) gives the text, and functions
//! that take text (`decode_json`, `decode_yaml`, `local(stdin=)`, ...) accept a blob
//! or a string through [`text_of`].

use std::fmt;

use allocative::Allocative;
use anyhow::bail;
use starlark::starlark_simple_value;
use starlark::values::{
    NoSerialize, ProvidesStaticType, StarlarkValue, Value, ValueLike, starlark_value,
};

#[derive(Debug, Clone, PartialEq, Eq, ProvidesStaticType, NoSerialize, Allocative)]
pub struct Blob {
    pub text: String,
}
starlark_simple_value!(Blob);

impl Blob {
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

impl fmt::Display for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[starlark_value(type = "blob")]
impl<'v> StarlarkValue<'v> for Blob {
    fn to_bool(&self) -> bool {
        !self.text.is_empty()
    }

    fn equals(&self, other: Value<'v>) -> starlark::Result<bool> {
        Ok(other
            .downcast_ref::<Blob>()
            .is_some_and(|b| b.text == self.text))
    }

    fn length(&self) -> starlark::Result<i32> {
        i32::try_from(self.text.len()).map_err(|e| starlark::Error::new_other(anyhow::anyhow!(e)))
    }
}

/// The text of a string or blob argument.
pub fn text_of(v: Value, what: &str) -> anyhow::Result<String> {
    if let Some(s) = v.unpack_str() {
        return Ok(s.to_owned());
    }
    if let Some(b) = v.downcast_ref::<Blob>() {
        return Ok(b.text.clone());
    }
    bail!("{what} must be a string or a blob, not {}", v.get_type())
}

/// A string argument that also takes a blob, as Tilt accepts one wherever a string
/// goes (`docker_build(local('...'), ...)`, `read_file(str_or_blob)`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl starlark::values::type_repr::StarlarkTypeRepr for Text {
    type Canonical = Self;

    fn starlark_type_repr() -> starlark::typing::Ty {
        starlark::typing::Ty::union2(
            starlark::typing::Ty::string(),
            starlark::typing::Ty::starlark_value::<Blob>(),
        )
    }
}

impl<'v> starlark::values::UnpackValue<'v> for Text {
    type Error = std::convert::Infallible;

    fn unpack_value_impl(value: Value<'v>) -> Result<Option<Self>, Self::Error> {
        if let Some(s) = value.unpack_str() {
            return Ok(Some(Text(s.to_owned())));
        }
        Ok(value.downcast_ref::<Blob>().map(|b| Text(b.text.clone())))
    }
}
