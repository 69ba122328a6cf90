//! Tiltfile conformance: each directory under `tests/conformance/` holds a small
//! `Tiltfile` pinning one rule of how Tilt evaluates Tiltfiles (its header comment says
//! which, and where the rule comes from), and what `stilt alpha tiltfile-result` must
//! print for it:
//!
//! - `expected.json`: a pattern the JSON result must match. Objects match when every
//!   key of the pattern matches (keys the pattern leaves out are not checked); arrays
//!   and scalars match exactly; `{"$set": [...]}` matches an array with the same items in
//!   any order (where Tilt's order is not defined). `$DIR` in a string stands for the
//!   case's directory.
//! - or `expected_error.txt`: the load must fail, and each non-empty line must appear
//!   in the error output (`$DIR` as above).
//!
//! `tiltfile-result` only evaluates: nothing is built or started. A case that needs
//! arguments lists them, one per line, in `args.txt` (passed after `--`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// Where `got` differs from `want` (`at` is the JSON path so far).
fn mismatches(want: &Value, got: &Value, at: &str, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Array(g)) if w.len() == 1 && w.contains_key("$set") => {
            let mut want_items: Vec<String> = match &w["$set"] {
                Value::Array(items) => items.iter().map(Value::to_string).collect(),
                other => vec![other.to_string()],
            };
            let mut got_items: Vec<String> = g.iter().map(Value::to_string).collect();
            want_items.sort();
            got_items.sort();
            if want_items != got_items {
                out.push(format!(
                    "{at}: expected the set {want_items:?}, got {got_items:?}"
                ));
            }
        }
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => mismatches(wv, gv, &format!("{at}.{k}"), out),
                    None => out.push(format!("{at}.{k}: missing")),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                out.push(format!(
                    "{at}: {} items expected, got {}: {}",
                    w.len(),
                    g.len(),
                    serde_json::to_string(got).unwrap_or_default()
                ));
                return;
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                mismatches(wv, gv, &format!("{at}[{i}]"), out);
            }
        }
        _ if want == got => {}
        _ => out.push(format!("{at}: expected {want}, got {got}")),
    }
}

fn with_dir(v: Value, dir: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("$DIR", dir)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| with_dir(x, dir)).collect()),
        Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, x)| (k, with_dir(x, dir))).collect())
        }
        other => other,
    }
}

/// Runs one case; `Err` says what differs.
fn run_case(dir: &Path) -> Result<(), String> {
    let dir_s = dir.display().to_string();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stilt"));
    cmd.args(["alpha", "tiltfile-result", "-f"])
        .arg(dir.join("Tiltfile"))
        .current_dir(dir)
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("stilt-test-state"),
        );
    // Kubernetes cases read the case's own kubeconfig, never the user's.
    cmd.env("KUBECONFIG", dir.join("kubeconfig"));
    if let Ok(args) = std::fs::read_to_string(dir.join("args.txt")) {
        cmd.arg("--");
        cmd.args(args.lines().filter(|l| !l.is_empty()));
    }
    let out = cmd.output().map_err(|e| format!("cannot run stilt: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Ok(want) = std::fs::read_to_string(dir.join("expected_error.txt")) {
        if out.status.success() {
            return Err(format!("expected the load to fail; it printed:\n{stdout}"));
        }
        let text = format!("{stdout}{stderr}");
        let missing: Vec<String> = want
            .lines()
            .map(|l| l.replace("$DIR", &dir_s))
            .filter(|l| !l.trim().is_empty() && !text.contains(l.as_str()))
            .collect();
        return if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("missing from the error: {missing:?}\ngot:\n{text}"))
        };
    }
    if !out.status.success() {
        return Err(format!("the load failed:\n{stderr}"));
    }
    let got: Value =
        serde_json::from_str(&stdout).map_err(|e| format!("not JSON ({e}):\n{stdout}"))?;
    let want_text = std::fs::read_to_string(dir.join("expected.json"))
        .map_err(|e| format!("no expected.json or expected_error.txt: {e}"))?;
    let want: Value =
        serde_json::from_str(&want_text).map_err(|e| format!("expected.json is not JSON: {e}"))?;
    let want = with_dir(want, &dir_s);
    let mut diffs = Vec::new();
    mismatches(&want, &got, "$", &mut diffs);
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\nfull result:\n{stdout}", diffs.join("\n")))
    }
}

#[test]
fn every_conformance_case_matches_tilts_behaviour() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases())
        .expect("tests/conformance")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Tiltfile").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 20, "only {} cases found", dirs.len());
    // Independent evaluations: run them side by side.
    let results: Vec<Option<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .iter()
            .map(|d| {
                s.spawn(move || {
                    run_case(d).err().map(|e| {
                        format!(
                            "== {}\n{e}",
                            d.file_name().unwrap_or_default().to_string_lossy()
                        )
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Some("a case panicked".to_owned()))
            })
            .collect()
    });
    let failures: Vec<String> = results.into_iter().flatten().collect();
    assert!(
        failures.is_empty(),
        "{} of {} conformance cases differ:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}

#[test]
fn the_pattern_matcher_checks_what_the_pattern_names_and_nothing_else() {
    let got: Value = serde_json::json!({"a": 1, "b": [1, 2], "c": {"d": "x", "e": 2}});
    let mut d = Vec::new();
    mismatches(&serde_json::json!({"c": {"d": "x"}}), &got, "$", &mut d);
    assert!(d.is_empty(), "{d:?}");
    mismatches(&serde_json::json!({"b": [1]}), &got, "$", &mut d);
    mismatches(&serde_json::json!({"c": {"d": "y"}}), &got, "$", &mut d);
    mismatches(&serde_json::json!({"z": 1}), &got, "$", &mut d);
    assert_eq!(d.len(), 3, "{d:?}");
    let mut d = Vec::new();
    mismatches(
        &serde_json::json!({"b": {"$set": [2, 1]}}),
        &got,
        "$",
        &mut d,
    );
    assert!(d.is_empty(), "{d:?}");
    mismatches(
        &serde_json::json!({"b": {"$set": [2, 3]}}),
        &got,
        "$",
        &mut d,
    );
    assert_eq!(d.len(), 1, "{d:?}");
}
