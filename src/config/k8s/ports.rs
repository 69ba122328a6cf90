//! `k8s_resource(port_forwards=)` specs as Tilt writes them: `'9000'`, `'9000:8000'`,
//! `'host:9000:8000'` or an int (`port_forward(...)` values are built directly).

use crate::model::PortForward;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PortSpecError {
    #[error("port forward {spec:?}: {part:?} is not a port (1-65535)")]
    NotAPort { spec: String, part: String },
    #[error("port forward {spec:?} is not LOCAL, LOCAL:CONTAINER or HOST:LOCAL:CONTAINER")]
    Shape { spec: String },
    #[error("port forward {0} is not a port (1-65535)")]
    OutOfRange(i64),
}

/// A port between 1 and 65535, or why `s` is not one.
pub fn port(s: &str, spec: &str) -> Result<u16, PortSpecError> {
    s.trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| PortSpecError::NotAPort {
            spec: spec.to_owned(),
            part: s.to_owned(),
        })
}

/// Parses a string spec.
pub fn parse(spec: &str) -> Result<PortForward, PortSpecError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, local, container) = match parts.as_slice() {
        [local] => (None, *local, None),
        [local, container] => (None, *local, Some(*container)),
        [host, local, container] if !host.trim().is_empty() => {
            (Some(host.trim()), *local, Some(*container))
        }
        _ => {
            return Err(PortSpecError::Shape {
                spec: spec.to_owned(),
            });
        }
    };
    Ok(PortForward {
        local_port: port(local, spec)?,
        container_port: container.map(|c| port(c, spec)).transpose()?,
        name: None,
        link_path: None,
        host: host.map(str::to_owned),
    })
}

/// An int spec: the local port, forwarded to the same container port.
pub fn from_int(n: i64) -> Result<PortForward, PortSpecError> {
    let local_port = u16::try_from(n)
        .ok()
        .filter(|p| *p > 0)
        .ok_or(PortSpecError::OutOfRange(n))?;
    Ok(PortForward {
        local_port,
        container_port: None,
        name: None,
        link_path: None,
        host: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_form_parses() {
        let pf = parse("9000").unwrap();
        assert_eq!((pf.local_port, pf.container_port()), (9000, 9000));
        let pf = parse("9000:8000").unwrap();
        assert_eq!((pf.local_port, pf.container_port), (9000, Some(8000)));
        let pf = parse("0.0.0.0:9000:8000").unwrap();
        assert_eq!(pf.host(), "0.0.0.0");
        assert_eq!(pf.url(), "http://localhost:9000/");
        assert_eq!(from_int(80).unwrap().local_port, 80);
    }

    #[test]
    fn bad_specs_are_errors_naming_them() {
        for bad in ["", "x", "0", "70000", "1:2:3:4", ":9000:80", "9000:"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
        assert!(from_int(-1).is_err());
        assert!(from_int(65536).is_err());
    }
}
