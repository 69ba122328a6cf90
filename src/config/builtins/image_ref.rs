//! Image references as `docker_build` / `custom_build` / compose `image:` write them,
//! checked against Docker's grammar (`[domain[:port]/]path[:tag][@digest]`).
//!
//! stilt tags the images it builds itself (a content hash), so a declared image is
//! known by its name alone: [`parse`] splits the tag off for the caller to drop, and
//! [`same_image`] compares names the way Docker resolves them (`web` is
//! `docker.io/library/web`).

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Everything before the tag: `web`, `example.com:5000/team/web`.
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// Parses `s`, explaining what is wrong with it.
pub fn parse(s: &str) -> Result<ImageRef, String> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d.to_owned())),
        None => (s, None),
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (
            &rest[..last_slash + i],
            Some(rest[last_slash + i + 1..].to_owned()),
        ),
        None => (rest, None),
    };
    check_name(name)?;
    if let Some(t) = &tag {
        check_tag(t)?;
    }
    Ok(ImageRef {
        name: name.to_owned(),
        tag,
        digest,
    })
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the image name is empty".into());
    }
    let parts: Vec<&str> = name.split('/').collect();
    let has_domain = parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost");
    let path = if has_domain {
        check_domain(parts[0])?;
        &parts[1..]
    } else {
        &parts[..]
    };
    for p in path {
        if !is_path_component(p) {
            return Err(format!(
                "{p:?} is not a valid name component (lowercase letters, digits and \
                 single separators . _ __ - between them)"
            ));
        }
    }
    Ok(())
}

fn check_domain(d: &str) -> Result<(), String> {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (d, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(format!("{d:?} is not a valid registry host"))
    }
}

/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
fn is_path_component(p: &str) -> bool {
    let b = p.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn check_tag(t: &str) -> Result<(), String> {
    let ok = !t.is_empty()
        && t.len() <= 128
        && !t.starts_with(['.', '-'])
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!("{t:?} is not a valid tag"))
    }
}

/// The name Docker resolves `name` to, without the implicit `docker.io/library/`.
fn familiar(name: &str) -> &str {
    let n = name.strip_prefix("docker.io/").unwrap_or(name);
    n.strip_prefix("library/").unwrap_or(n)
}

/// Whether two references name the same image, ignoring tags and digests.
pub fn same_image(a: &str, b: &str) -> bool {
    match (parse(a), parse(b)) {
        (Ok(a), Ok(b)) => familiar(&a.name) == familiar(&b.name),
        _ => a == b,
    }
}

/// The name of `s` without its tag or digest (`s` itself if it does not parse).
pub fn without_tag(s: &str) -> String {
    parse(s).map_or_else(|_| s.to_owned(), |r| r.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_tags_and_registries_parse() {
        let r = parse("example.com:5000/team/web:v1.2").unwrap();
        assert_eq!(r.name, "example.com:5000/team/web");
        assert_eq!(r.tag.as_deref(), Some("v1.2"));
        assert_eq!(parse("web").unwrap().tag, None);
        assert_eq!(
            parse("localhost/a_b__c-d.e").unwrap().name,
            "localhost/a_b__c-d.e"
        );
        assert!(parse("web@sha256:abc").unwrap().digest.is_some());
    }

    #[test]
    fn invalid_references_are_rejected() {
        for bad in [
            "", "Web", "web:", "web:-x", "a//b", "a/-b", "web..x", "-web",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn same_image_ignores_tags_and_the_implicit_library() {
        assert!(same_image("postgres:13", "postgres"));
        assert!(same_image("docker.io/library/redis", "redis:7"));
        assert!(!same_image("team/web", "web"));
    }
}
