//! Which resource names a Tiltfile may declare.
//!
//! Tilt checks a name with Kubernetes' path-segment rule (`ValidatePathSegmentName`):
//! not `.` or `..`, no `/` and no `%`, because the name becomes part of API paths.
//! stilt keeps that rule, so a Tiltfile stilt accepts is one Tilt accepts too, and adds
//! two of its own: no control characters (a newline in a name breaks every log line
//! and the one-line-per-resource views) and at most [`MAX_LEN`] characters (each
//! log line is prefixed with the name, padded to the longest one).

/// The longest name, in characters: a Kubernetes name label's limit, which real
/// resource names (service names, mostly) stay well within.
pub const MAX_LEN: usize = 63;

/// Why `name` cannot name a resource, if it cannot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadName {
    #[error("a resource name cannot be empty")]
    Empty,
    #[error("invalid resource name {0:?}: may not be '.' or '..'")]
    Dots(String),
    #[error("invalid resource name {name:?}: may not contain {found:?}")]
    Forbidden { name: String, found: char },
    #[error(
        "invalid resource name {name:?}: may not contain control characters \
         (found {found:?} at character {at})"
    )]
    Control {
        name: String,
        found: char,
        at: usize,
    },
    #[error(
        "invalid resource name {shown:?}...: {len} characters, more than the {MAX_LEN} \
         stilt allows"
    )]
    TooLong { shown: String, len: usize },
}

pub fn check(name: &str) -> Result<(), BadName> {
    if name.trim().is_empty() {
        return Err(BadName::Empty);
    }
    if name == "." || name == ".." {
        return Err(BadName::Dots(name.to_owned()));
    }
    if let Some(found) = name.chars().find(|c| matches!(c, '/' | '%')) {
        return Err(BadName::Forbidden {
            name: name.to_owned(),
            found,
        });
    }
    if let Some((i, found)) = name.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(BadName::Control {
            name: name.to_owned(),
            found,
            at: i + 1,
        });
    }
    let len = name.chars().count();
    if len > MAX_LEN {
        let shown = name.chars().take(MAX_LEN).collect();
        return Err(BadName::TooLong { shown, len });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tilt_and_compose_use_are_accepted() {
        for ok in [
            "web",
            "api-server",
            "db_1",
            "frontend.v2",
            "Build Docs",
            "ünïcode",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        assert_eq!(check(&"a".repeat(MAX_LEN)), Ok(()));
    }

    #[test]
    fn a_name_with_a_newline_or_tab_is_refused() {
        assert!(matches!(
            check("a\nb"),
            Err(BadName::Control {
                found: '\n',
                at: 2,
                ..
            })
        ));
        assert!(matches!(
            check("a\tb"),
            Err(BadName::Control { found: '\t', .. })
        ));
    }

    #[test]
    fn names_tilt_refuses_are_refused() {
        assert_eq!(check("."), Err(BadName::Dots(".".into())));
        assert_eq!(check(".."), Err(BadName::Dots("..".into())));
        assert!(matches!(
            check("a/b"),
            Err(BadName::Forbidden { found: '/', .. })
        ));
        assert!(matches!(
            check("50%"),
            Err(BadName::Forbidden { found: '%', .. })
        ));
        assert_eq!(check("  "), Err(BadName::Empty));
    }

    #[test]
    fn a_name_longer_than_the_limit_is_refused_with_its_length() {
        let long = "x".repeat(MAX_LEN + 1);
        assert!(matches!(check(&long), Err(BadName::TooLong { len, .. }) if len == MAX_LEN + 1));
    }
}
