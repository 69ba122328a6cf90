//! The two checks every request passes, as pure functions: the `Host` header must
//! name the address stilt serves (a DNS-rebinding page's requests carry its own
//! host name), and a mutating request must carry the instance token, which only the
//! served page and the local client verbs can read (no CORS headers are ever sent,
//! so a foreign page can neither read the token nor send the header).

/// Why a request was refused, as the 403 body says it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "Host header {0:?} does not name this stilt's address (allowed: {1}); \
         requests through other host names are refused to block DNS rebinding"
    )]
    Host(String, String),
    #[error("missing or wrong X-Stilt-Token header: mutating requests need this instance's token")]
    Token,
}

/// Host names a request may use for a server bound to `bound_host` on `port`.
#[derive(Debug, Clone)]
pub struct HostRule {
    names: Vec<String>,
    port: u16,
}

impl HostRule {
    pub fn new(bound_host: &str, port: u16) -> HostRule {
        let bound = bound_host.trim_start_matches('[').trim_end_matches(']');
        let mut names = vec![bound.to_ascii_lowercase()];
        if is_loopback(bound) || is_unspecified(bound) {
            for n in ["localhost", "127.0.0.1", "::1"] {
                if !names.iter().any(|have| have == n) {
                    names.push(n.to_owned());
                }
            }
        }
        HostRule { names, port }
    }

    /// Accepts `name:port` where name is allowed and port is the served one.
    pub fn check(&self, header: Option<&str>) -> Result<(), Refusal> {
        let refuse = || {
            let allowed: Vec<String> = self
                .names
                .iter()
                .map(|n| format!("{}:{}", bracket(n), self.port))
                .collect();
            Refusal::Host(header.unwrap_or("").to_owned(), allowed.join(", "))
        };
        let h = header.ok_or_else(refuse)?.to_ascii_lowercase();
        let (name, port) = split_host(&h).ok_or_else(refuse)?;
        if port == self.port && self.names.iter().any(|n| n == name) {
            Ok(())
        } else {
            Err(refuse())
        }
    }
}

fn bracket(n: &str) -> String {
    if n.contains(':') {
        format!("[{n}]")
    } else {
        n.to_owned()
    }
}

/// `localhost:10350` or `[::1]:10350` -> (name, port); a missing port is 80.
fn split_host(h: &str) -> Option<(&str, u16)> {
    if let Some(rest) = h.strip_prefix('[') {
        let (name, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if after.is_empty() => 80,
            None => return None,
        };
        return Some((name, port));
    }
    match h.rsplit_once(':') {
        Some((name, p)) => Some((name, p.parse().ok()?)),
        None => Some((h, 80)),
    }
}

pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn is_unspecified(host: &str) -> bool {
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified())
}

/// Compares without stopping at the first difference, so timing tells nothing.
pub fn check_token(expected: &str, given: Option<&str>) -> Result<(), Refusal> {
    let given = given.unwrap_or("");
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    if diff == 0 && !expected.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_on_the_served_port_pass() {
        let rule = HostRule::new("127.0.0.1", 10350);
        for ok in [
            "localhost:10350",
            "127.0.0.1:10350",
            "[::1]:10350",
            "LOCALHOST:10350",
        ] {
            assert_eq!(rule.check(Some(ok)), Ok(()), "{ok}");
        }
    }

    #[test]
    fn other_names_other_ports_and_no_header_are_refused() {
        let rule = HostRule::new("127.0.0.1", 10350);
        for bad in [
            "evil.example:10350",
            "localhost:10351",
            "localhost",
            "[::1",
            "",
        ] {
            assert!(rule.check(Some(bad)).is_err(), "{bad}");
        }
        assert!(rule.check(None).is_err());
        let refusal = rule
            .check(Some("evil:10350"))
            .expect_err("refused")
            .to_string();
        assert!(
            refusal.contains("(allowed: 127.0.0.1:10350, localhost:10350, [::1]:10350)"),
            "{refusal}"
        );
    }

    #[test]
    fn a_non_loopback_bind_allows_its_own_address() {
        let rule = HostRule::new("10.1.2.3", 8080);
        assert_eq!(rule.check(Some("10.1.2.3:8080")), Ok(()));
        assert!(rule.check(Some("localhost:8080")).is_err());
    }

    #[test]
    fn the_token_must_match_exactly() {
        assert_eq!(check_token("abc", Some("abc")), Ok(()));
        assert!(check_token("abc", Some("abd")).is_err());
        assert!(check_token("abc", Some("ab")).is_err());
        assert!(check_token("abc", None).is_err());
        assert!(check_token("", Some("")).is_err());
    }
}
