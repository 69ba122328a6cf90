//! `default_registry(host, host_from_cluster=, single_name=)`: the registry built
//! images are pushed to when the cluster cannot use the local Engine's images. It
//! only records the setting; the names are rewritten at push time
//! (`build::registry`).

use anyhow::bail;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::none::{NoneOr, NoneType};

use super::blob::Text;
use super::image_ref;
use crate::config::collect::Collector;
use crate::model::RegistrySpec;

/// Checks that `host` can start an image name (`domain[:port][/path]`, no tag).
fn check_host(what: &str, host: &str) -> anyhow::Result<()> {
    let probe = format!("{host}/x");
    match image_ref::parse(&probe) {
        Ok(r) if r.tag.is_none() && r.digest.is_none() && !host.contains("://") => Ok(()),
        Ok(_) => bail!("default_registry({what}={host:?}): a registry host takes no tag or scheme"),
        Err(e) => bail!("default_registry({what}={host:?}) is not a registry host: {e}"),
    }
}

/// The registry `default_registry(...)` describes; `None` for an empty host.
pub fn registry_of(
    host: &str,
    host_from_cluster: Option<&str>,
    single_name: &str,
) -> anyhow::Result<Option<RegistrySpec>> {
    let host = host.trim().trim_end_matches('/');
    if host.is_empty() {
        if host_from_cluster.is_some_and(|h| !h.is_empty()) || !single_name.is_empty() {
            bail!("default_registry(): host_from_cluster= and single_name= need a host");
        }
        return Ok(None);
    }
    check_host("host", host)?;
    let from_cluster = host_from_cluster
        .map(|h| h.trim().trim_end_matches('/'))
        .filter(|h| !h.is_empty());
    if let Some(h) = from_cluster {
        check_host("host_from_cluster", h)?;
    }
    let single = single_name.trim();
    if !single.is_empty() {
        let parsed = image_ref::parse(&format!("{host}/{single}"));
        if !parsed.is_ok_and(|r| r.tag.is_none() && r.digest.is_none()) {
            bail!("default_registry(single_name={single:?}) is not a valid image name");
        }
    }
    Ok(Some(RegistrySpec {
        host: host.to_owned(),
        host_from_cluster: from_cluster.map(str::to_owned),
        single_name: (!single.is_empty()).then(|| single.to_owned()),
    }))
}

#[starlark_module]
fn registry_module(b: &mut GlobalsBuilder) {
    fn default_registry<'v>(
        #[starlark(require = pos)] host: Text,
        #[starlark(default = NoneOr::None)] host_from_cluster: NoneOr<&str>,
        #[starlark(default = "")] single_name: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> anyhow::Result<NoneType> {
        let host = host.as_str();
        let c = Collector::get(eval)?;
        let registry = registry_of(host, host_from_cluster.into_option(), single_name)?;
        let mut settings = c.settings.borrow_mut();
        if let Some(previous) = &settings.k8s.registry {
            bail!(
                "default_registry() is already set (to {:?}): call it once",
                previous.host
            );
        }
        settings.k8s.registry = registry;
        Ok(NoneType)
    }
}

pub fn register(b: &mut GlobalsBuilder) {
    registry_module(b);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_with_ports_and_paths_are_accepted() {
        let r = registry_of("localhost:5000/", Some("registry:5000"), "")
            .expect("valid")
            .expect("a registry");
        assert_eq!(r.host, "localhost:5000");
        assert_eq!(r.host_from_cluster.as_deref(), Some("registry:5000"));
        let gcr = registry_of("gcr.io/my-project", None, "dev").expect("valid");
        assert_eq!(gcr.and_then(|r| r.single_name).as_deref(), Some("dev"));
    }

    #[test]
    fn bad_hosts_and_names_are_errors_that_say_which_argument() {
        let e = registry_of("http://localhost:5000", None, "").expect_err("scheme");
        assert!(e.to_string().contains("host="), "{e}");
        let e = registry_of("Local Host", None, "").expect_err("spaces");
        assert!(e.to_string().contains("not a registry host"), "{e}");
        let e = registry_of("localhost:5000", Some("reg:5000:1"), "").expect_err("bad");
        assert!(e.to_string().contains("host_from_cluster="), "{e}");
        let e = registry_of("localhost:5000", None, "Bad_Name:tag").expect_err("bad");
        assert!(e.to_string().contains("single_name="), "{e}");
        assert!(registry_of("", Some("x:1"), "").is_err());
    }

    #[test]
    fn an_empty_host_is_no_registry() {
        assert_eq!(registry_of("", None, "").expect("valid"), None);
    }
}
