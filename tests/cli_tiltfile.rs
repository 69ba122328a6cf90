//! Tiltfiles that used to break the real binary rather than fail cleanly (issue 15):
//! each must end `stilt ci` with exit code 1 and a message naming the place.

use crate::cli::Fixture;

/// `stilt ci` on `tiltfile`: exit code 1 (not an abort) and `want` in the output.
fn ci_fails_with(tiltfile: &str, want: &[&str]) {
    let f = Fixture::new(tiltfile);
    let (code, out) = f.run(&["ci"]);
    assert_eq!(code, 1, "stilt ci should fail cleanly, got:\n{out}");
    for w in want {
        assert!(out.contains(w), "expected {w:?} in:\n{out}");
    }
}

#[test]
fn ci_refuses_700_nested_brackets_with_their_location_instead_of_aborting() {
    let src = format!("x = {}{}\n", "[".repeat(700), "]".repeat(700));
    ci_fails_with(&src, &["nested too deeply", "Tiltfile:1:504"]);
}

#[test]
fn ci_refuses_a_900_term_operator_chain_with_its_location_instead_of_aborting() {
    let src = format!("x = 1{}\n", "+1".repeat(900));
    ci_fails_with(&src, &["nested too deeply", "Tiltfile:1:1004"]);
}

#[test]
fn ci_refuses_a_long_run_of_unclosed_parens_with_its_location_instead_of_aborting() {
    let src = format!("print('hi')\nx = {}", "(".repeat(5000));
    ci_fails_with(&src, &["nested too deeply", "Tiltfile:2:504"]);
}

#[test]
fn ci_fails_on_a_tiltfile_that_declares_no_resources() {
    ci_fails_with(
        "print('nothing to run')\n",
        &["ERROR: No resources found. Check out https://docs.tilt.dev/tutorial.html"],
    );
}

#[test]
fn ci_fails_on_an_empty_tiltfile() {
    ci_fails_with("", &["No resources found"]);
}
