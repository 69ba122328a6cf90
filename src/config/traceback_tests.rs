use super::*;

fn frame(line: u32, func: &str, code: &str) -> String {
    format!("  * Tiltfile:{line}, in {func}\n      {code}")
}

#[test]
fn a_frame_repeated_by_runaway_recursion_is_shown_once_with_a_count() {
    let mut lines = vec!["Traceback (most recent call last):".to_owned()];
    lines.push(frame(3, "<module>", "f(0)"));
    lines.extend(std::iter::repeat_n(frame(2, "f", "return f(n+1)"), 2000));
    lines.push("error: Starlark call stack overflow".to_owned());
    let want = [
        "Traceback (most recent call last):".to_owned(),
        frame(3, "<module>", "f(0)"),
        frame(2, "f", "return f(n+1)"),
        "  ... the frame above repeated 1999 more times".to_owned(),
        "error: Starlark call stack overflow".to_owned(),
    ];
    assert_eq!(fold_repeated_frames(&lines.join("\n")), want.join("\n"));
}

#[test]
fn mutual_recursion_is_shown_as_one_cycle_with_a_count() {
    let cycle = [frame(2, "f", "g()"), frame(4, "g", "f()")];
    let mut lines: Vec<String> = Vec::new();
    for _ in 0..10 {
        lines.extend(cycle.iter().cloned());
    }
    let mut want: Vec<String> = cycle.to_vec();
    want.push("  ... the 2 frames above repeated 9 more times".to_owned());
    assert_eq!(fold_repeated_frames(&lines.join("\n")), want.join("\n"));
}

#[test]
fn a_short_traceback_is_left_as_it_is() {
    let text = [
        "Traceback (most recent call last):".to_owned(),
        frame(9, "<module>", "f(1)"),
        frame(2, "f", "return f(n - 1)"),
        frame(2, "f", "return f(n - 1)"),
        "error: fail: boom".to_owned(),
    ]
    .join("\n");
    assert_eq!(fold_repeated_frames(&text), text);
}
