//! `helm()` end to end: the bundled `examples/helm-web` through the real binary
//! against the real test cluster (`stilt ci` to a verdict, then `stilt down` leaving
//! nothing of ours), and the render cache seen from outside (a counting `helm`
//! wrapper: a reload whose chart did not change runs nothing).
//!
//! Needs `helm` on `$PATH` (`tests/tools/install-helm` puts it in
//! ~/.cache/stilt-tools/bin; `.ci/run` adds that to `$PATH`): without it the tests
//! are skipped, unless `STILT_TEST_KUBECONFIG` is set, when they fail naming the
//! install script.

use std::path::PathBuf;

/// Whether `tool` is on `$PATH`; `false` (the test is skipped) when it is not and
/// the cluster tests are off. Panics when they are on: CI must have installed it.
pub fn tool_or_skip(tool: &str) -> bool {
    if which(tool).is_some() {
        return true;
    }
    let cluster = std::env::var_os("STILT_TEST_KUBECONFIG").is_some_and(|v| !v.is_empty());
    assert!(
        !cluster,
        "`{tool}` is not on $PATH but STILT_TEST_KUBECONFIG is set: run tests/tools/install-helm \
         and add ~/.cache/stilt-tools/bin to $PATH (.ci/run does)"
    );
    eprintln!("skipped: `{tool}` not on $PATH (tests/tools/install-helm)");
    false
}

pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}
