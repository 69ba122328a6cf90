use super::*;
use crate::config::nesting::MAX_DEPTH;

#[allow(clippy::result_large_err)]
fn load_src(src: &str) -> Result<Loaded, LoadFailure> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Tiltfile");
    std::fs::write(&path, src).expect("write Tiltfile");
    load(&LoadOptions {
        tiltfile: path,
        ..Default::default()
    })
}

/// Every shape of nesting the scan lets through, at its deepest (the `x =` takes one
/// level), loads on the load thread's stack even in a debug build; on the 2 MiB of a
/// test or tokio thread most of these abort the process.
#[test]
fn the_deepest_nesting_allowed_loads_in_every_shape() {
    let n = MAX_DEPTH - 1;
    let shapes = [
        format!("{}{}", "[".repeat(n), "]".repeat(n)),
        format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        format!("1{}", "+1".repeat(n)),
        format!("{}1", "-".repeat(n)),
        format!("{}True", "not ".repeat(n)),
        format!("{}1{}", "str(".repeat(n), ")".repeat(n)),
        format!("{}1{}", "{'k': ".repeat(n / 2), "}".repeat(n / 2)),
        format!("{}1", "1 if True else ".repeat(n / 2)),
    ];
    for shape in shapes {
        let src = format!("x = {shape}\n");
        if let Err(f) = load_src(&src) {
            panic!("{}...: {}", &src[..40.min(src.len())], f.error);
        }
    }
}

#[test]
fn nesting_past_the_limit_fails_the_load_with_its_location() {
    let src = format!("print(1)\nx = {}", "[".repeat(MAX_DEPTH + 10));
    let err = load_src(&src).expect_err("too deep").error;
    let at = err.location().expect("a location");
    assert_eq!((at.line, at.column), (2, 4 + MAX_DEPTH));
    assert!(err.to_string().contains("nested too deeply"), "{err}");
}
