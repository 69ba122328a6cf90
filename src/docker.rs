//! The one way stilt connects to the Docker Engine, resolved the way the `docker` CLI
//! does: `DOCKER_HOST` if set; else the context named by `DOCKER_CONTEXT`, else the
//! `currentContext` of `$DOCKER_CONFIG/config.json` (`~/.docker/config.json`), whose
//! endpoint is in `contexts/meta/<sha256 of the name>/meta.json`; else the local
//! socket. The composition root (`cli/`) connects once and hands the client to the
//! builder, the live updater and the compose runtime, and the compose tool gets the
//! same endpoint in its environment, so nothing can talk to two different Engines.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Where the Engine is, and what said so (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub from: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot reach the Docker Engine at {host} ({from}): {source} (is Docker running?)")]
    Client {
        host: String,
        from: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("Docker context {name:?} ({from}) not found: no {path}")]
    NoContext {
        name: String,
        from: String,
        path: PathBuf,
    },
    #[error("Docker context {name:?}: cannot read {path}: {why}")]
    BadContext {
        name: String,
        path: PathBuf,
        why: String,
    },
    #[error(
        "the Docker Engine at {host} needs TLS (DOCKER_TLS_VERIFY is set), which this build of stilt does not support"
    )]
    Tls { host: String },
}

/// What the environment and the Docker config say, as plain values (testable).
#[derive(Debug, Default, Clone)]
pub struct Env {
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    pub docker_config: Option<PathBuf>,
    pub home: Option<PathBuf>,
    pub tls_verify: bool,
}

impl Env {
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            docker_host: var("DOCKER_HOST"),
            docker_context: var("DOCKER_CONTEXT"),
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            home: var("HOME").map(PathBuf::from),
            tls_verify: var("DOCKER_TLS_VERIFY").is_some_and(|v| v != "0"),
        }
    }

    fn config_dir(&self) -> Option<PathBuf> {
        self.docker_config
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".docker")))
    }
}

/// The Engine endpoint `env` names.
pub fn resolve(env: &Env) -> Result<Endpoint, ConnectError> {
    if let Some(host) = &env.docker_host {
        return Ok(Endpoint {
            host: host.clone(),
            from: "DOCKER_HOST".into(),
        });
    }
    let dir = env.config_dir();
    let (name, from) = match &env.docker_context {
        Some(c) => (Some(c.clone()), "DOCKER_CONTEXT".to_owned()),
        None => (
            dir.as_deref().and_then(current_context),
            "the current context of the Docker config".to_owned(),
        ),
    };
    let local = || Endpoint {
        host: DEFAULT_HOST.into(),
        from: "the default socket".into(),
    };
    let Some(name) = name.filter(|n| n != "default") else {
        return Ok(local());
    };
    let Some(dir) = dir else {
        return Ok(local());
    };
    let digest = hex::encode(Sha256::digest(name.as_bytes()));
    let path = dir.join("contexts/meta").join(digest).join("meta.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConnectError::NoContext { name, from, path });
        }
        Err(e) => {
            return Err(ConnectError::BadContext {
                name,
                path,
                why: e.to_string(),
            });
        }
    };
    let meta: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ConnectError::BadContext {
            name: name.clone(),
            path: path.clone(),
            why: e.to_string(),
        })?;
    let host = meta
        .pointer("/Endpoints/docker/Host")
        .and_then(|h| h.as_str())
        .ok_or_else(|| ConnectError::BadContext {
            name: name.clone(),
            path: path.clone(),
            why: "no Endpoints.docker.Host".into(),
        })?;
    Ok(Endpoint {
        host: host.to_owned(),
        from: format!("Docker context {name:?}"),
    })
}

fn current_context(config_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config_dir.join("config.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("currentContext")?.as_str().map(str::to_owned)
}

/// The endpoint stilt uses, for messages and for the compose tool's `DOCKER_HOST`.
pub fn endpoint() -> Result<Endpoint, ConnectError> {
    resolve(&Env::from_process())
}

/// The Engine `connect` talks to, for messages.
pub fn host() -> String {
    endpoint().map_or_else(|_| DEFAULT_HOST.to_owned(), |e| e.host)
}

/// A client for the Engine (no request is made yet: an Engine that is down is
/// reported by the first call that needs it).
pub fn connect() -> Result<bollard::Docker, ConnectError> {
    let env = Env::from_process();
    let ep = resolve(&env)?;
    if env.tls_verify {
        return Err(ConnectError::Tls { host: ep.host });
    }
    let client = if let Some(path) = ep.host.strip_prefix("unix://") {
        bollard::Docker::connect_with_socket(path, 120, bollard::API_DEFAULT_VERSION)
    } else {
        bollard::Docker::connect_with_http(&ep.host, 120, bollard::API_DEFAULT_VERSION)
    };
    client.map_err(|source| ConnectError::Client {
        host: ep.host,
        from: ep.from,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(dir: &Path, name: &str, host: &str) {
        let digest = hex::encode(Sha256::digest(name.as_bytes()));
        let meta = dir.join("contexts/meta").join(digest);
        std::fs::create_dir_all(&meta).unwrap();
        let json = serde_json::json!({"Name": name, "Endpoints": {"docker": {"Host": host}}});
        std::fs::write(meta.join("meta.json"), json.to_string()).unwrap();
    }

    #[test]
    fn docker_host_wins_then_docker_context_then_the_current_context_then_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        context(dir.path(), "remote", "tcp://10.0.0.5:2375");
        context(dir.path(), "other", "unix:///run/other.sock");
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext":"remote"}"#,
        )
        .unwrap();
        let mut env = Env {
            docker_config: Some(dir.path().to_path_buf()),
            ..Env::default()
        };
        assert_eq!(resolve(&env).unwrap().host, "tcp://10.0.0.5:2375");
        env.docker_context = Some("other".into());
        assert_eq!(resolve(&env).unwrap().host, "unix:///run/other.sock");
        env.docker_host = Some("tcp://127.0.0.1:1".into());
        assert_eq!(resolve(&env).unwrap().host, "tcp://127.0.0.1:1");
        let none = Env {
            docker_config: Some(dir.path().join("nothing")),
            ..Env::default()
        };
        assert_eq!(resolve(&none).unwrap().host, DEFAULT_HOST);
    }

    #[test]
    fn a_named_context_that_does_not_exist_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env {
            docker_config: Some(dir.path().to_path_buf()),
            docker_context: Some("gone".into()),
            ..Env::default()
        };
        let e = resolve(&env).unwrap_err().to_string();
        assert!(
            e.contains("\"gone\"") && e.contains("DOCKER_CONTEXT"),
            "{e}"
        );
    }
}
